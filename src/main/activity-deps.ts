import type { MikroORM } from '@mikro-orm/postgresql';
import type { ActivityDeps } from '../activities/index.js';
import type { AlertPolicy } from '../alerts/policy.js';
import { createSecretBox, type EncryptionKey } from '../crypto/secret-box.js';
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
  alerts?: AlertPolicy;
}): ActivityDeps & { close(): void } {
  const serviceTitan = createServiceTitanClient({ ...options.serviceTitan, logger: options.logger });
  return {
    orm: options.orm,
    logger: options.logger,
    secrets: createSecretBox(options.keys),
    serviceTitan,
    ...(options.chunkMs ? { chunkMs: options.chunkMs } : {}),
    ...(options.alerts ? { alerts: options.alerts } : {}),
    close: () => serviceTitan.close(),
  };
}
