import { sleep as realSleep } from './backoff.js';

export interface RateLimiterOptions {
  /** Steady rate allowed, requests per second. ServiceTitan: 60 per (app, tenant). */
  ratePerSecond: number;
  /**
   * Requests that may start back to back after an idle period. Default 1: ServiceTitan (like the
   * sandbox) counts requests in a sliding one-second window, so any burst on top of the steady
   * rate would be answered 429.
   */
  burst?: number;
  /** The adaptive rate never drops below this after repeated 429s. Default 1/s. */
  minRatePerSecond?: number;
  /** After a 429 the rate climbs back linearly to `ratePerSecond` over this long. Default 10 s. */
  recoveryMs?: number;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface RateLimiter {
  /** Resolves when the caller may send one request. FIFO: each call reserves the next slot. */
  acquire(signal?: AbortSignal): Promise<void>;
  /** A 429 arrived: halve the rate (at most once per second) and hold everyone for `retryAfterMs`. */
  onThrottled(retryAfterMs?: number): void;
  /** The rate currently enforced, requests per second. */
  currentRate(): number;
}

/**
 * A token bucket implemented as GCRA ("virtual scheduling"): instead of a token count it keeps
 * the theoretical arrival time of the next request, so waiting callers are served in order
 * without a queue or a timer of its own. A caller that aborts while waiting forfeits its slot.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const maxRate = options.ratePerSecond;
  if (!(maxRate > 0)) throw new RangeError('ratePerSecond must be > 0');
  const burst = Math.max(1, Math.floor(options.burst ?? 1));
  const minRate = Math.min(maxRate, options.minRatePerSecond ?? 1);
  const recoveryMs = options.recoveryMs ?? 10_000;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? realSleep;

  let tat = Number.NEGATIVE_INFINITY;
  let pausedUntil = Number.NEGATIVE_INFINITY;
  let throttledAt: number | undefined;
  let throttledRate = maxRate;

  const rateAt = (t: number): number => {
    if (throttledAt === undefined) return maxRate;
    const progress = Math.min(1, (t - throttledAt) / recoveryMs);
    if (progress >= 1) {
      throttledAt = undefined;
      return maxRate;
    }
    return throttledRate + (maxRate - throttledRate) * progress;
  };

  return {
    async acquire(signal) {
      signal?.throwIfAborted();
      const t = now();
      const interval = 1000 / rateAt(t);
      const tolerance = (burst - 1) * interval;
      const permittedAt = Math.max(t, pausedUntil, tat - tolerance);
      tat = Math.max(tat, permittedAt) + interval;
      if (permittedAt > t) await sleep(permittedAt - t, signal);
    },
    onThrottled(retryAfterMs) {
      const t = now();
      const current = rateAt(t);
      if (throttledAt === undefined || t - throttledAt >= 1000) {
        throttledRate = Math.max(minRate, current / 2);
        throttledAt = t;
      }
      if (retryAfterMs !== undefined && retryAfterMs > 0)
        pausedUntil = Math.max(pausedUntil, t + retryAfterMs);
      // No burst right after a throttle: the next requests are spaced at the reduced rate.
      const tolerance = (burst - 1) * (1000 / throttledRate);
      tat = Math.max(tat, Math.max(t, pausedUntil) + tolerance);
    },
    currentRate() {
      return rateAt(now());
    },
  };
}

/** One limiter per key (app key + tenant), shared by every caller holding the registry. */
export interface RateLimiterRegistry {
  get(key: string): RateLimiter;
}

export function createRateLimiterRegistry(options: RateLimiterOptions): RateLimiterRegistry {
  const limiters = new Map<string, RateLimiter>();
  return {
    get(key) {
      let limiter = limiters.get(key);
      if (!limiter) {
        limiter = createRateLimiter(options);
        limiters.set(key, limiter);
      }
      return limiter;
    },
  };
}
