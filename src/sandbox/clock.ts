/** The sandbox clock: manual by default (advanceTime), optionally also following the wall clock. */

export interface SandboxClock {
  nowMs(): number;
  advance(ms: number): void;
}

export function createSandboxClock(
  startMs: number,
  realTime: boolean,
  wallClock: () => number = Date.now,
): SandboxClock {
  const wallStart = wallClock();
  let advanced = 0;
  return {
    nowMs: () => startMs + advanced + (realTime ? wallClock() - wallStart : 0),
    advance(ms) {
      if (!Number.isFinite(ms) || ms < 0)
        throw new RangeError('advanceTime needs a finite, non-negative number of ms');
      advanced += ms;
    },
  };
}
