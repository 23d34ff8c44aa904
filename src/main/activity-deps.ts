import type { MikroORM } from '@mikro-orm/postgresql';
import type { ActivityDeps } from '../activities/index.js';
import { createSecretBox, type EncryptionKey } from '../crypto/secret-box.js';
import { createRateBudgetStore } from '../db/repositories/rate-budget.repository.js';
import type { Logger } from '../logger.js';
import { createServiceTitanClient, type ServiceTitanClientOptions } from '../servicetitan/index.js';

/** What every worker's activities need, built the same way by every composition root. */
export function createActivityDeps(options: {
  orm: MikroORM;
  logger: Logger;
  keys: readonly EncryptionKey[];
  serviceTitan: Pick<ServiceTitanClientOptions, 'appKey' | 'environments'> &
    Partial<Omit<ServiceTitanClientOptions, 'appKey' | 'environments' | 'logger'>>;
  chunkMs?: number;
  notifications?: ActivityDeps['notifications'];
}): ActivityDeps & { close(): void; drain(): void } {
  const draining = new AbortController();
  // Every worker process spends each tenant's one budget, kept in PostgreSQL.
  const serviceTitan = createServiceTitanClient({
    rateBudget: createRateBudgetStore(options.orm),
    ...options.serviceTitan,
    logger: options.logger,
  });
  return {
    orm: options.orm,
    logger: options.logger,
    secrets: createSecretBox(options.keys),
    serviceTitan,
    ...(options.chunkMs ? { chunkMs: options.chunkMs } : {}),
    draining: draining.signal,
    /** Chunks stop after the page in hand (call before stopping the worker). */
    drain: () => draining.abort(),
    ...(options.notifications ? { notifications: options.notifications } : {}),
    close: () => {
      serviceTitan.close();
      options.notifications?.mailer?.close();
    },
  };
}
