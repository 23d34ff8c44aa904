import { defineEntity, type InferEntity, p } from '@mikro-orm/core';

/**
 * ServiceTitan's request budget of one (app key, environment, tenant), shared by every process
 * that calls it (workers, the API's connection tests): each request reserves the next free slot
 * here, so N workers together send no more than the budget. Written only by
 * src/db/repositories/rate-budget.repository.ts, in single statements.
 */
export const RateBudget = defineEntity({
  name: 'RateBudget',
  tableName: 'servicetitan_rate_budgets',
  properties: {
    /** `<sha256 of app key, 16 hex>:<environment>:<tenant id>`: the key itself is never stored. */
    budgetKey: p.string().length(96).primary(),
    /** No request starts before this: the hold of a 429's Retry-After. */
    nextAt: p.datetime(),
    /** The latest requests' slots, oldest first: as many as the two windows count (the burst, or the rate). */
    recent: p.array().columnType('timestamptz[]').defaultRaw(`'{}'`),
    /** Set by a 429: the rate was cut to `throttledRate` then, and climbs back from there. */
    throttledAt: p.datetime().nullable(),
    throttledRate: p.double().nullable(),
  },
});
export type IRateBudget = InferEntity<typeof RateBudget>;
