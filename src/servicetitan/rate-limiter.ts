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
  /** Resolves when the caller may send one request. FIFO; an aborted waiter leaves the queue. */
  acquire(signal?: AbortSignal): Promise<void>;
  /** A 429 arrived: halve the rate (at most once per second) and hold everyone for `retryAfterMs`. */
  onThrottled(retryAfterMs?: number): void;
  /** The rate currently enforced, requests per second. */
  currentRate(): number;
}

/**
 * A token bucket with a FIFO queue of waiters, released one at a time by a single pump. Tokens
 * accrue on the real clock, so when the event loop stalls, waiters are not released in a bunch
 * afterwards (at most `burst` plus half a slot, the carry-over that absorbs timer lateness): the
 * server's sliding one-second window sees the same spacing we intended.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const maxRate = options.ratePerSecond;
  if (!(maxRate > 0)) throw new RangeError('ratePerSecond must be > 0');
  const burst = Math.max(1, Math.floor(options.burst ?? 1));
  const capacity = burst + 0.5;
  const minRate = Math.min(maxRate, options.minRatePerSecond ?? 1);
  const recoveryMs = options.recoveryMs ?? 10_000;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? realSleep;

  let tokens = burst;
  let refilledAt = now();
  let pausedUntil = Number.NEGATIVE_INFINITY;
  let throttledAt: number | undefined;
  let throttledRate = maxRate;
  const queue: { resolve: () => void; signal: AbortSignal | undefined }[] = [];
  let pumping = false;

  const rateAt = (t: number): number => {
    if (throttledAt === undefined) return maxRate;
    const progress = Math.min(1, (t - throttledAt) / recoveryMs);
    if (progress >= 1) {
      throttledAt = undefined;
      return maxRate;
    }
    return throttledRate + (maxRate - throttledRate) * progress;
  };

  const refill = (t: number): void => {
    if (t > refilledAt) {
      tokens = Math.min(capacity, tokens + ((t - refilledAt) * rateAt(t)) / 1000);
      refilledAt = t;
    }
  };

  const pump = async (): Promise<void> => {
    if (pumping) return;
    pumping = true;
    try {
      while (queue.length > 0) {
        const t = now();
        refill(t);
        if (t >= pausedUntil && tokens >= 1 - 1e-9) {
          tokens -= 1;
          queue.shift()?.resolve();
          continue;
        }
        const wait = Math.max(pausedUntil - t, ((1 - tokens) * 1000) / rateAt(t), 0);
        await sleep(Math.max(1, Math.ceil(wait)));
      }
    } finally {
      pumping = false;
    }
  };

  return {
    acquire(signal) {
      signal?.throwIfAborted();
      return new Promise<void>((resolve, reject) => {
        const waiter = {
          signal,
          resolve: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        const onAbort = () => {
          const i = queue.indexOf(waiter);
          if (i >= 0) queue.splice(i, 1);
          reject(signal?.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        queue.push(waiter);
        void pump();
      });
    },
    onThrottled(retryAfterMs) {
      const t = now();
      refill(t);
      const current = rateAt(t);
      if (throttledAt === undefined || t - throttledAt >= 1000) {
        throttledRate = Math.max(minRate, current / 2);
        throttledAt = t;
      }
      if (retryAfterMs !== undefined && retryAfterMs > 0)
        pausedUntil = Math.max(pausedUntil, t + retryAfterMs);
      // No burst right after a throttle: the next requests are spaced at the reduced rate.
      tokens = Math.min(tokens, 0);
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
