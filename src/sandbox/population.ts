/**
 * The change history of one stream of one tenant, in memory proportional to the number of
 * *changes*, never to the number of records.
 *
 * Records are addressed by a 1-based index. The initial block (indices 1..initialCount) was
 * modified before the sandbox start time, with `modifiedOn` non-decreasing in the index, so it
 * needs no storage at all. Sandbox time after the start is cut into ticks of `tickMs`; tick k
 * covers [start + (k-1)·tickMs, start + k·tickMs) and becomes visible, atomically, once the
 * clock reaches its end. A tick appends new indices and re-modifies a few existing ones; only
 * those touched indices get an entry in `states`.
 */

export type ChangeKind = 'create' | 'update' | 'deactivate' | 'reactivate' | 'merge';

export interface ChangeEntry {
  index: number;
  at: number;
  kind: ChangeKind;
  /** Merge target index, for kind 'merge'. */
  target?: number;
}

export interface RecordState {
  /** The tick of the latest change; 0 for an untouched initial record. Also the record's version. */
  tick: number;
  /** Epoch ms of the latest modification. */
  at: number;
  /** Epoch ms of creation for records created by a tick; undefined for the initial block. */
  createdAt: number | undefined;
  active: boolean;
  /** Index of the record this one was merged into; 0 when not merged. */
  mergedTo: number;
}

export interface TickPlan {
  /** Creation times of the indices appended by this tick, ascending. */
  created: number[];
  changes: ChangeEntry[];
}

export interface PopulationSpec {
  initialCount: number;
  /** Non-decreasing in `index`; all before the start time. */
  initialAt(index: number): number;
  initialStatus(index: number): { active: boolean; mergedTo: number };
  /** Plans tick k. `stateOf` sees the history up to tick k-1. Must be deterministic. */
  planTick(k: number, countBefore: number, stateOf: (index: number) => RecordState): TickPlan;
}

export interface FeedPosition {
  /** 0 = the initial block, k ≥ 1 = tick k. */
  segment: number;
  /** Number of items of the segment already walked past. */
  offset: number;
}

export interface Population {
  readonly initialCount: number;
  /** Makes ticks 1..k known (idempotent, monotonic). */
  ensureTicks(k: number): void;
  /** Number of records that exist once ticks 1..k happened. */
  countAt(k: number): number;
  /** Current state of a record (history up to the last ensured tick). */
  stateOf(index: number): RecordState;
  /** Items of a segment in feed order: indices of the initial block, or a tick's entries. */
  segmentLength(segment: number): number;
  indexAt(segment: number, offset: number): number;
  /** The created entries and changes of tick k merged in modifiedOn order. */
  tickEntries(k: number): readonly ChangeEntry[];
  /** First feed position whose modification time is ≥ `ms`, among ticks ≤ k. */
  positionForTime(ms: number, k: number): FeedPosition;
  /**
   * How many of records 1..`count` were last modified before `ms` (history up to the last ensured
   * tick): what scanning `stateOf` would find, in time that grows with the records changed since the
   * start rather than with the population.
   */
  countModifiedBefore(ms: number, count: number): number;
}

export interface PopulationTiming {
  startMs: number;
  tickMs: number;
}

export function createPopulation(spec: PopulationSpec, timing: PopulationTiming): Population {
  // ticks[k-1] holds tick k's entries sorted by (at, index); counts[k] = population after tick k.
  const ticks: ChangeEntry[][] = [];
  const counts: number[] = [spec.initialCount];
  const states = new Map<number, RecordState>();

  const stateOf = (index: number): RecordState => {
    const known = states.get(index);
    if (known) return known;
    const status = spec.initialStatus(index);
    return { tick: 0, at: spec.initialAt(index), createdAt: undefined, ...status };
  };

  const applyTick = (k: number): void => {
    const countBefore = counts[k - 1] ?? spec.initialCount;
    const plan = spec.planTick(k, countBefore, stateOf);
    const entries: ChangeEntry[] = plan.created.map((at, i) => ({
      index: countBefore + 1 + i,
      at,
      kind: 'create',
    }));
    entries.push(...plan.changes);
    entries.sort((a, b) => a.at - b.at || a.index - b.index);
    for (const entry of entries) {
      const previous = entry.kind === 'create' ? undefined : stateOf(entry.index);
      const next: RecordState = {
        tick: k,
        at: entry.at,
        createdAt: entry.kind === 'create' ? entry.at : previous?.createdAt,
        active: previous?.active ?? true,
        mergedTo: previous?.mergedTo ?? 0,
      };
      if (entry.kind === 'deactivate') next.active = false;
      if (entry.kind === 'reactivate') {
        next.active = true;
        next.mergedTo = 0;
      }
      if (entry.kind === 'merge') {
        next.active = false;
        next.mergedTo = entry.target ?? 0;
      }
      states.set(entry.index, next);
    }
    ticks.push(entries);
    counts.push(countBefore + plan.created.length);
  };

  const tickEntries = (k: number): readonly ChangeEntry[] => ticks[k - 1] ?? [];

  const firstIndexAtOrAfter = (ms: number): number => {
    // Binary search over the monotonic initial times: smallest index with initialAt ≥ ms.
    let lo = 1;
    let hi = spec.initialCount + 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (spec.initialAt(mid) >= ms) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };

  return {
    initialCount: spec.initialCount,
    ensureTicks(k) {
      while (ticks.length < k) applyTick(ticks.length + 1);
    },
    countAt: (k) => counts[Math.min(k, counts.length - 1)] ?? spec.initialCount,
    stateOf,
    segmentLength: (segment) => (segment === 0 ? spec.initialCount : tickEntries(segment).length),
    indexAt: (segment, offset) => (segment === 0 ? offset + 1 : (tickEntries(segment)[offset]?.index ?? 0)),
    tickEntries,
    countModifiedBefore(ms, count) {
      // The initial block is in modifiedOn order; a record changed or created since sits in `states`.
      const initialBefore = firstIndexAtOrAfter(ms) - 1;
      let before = Math.min(initialBefore, count);
      for (const [index, state] of states) {
        if (index > count) continue;
        if (index <= initialBefore) before--;
        if (state.at < ms) before++;
      }
      return before;
    },
    positionForTime(ms, k) {
      if (ms < timing.startMs) return { segment: 0, offset: firstIndexAtOrAfter(ms) - 1 };
      const tick = Math.floor((ms - timing.startMs) / timing.tickMs) + 1;
      if (tick > k) return { segment: k, offset: k === 0 ? spec.initialCount : tickEntries(k).length };
      const entries = tickEntries(tick);
      let lo = 0;
      let hi = entries.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((entries[mid]?.at ?? 0) >= ms) hi = mid;
        else lo = mid + 1;
      }
      return { segment: tick, offset: lo };
    },
  };
}
