import { describe, expect, it } from 'vitest';
import { createRateLimiter, createRateLimiterRegistry } from '../../../src/servicetitan/rate-limiter.js';

/** A virtual clock: sleeping advances time instantly, so permits can be read off the clock. */
function virtualTime() {
  let t = 0;
  return {
    now: () => t,
    sleep: async (ms: number) => {
      t += ms;
    },
    set: (v: number) => {
      t = v;
    },
  };
}

/** Acquires sequentially and records when each permit was granted. */
async function permitTimes(
  limiter: ReturnType<typeof createRateLimiter>,
  clock: ReturnType<typeof virtualTime>,
  n: number,
) {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    await limiter.acquire();
    times.push(clock.now());
  }
  return times;
}

describe('rate limiter (GCRA token bucket)', () => {
  it('when idle, then a burst goes through at once and the rest is spaced at the rate', async () => {
    const clock = virtualTime();
    const limiter = createRateLimiter({ ratePerSecond: 10, burst: 3, now: clock.now, sleep: clock.sleep });
    const times = await permitTimes(limiter, clock, 6);
    expect(times).toEqual([0, 0, 0, 100, 200, 300]);
    // (the first request of an idle limiter finds `burst` tokens)
  });

  it('when callers hammer it for 5 s, then no more than rate*5 + burst permits are granted', async () => {
    const clock = virtualTime();
    const limiter = createRateLimiter({ ratePerSecond: 60, burst: 10, now: clock.now, sleep: clock.sleep });
    let granted = 0;
    while (clock.now() < 5000) {
      await limiter.acquire();
      if (clock.now() < 5000) granted++;
    }
    expect(granted).toBeLessThanOrEqual(60 * 5 + 10);
    expect(granted).toBeGreaterThanOrEqual(60 * 5);
  });

  it('when many callers wait concurrently, then they are served in order, one per interval', async () => {
    const clock = virtualTime();
    const limiter = createRateLimiter({ ratePerSecond: 50, burst: 1, now: clock.now, sleep: clock.sleep });
    const order: [number, number][] = [];
    await Promise.all(
      Array.from({ length: 5 }, async (_, i) => {
        await limiter.acquire();
        order.push([i, clock.now()]);
      }),
    );
    expect(order.map(([i]) => i)).toEqual([0, 1, 2, 3, 4]);
    // Five permits at 50/s with no burst: the last one is granted 4 intervals after the first.
    expect(clock.now()).toBe(80);
  });

  it('when the event loop stalled, then waiters are not released in a bunch afterwards', async () => {
    const clock = virtualTime();
    const limiter = createRateLimiter({ ratePerSecond: 10, burst: 1, now: clock.now, sleep: clock.sleep });
    await limiter.acquire();
    clock.set(5000); // a long stall: tokens cap at burst + 0.5
    const times = await permitTimes(limiter, clock, 4);
    expect(times).toEqual([5000, 5050, 5150, 5250]);
  });

  it('when throttled, then the rate halves, holds for Retry-After, and recovers gradually', async () => {
    const clock = virtualTime();
    const limiter = createRateLimiter({
      ratePerSecond: 60,
      burst: 1,
      recoveryMs: 10_000,
      now: clock.now,
      sleep: clock.sleep,
    });
    await limiter.acquire();
    limiter.onThrottled(2000);
    expect(limiter.currentRate()).toBe(30);
    await limiter.acquire();
    expect(clock.now()).toBeGreaterThanOrEqual(2000);
    clock.set(7000); // 70% through recovery
    expect(limiter.currentRate()).toBeCloseTo(30 + 30 * 0.7, 5);
    clock.set(12_000);
    expect(limiter.currentRate()).toBe(60);
  });

  it('when several 429s arrive within a second, then the rate halves only once', () => {
    const clock = virtualTime();
    const limiter = createRateLimiter({ ratePerSecond: 60, now: clock.now, sleep: clock.sleep });
    for (let i = 0; i < 10; i++) limiter.onThrottled();
    expect(limiter.currentRate()).toBe(30);
    clock.set(1500);
    limiter.onThrottled();
    expect(limiter.currentRate()).toBeLessThan(30);
    expect(limiter.currentRate()).toBeGreaterThanOrEqual(1);
  });

  it('never drops below the minimum rate', () => {
    const clock = virtualTime();
    const limiter = createRateLimiter({
      ratePerSecond: 8,
      minRatePerSecond: 2,
      now: clock.now,
      sleep: clock.sleep,
    });
    for (let i = 0; i < 10; i++) {
      clock.set(i * 1000);
      limiter.onThrottled();
    }
    expect(limiter.currentRate()).toBe(2);
  });

  it('when aborted while waiting, then acquire rejects', async () => {
    const limiter = createRateLimiter({ ratePerSecond: 1, burst: 1 });
    await limiter.acquire();
    const controller = new AbortController();
    const waiting = limiter.acquire(controller.signal);
    controller.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
  });

  it('a registry hands out one shared limiter per key', () => {
    const registry = createRateLimiterRegistry({ ratePerSecond: 60 });
    expect(registry.get('app:t1')).toBe(registry.get('app:t1'));
    expect(registry.get('app:t1')).not.toBe(registry.get('app:t2'));
    // Separate registries (separate client instances) share nothing.
    expect(createRateLimiterRegistry({ ratePerSecond: 60 }).get('app:t1')).not.toBe(registry.get('app:t1'));
  });
});
