import { describe, expect, it } from 'vitest';
import { fullJitterDelay, nextDelay, sleep } from '../../../src/servicetitan/backoff.js';

describe('full-jitter backoff', () => {
  const options = { baseMs: 100, maxMs: 1000 };

  it('when the random draw is near 1, then the delay doubles per attempt up to the cap', () => {
    const top = () => 0.999999;
    expect([1, 2, 3, 4, 5, 6].map((a) => fullJitterDelay(a, options, top))).toEqual([
      99, 199, 399, 799, 999, 999,
    ]);
  });

  it('when the random draw is 0, then the delay is 0 (full jitter)', () => {
    expect(fullJitterDelay(5, options, () => 0)).toBe(0);
  });

  it('stays within [0, cap) for many random draws', () => {
    for (let attempt = 1; attempt < 20; attempt++) {
      const d = fullJitterDelay(attempt, options);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(1000);
    }
  });

  it('when the server advised a wait, then that wait is used plus a small jitter', () => {
    expect(nextDelay(1, 3000, options, () => 0)).toBe(3000);
    expect(nextDelay(1, 3000, options, () => 0.5)).toBe(3050);
  });

  it('when aborted, then sleep rejects with the reason', async () => {
    const controller = new AbortController();
    const p = sleep(10_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
  });
});
