/**
 * The export change feed. A `continueFrom` token is an opaque base64url JSON
 * `{v, s: stream, g: segment, o: offset}`: the feed walks the initial block (segment 0) and then
 * each tick's changes (segment k) in modifiedOn order. Each record is returned once, at its
 * latest version: where a record has a later version, its earlier position is skipped, and it
 * comes back at the position of that later change. A token at the end of the last tick stays
 * valid: once later ticks happen it returns exactly what changed since.
 */
import { parseUtc } from './list-query.js';
import type { FeedPosition, Population } from './population.js';
import type { SandboxStream } from './records.js';

const TOKEN_VERSION = 1;
const STREAM_TAGS: Record<SandboxStream, string> = {
  customers: 'cu',
  contacts: 'co',
  locations: 'lo',
  invoices: 'in',
};

export function encodeContinueFrom(stream: SandboxStream, position: FeedPosition): string {
  const json = JSON.stringify({
    v: TOKEN_VERSION,
    s: STREAM_TAGS[stream],
    g: position.segment,
    o: position.offset,
  });
  return Buffer.from(json).toString('base64url');
}

export type FromParseResult =
  | { ok: true; position: FeedPosition | { time: number } }
  | { ok: false; reason: string };

/** Accepts a token we issued for this stream, or a date/date-time string (inclusive lower bound on modifiedOn). */
export function parseFrom(stream: SandboxStream, from: string | undefined): FromParseResult {
  if (from === undefined || from === '') return { ok: true, position: { segment: 0, offset: 0 } };
  if (/^\d{4}-\d{2}-\d{2}/.test(from)) {
    const time = parseUtc(from);
    return Number.isNaN(time)
      ? { ok: false, reason: `'${from}' is not a valid date` }
      : { ok: true, position: { time } };
  }
  try {
    const decoded = JSON.parse(Buffer.from(from, 'base64url').toString('utf8')) as Record<string, unknown>;
    const { v, s, g, o } = decoded;
    if (v !== TOKEN_VERSION || typeof g !== 'number' || typeof o !== 'number' || g < 0 || o < 0) {
      return { ok: false, reason: 'The continuation token is malformed' };
    }
    if (s !== STREAM_TAGS[stream])
      return { ok: false, reason: 'The continuation token belongs to another export' };
    return { ok: true, position: { segment: Math.floor(g), offset: Math.floor(o) } };
  } catch {
    return { ok: false, reason: `'${from}' is neither a continuation token nor a date` };
  }
}

export interface FeedPage {
  indices: number[];
  next: FeedPosition;
  hasMore: boolean;
}

/**
 * Reads up to `pageSize` records from `start`, seeing ticks 1..currentTick. A position beyond the
 * current tick (a token from a "future" the clock has not reached) is clamped to the end.
 */
export function readFeedPage(
  population: Population,
  start: FeedPosition,
  pageSize: number,
  currentTick: number,
): FeedPage {
  let { segment, offset } = start;
  if (segment > currentTick) {
    segment = currentTick;
    offset = population.segmentLength(currentTick);
  }
  const emittable = (s: number, o: number): boolean =>
    population.stateOf(population.indexAt(s, o)).tick === s;
  const indices: number[] = [];
  for (;;) {
    const length = population.segmentLength(segment);
    if (offset >= length) {
      if (segment >= currentTick) break;
      segment++;
      offset = 0;
      continue;
    }
    if (indices.length >= pageSize) break;
    if (emittable(segment, offset)) indices.push(population.indexAt(segment, offset));
    offset++;
  }
  const next = { segment, offset: Math.min(offset, population.segmentLength(segment)) };
  // hasMore only when a record is really waiting; skipped positions alone do not count.
  let hasMore = false;
  if (indices.length >= pageSize) {
    let s = next.segment;
    let o = next.offset;
    while (s <= currentTick) {
      if (o >= population.segmentLength(s)) {
        s++;
        o = 0;
        continue;
      }
      if (emittable(s, o)) {
        hasMore = true;
        break;
      }
      o++;
    }
  }
  return { indices, next, hasMore };
}
