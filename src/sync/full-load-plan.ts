/**
 * How a full load splits a stream into windows over modifiedOn: how many windows each stream
 * gets from the tenant's request budget, and where their boundaries lie so that windows hold
 * similar record counts. Pure arithmetic; the requests are the planning activity's.
 */

/** Below this many records a window's planning and its page past its end cost more than it saves. */
export const minWindowRecords = 2_500;

/** What the export feed's pages hold when a stream was not probed (invoices' size, the smallest seen). */
const assumedExportPageSize = 200;

/**
 * Windows read at once by one run, across its streams. Each reader keeps one page request in
 * flight (the next page is fetched while the last one commits), so readers spend about
 * 1 / round trip requests each per second.
 *
 * Near the server (a round trip of a few ms) the CPU is the limit: on a 2-core machine running
 * the worker and PostgreSQL, 3 or 4 readers gave ~5,050 records/s in the sync bench, 6 gave
 * 4,525 and 8 gave 4,200 while every page still updated the run's row. Since each window
 * commits to its own row of sync_run_positions, 6 readers gave 9,501 and 9,207 against 9,619 and
 * 9,466 for 4 (alternated, a fast hour): the machine's two cores are ~80 % busy either way. Far
 * from it (hundreds of ms a page) readers wait for pages instead, so there are as many as spend
 * 80 % of the budget between them (14 at 300 ms and 60 req/s), at most 16; the shared rate
 * limiter enforces the budget whatever this says.
 */
export function readersFor(rateLimitPerSecond: number, roundTripMs = 0): number {
  const nearby = Math.min(4, Math.floor(rateLimitPerSecond / 6));
  const far = Math.min(16, Math.floor((0.8 * rateLimitPerSecond * roundTripMs) / 1000));
  return Math.max(1, nearby, far);
}

export interface StreamSize {
  /** Records the list endpoint reports (null when it gave no total). */
  records: number | null;
  /** Records on the export feed's first page when it had more (null when not probed). */
  exportPageSize: number | null;
}

/**
 * Windows per stream: the run's readers shared out in proportion to each stream's pages (a page
 * is a round trip), at least one per stream, and none smaller than `minWindowRecords`.
 *
 * The stream with the most pages gets its share rounded; the others round up, so their windows
 * hold no more pages than a reader's average and they end before it. Rounded down, a smaller
 * stream's one or two windows were the run's longest (10,000 customers at 300 ms and 16 readers:
 * one window of 20 pages beside invoices' 18), so the run ended on them and their hand-over, and the
 * members' derivation, which waits for customers and contacts, ran after every stream instead of
 * beside the invoices (0.5 s at the end). Rounded up: 5,312–6,016 against 5,275–5,439 records/s,
 * alternated, 6 runs each; without latency every smaller stream's share is below one window anyway.
 * The budget still holds whatever the sum: the shared rate limiter enforces it.
 */
export function windowCounts<S extends string>(
  sizes: Record<S, StreamSize>,
  readers: number,
): Record<S, number> {
  const entries = Object.entries(sizes) as [S, StreamSize][];
  const pages = (s: StreamSize) => (s.records ?? 0) / (s.exportPageSize ?? assumedExportPageSize);
  const allPages = entries.reduce((sum, [, s]) => sum + pages(s), 0);
  const largest = entries.reduce<S | undefined>(
    (found, [stream, size]) => (found === undefined || pages(size) > pages(sizes[found]) ? stream : found),
    undefined,
  );
  const counts = {} as Record<S, number>;
  for (const [stream, size] of entries) {
    const exact = allPages > 0 ? (readers * pages(size)) / allPages : 1;
    const share = stream === largest ? Math.round(exact) : Math.ceil(exact);
    const cap = size.exportPageSize === null ? 1 : Math.floor((size.records ?? 0) / minWindowRecords);
    counts[stream] = Math.max(1, Math.min(share, cap));
  }
  return counts;
}

/** `count` instants evenly spaced strictly inside (from, to), in ms. */
export function samplePoints(from: number, to: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => from + Math.round(((i + 1) * (to - from)) / (count + 1)));
}

export interface Sample {
  at: number;
  /** Records modified before `at`. */
  before: number;
}

export interface Span {
  /** Where the count is 0: the oldest modifiedOn. */
  oldest: number;
  /** Where the count is taken to reach `total`. */
  newest: number;
  total: number;
  windows: number;
}

/** The samples with both ends added, in time order, counts made non-decreasing and at most `total`. */
function cumulative(samples: Sample[], { oldest, newest, total }: Span): Sample[] {
  const points = [{ at: oldest, before: 0 }, ...samples, { at: newest, before: total }].sort(
    (a, b) => a.at - b.at,
  );
  // Counts taken a moment apart can disagree with each other: keep them non-decreasing.
  let floor = 0;
  return points.map((p) => {
    floor = Math.min(total, Math.max(floor, p.before));
    return { at: p.at, before: floor };
  });
}

/**
 * Where to count again: inside each sampled interval that holds more than one window's records
 * (recent months in a tenant's history, typically), enough instants to cut it into pieces of
 * about half a window, at most 2 × `windows` in all.
 */
export function refinementPoints(samples: Sample[], span: Span): number[] {
  const share = span.total / span.windows;
  const points = cumulative(samples, span);
  const extra: number[] = [];
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]!;
    const b = points[i]!;
    const held = b.before - a.before;
    if (held <= share || b.at - a.at < 2_000) continue;
    extra.push(...samplePoints(a.at, b.at, Math.ceil((2 * held) / share)));
  }
  return extra.slice(0, 2 * span.windows);
}

/**
 * The `windows - 1` boundaries (whole seconds, ascending) that split `total` records into windows
 * of similar counts, read off the sampled cumulative counts by linear interpolation between
 * samples.
 *
 * No boundary lies past the last sample that still had records after it: a boundary is then
 * never later than the newest modifiedOn at planning time, so every record changed during the
 * run lands past the last boundary (in the last window) whatever the feed's `from=date` means.
 */
export function boundariesFromSamples(samples: Sample[], span: Span): number[] {
  const { oldest, total, windows } = span;
  const points = cumulative(samples, span);
  const cap = Math.max(oldest, ...points.filter((p) => p.before < total).map((p) => p.at));
  const boundaries: number[] = [];
  for (let j = 1; j < windows; j++) {
    const target = (j * total) / windows;
    const i = points.findIndex((p) => p.before > target);
    if (i <= 0) continue;
    const a = points[i - 1]!;
    const b = points[i]!;
    const at = a.at + ((target - a.before) / (b.before - a.before)) * (b.at - a.at);
    const second = Math.floor(Math.min(at, cap) / 1000) * 1000;
    if (second > oldest && second > (boundaries.at(-1) ?? Number.NEGATIVE_INFINITY)) boundaries.push(second);
  }
  return boundaries;
}

/**
 * Samples the cumulative count in two rounds of requests sent together — 2 per window evenly over
 * the span, then up to 2 per window inside intervals that held too many.
 */
export async function sampleSpan(
  countBefore: (at: number) => Promise<number>,
  span: Span,
): Promise<Sample[]> {
  const sample = (instants: number[]) =>
    Promise.all(instants.map(async (at) => ({ at, before: await countBefore(at) })));
  const first = await sample(samplePoints(span.oldest, span.newest, 2 * span.windows));
  const second = await sample(refinementPoints(first, span));
  return [...first, ...second];
}
