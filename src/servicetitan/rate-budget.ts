import { createHash } from 'node:crypto';
import { sleep as realSleep } from './backoff.js';
import type { RateLimiter } from './rate-limiter.js';

/** The limits a budget enforces (the same numbers every process is configured with). */
export interface RateBudgetLimits {
  /** Requests per second the budget allows. */
  ratePerSecond: number;
  /** After repeated 429s the rate never drops below this. */
  minRatePerSecond: number;
  /** After a 429 the rate climbs back linearly to `ratePerSecond` over this long. */
  recoveryMs: number;
  /**
   * Requests that may start together: at most this many in any `burst / ratePerSecond` seconds,
   * besides at most `ratePerSecond` (rounded up) in any second: windows counted as ServiceTitan
   * counts its limit. A request that has to wait is still a 1/rate after the last. Default 1:
   * every request a 1/rate after the last. After a 429 it shrinks with the rate.
   */
  burst?: number;
}

/**
 * Where a tenant's request budget lives when several processes share it (PostgreSQL:
 * src/db/repositories/rate-budget.repository.ts). Each request reserves the next free slot, so
 * requests of every process together keep to the budget's rate and burst.
 */
export interface RateBudgetStore {
  /**
   * Reserves the next slot: how long to wait before sending, the rate now in force, and the
   * slot's instant on the store's clock.
   */
  reserve(key: string, limits: RateBudgetLimits): Promise<{ waitMs: number; rate: number; slotAt: Date }>;
  /** A 429 arrived: halve the shared rate (at most once a second) and hold everyone for `retryAfterMs`. */
  throttled(key: string, retryAfterMs: number, limits: RateBudgetLimits): Promise<void>;
}

/** The budget's key: the app key only as a digest (the table never holds it). */
export function rateBudgetKey(appKey: string, environment: string, tenantId: string): string {
  const app = createHash('sha256').update(appKey).digest('hex').slice(0, 16);
  return `${app}:${environment}:${tenantId}`;
}

/**
 * A rate limiter whose budget is shared through a store by every process that calls the tenant:
 * exact whatever the number of workers, at one short statement per request. A 429 (another
 * integration on the same app key, say) slows every process down, not only the one it reached.
 */
export function createSharedRateLimiter(options: {
  store: RateBudgetStore;
  key: string;
  limits: RateBudgetLimits;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}): RateLimiter {
  const { store, key, limits } = options;
  if (!(limits.ratePerSecond > 0)) throw new RangeError('ratePerSecond must be > 0');
  const sleep = options.sleep ?? realSleep;
  let rate = limits.ratePerSecond;
  // A throttle is recorded before this process's next reservation, so that one sees it.
  let throttling: Promise<void> = Promise.resolve();
  return {
    async acquire(signal) {
      signal?.throwIfAborted();
      await throttling;
      const slot = await store.reserve(key, limits);
      rate = slot.rate;
      if (slot.waitMs > 0) await sleep(Math.ceil(slot.waitMs), signal);
    },
    onThrottled(retryAfterMs) {
      // Failing to record a throttle only costs this process's neighbours another 429.
      throttling = store.throttled(key, Math.max(0, retryAfterMs ?? 0), limits).catch(() => {});
    },
    currentRate() {
      return rate;
    },
  };
}
