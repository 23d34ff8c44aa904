/** ServiceTitan's 60 requests/s per (app, tenant): a sliding one-second window on the wall clock. */

export interface RateLimiter {
  /** Records the request if allowed; otherwise says how long until a slot frees up. */
  take(key: string): { allowed: true } | { allowed: false; retryAfterMs: number };
}

export function createRateLimiter(perSecond: number, wallClock: () => number = Date.now): RateLimiter {
  const windows = new Map<string, number[]>();
  const disabled = !Number.isFinite(perSecond) || perSecond <= 0;
  return {
    take(key) {
      if (disabled) return { allowed: true };
      const now = wallClock();
      let stamps = windows.get(key);
      if (!stamps) {
        stamps = [];
        windows.set(key, stamps);
      }
      while (stamps.length > 0 && stamps[0]! <= now - 1000) stamps.shift();
      if (stamps.length >= perSecond) return { allowed: false, retryAfterMs: stamps[0]! + 1000 - now };
      stamps.push(now);
      return { allowed: true };
    },
  };
}
