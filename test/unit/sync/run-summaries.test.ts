import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRunSummaries } from '../../../src/sync/run-summaries.js';

describe('run summaries', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A pacer on the fake clock, and when each run's summaries started. */
  function setup() {
    const summaries = createRunSummaries({ intervalMs: 1_000, now: () => Date.now() });
    const started: Record<number, number[]> = {};
    const chunk = (run: number) =>
      summaries.forChunk(run, async () => {
        started[run] = [...(started[run] ?? []), Date.now()];
      });
    return { chunk, started };
  }

  it('when many chunks of one run commit pages, then the run is summarised about once a second, and every commit within a second', async () => {
    const { chunk, started } = setup();
    const chunks = Array.from({ length: 17 }, () => chunk(1));
    const commits: number[] = [];
    // Each chunk commits a page every 300 ms, the chunks spread over the first 300 ms, for 5 s.
    for (let t = 0; t < 5_000; t += 300 / chunks.length) {
      await vi.advanceTimersByTimeAsync(300 / chunks.length);
      const i = Math.round(t / (300 / chunks.length)) % chunks.length;
      commits.push(Date.now());
      await chunks[i]!.committed();
    }
    await vi.advanceTimersByTimeAsync(2_000);

    const runs = started[1]!;
    // One a second, and one more at most: 6 in 5 s where a summary per chunk made ~85.
    expect(runs.length).toBeLessThanOrEqual(7);
    for (let i = 1; i < runs.length; i++) expect(runs[i]! - runs[i - 1]!).toBeGreaterThanOrEqual(1_000);
    for (const at of commits) {
      const next = runs.find((s) => s > at);
      expect(next, `a summary after the commit at ${at} ms`).toBeDefined();
      expect(next! - at).toBeLessThanOrEqual(1_000);
    }
  });

  it('when a summary took up a chunk’s last commit, then that chunk sends no other', async () => {
    const { chunk, started } = setup();
    const a = chunk(1);
    const b = chunk(1);
    await a.committed(); // at once: the run's first
    await vi.advanceTimersByTimeAsync(100);
    await a.committed(); // due at 1,000 ms
    await vi.advanceTimersByTimeAsync(100);
    await b.committed(); // the same summary covers it
    await vi.advanceTimersByTimeAsync(5_000);
    expect(started[1]).toEqual([0, 1_000]);
  });

  it('when two runs commit at once, then each has its own summaries', async () => {
    const { chunk, started } = setup();
    await chunk(1).committed();
    await chunk(2).committed();
    expect(started).toEqual({ 1: [0], 2: [0] });
  });

  it('when a chunk flushes, then its run is summarised at once; when it stops, then a summary it waited for is dropped', async () => {
    const { chunk, started } = setup();
    const a = chunk(1);
    await a.committed();
    await vi.advanceTimersByTimeAsync(10);
    await a.flush();
    expect(started[1]).toEqual([0, 10]);
    await vi.advanceTimersByTimeAsync(10);
    await a.committed();
    a.stop();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(started[1]).toEqual([0, 10]);
  });
});
