import type { MikroORM } from '@mikro-orm/postgresql';
import type { ActivityDeps } from '../activities/index.js';
import type { AlertPolicy } from '../alerts/policy.js';
import { createSecretBox, type EncryptionKey } from '../crypto/secret-box.js';
import { createRateBudgetStore } from '../db/repositories/rate-budget.repository.js';
import type { Logger } from '../logger.js';
import { createMetrics, type Metrics } from '../metrics/index.js';
import { createBreakerStore } from '../servicetitan/breaker-store.js';
import { createServiceTitanClient, type ServiceTitanClientOptions } from '../servicetitan/index.js';

/** What every worker's activities need, built the same way by every composition root. */
export function createActivityDeps(options: {
  orm: MikroORM;
  logger: Logger;
  keys: readonly EncryptionKey[];
  serviceTitan: Pick<ServiceTitanClientOptions, 'appKey' | 'environments'> &
    Partial<Omit<ServiceTitanClientOptions, 'appKey' | 'environments' | 'logger' | 'observer'>>;
  chunkMs?: number;
  notifications?: ActivityDeps['notifications'];
  alerts?: AlertPolicy;
  /** The process's metrics (one registry per process); a registry of its own when absent. */
  metrics?: Metrics;
}): ActivityDeps & { close(): void; drain(): void; metrics: Metrics; breakersFlushed(): Promise<void> } {
  const draining = new AbortController();
  const metrics = options.metrics ?? createMetrics({ defaultMetrics: false });
  const breakers = createBreakerStore({ orm: options.orm, logger: options.logger });
  // Every worker process spends each tenant's one budget, kept in PostgreSQL.
  const rateBudget = createRateBudgetStore(options.orm);
  const serviceTitan = createServiceTitanClient({
    rateBudget,
    ...options.serviceTitan,
    logger: options.logger,
    observer: {
      ...metrics.serviceTitanObserver,
      breakerTransition(transition) {
        metrics.serviceTitanObserver.breakerTransition?.(transition);
        breakers.record(transition);
      },
    },
  });
  return {
    orm: options.orm,
    logger: options.logger,
    secrets: createSecretBox(options.keys),
    serviceTitan,
    metrics,
    breakersFlushed: () => breakers.flushed(),
    ...(options.chunkMs ? { chunkMs: options.chunkMs } : {}),
    ...(options.serviceTitan.rateLimitPerSecond
      ? { rateLimitPerSecond: options.serviceTitan.rateLimitPerSecond }
      : {}),
    draining: draining.signal,
    /** Chunks stop after the page in hand (call before stopping the worker). */
    drain: () => draining.abort(),
    ...(options.notifications ? { notifications: options.notifications } : {}),
    ...(options.alerts ? { alerts: options.alerts } : {}),
    close: () => {
      serviceTitan.close();
      rateBudget.close().catch(() => {});
      options.notifications?.mailer?.close();
    },
  };
}
