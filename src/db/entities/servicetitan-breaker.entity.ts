import { defineEntity, type InferEntity, p } from '@mikro-orm/core';

export const breakerStates = ['closed', 'half_open', 'open'] as const;

/**
 * The last circuit-breaker transition a worker saw for a ServiceTitan environment, so that the
 * API (which has no view of the workers' breakers) can show it. Each worker has its own breaker;
 * this row is the latest any of them reported.
 */
export const ServiceTitanBreaker = defineEntity({
  name: 'ServiceTitanBreaker',
  tableName: 'servicetitan_breakers',
  properties: {
    environment: p.string().length(16).primary(),
    state: p.enum(breakerStates),
    /** Consecutive failures that opened it. */
    failures: p.integer().default(0),
    openedAt: p.datetime().nullable(),
    /** When the open breaker lets a probe through (requests are paused until then). */
    retryAt: p.datetime().nullable(),
    updatedAt: p.datetime(),
  },
});
export type IServiceTitanBreaker = InferEntity<typeof ServiceTitanBreaker>;
