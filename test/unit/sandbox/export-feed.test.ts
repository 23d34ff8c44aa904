import { describe, expect, it } from 'vitest';
import { encodeContinueFrom, parseFrom, readFeedPage } from '../../../src/sandbox/export-feed.js';
import type { FeedPosition } from '../../../src/sandbox/population.js';
import type { SandboxStream } from '../../../src/sandbox/records.js';
import { createTenantData, STREAMS } from '../../../src/sandbox/tenant-data.js';

const HOUR = 3_600_000;
const START = Date.parse('2025-01-01T00:00:00Z');

function tenant() {
  return createTenantData({
    tenantId: 9,
    seed: 3,
    customers: 400,
    invoices: 700,
    changesPerTick: 25,
    newPerTick: 4,
    startMs: START,
    tickMs: HOUR,
    historyMs: 200 * 24 * HOUR,
  });
}

type Data = ReturnType<typeof tenant>;

/** Reads the feed like a client: follow continueFrom until hasMore=false. */
function readAll(data: Data, stream: SandboxStream, start: FeedPosition, pageSize: number) {
  const records: Record<string, unknown>[] = [];
  const pages: Record<string, unknown>[][] = [];
  let position = start;
  for (let guard = 0; guard < 10_000; guard++) {
    const page = readFeedPage(data.population(stream), position, pageSize, data.currentTick);
    const rendered = page.indices.map((i) => data.render(stream, i));
    pages.push(rendered);
    records.push(...rendered);
    position = page.next;
    if (!page.hasMore) return { records, pages, position };
  }
  throw new Error('feed did not end');
}

function groundTruth(data: Data, stream: SandboxStream) {
  return Array.from({ length: data.count(stream) }, (_, i) => data.render(stream, i + 1));
}

const byId = (records: Record<string, unknown>[]) => new Map(records.map((r) => [r.id as number, r]));

describe('sandbox export feed', () => {
  it.each(STREAMS)(
    'when %s is read from the beginning after some ticks, then every record comes once at its latest version, in modifiedOn order',
    (stream) => {
      const data = tenant();
      data.advanceTo(6);
      const { records } = readAll(data, stream, { segment: 0, offset: 0 }, 37);
      const truth = groundTruth(data, stream);
      expect(records.length).toBe(truth.length);
      expect(byId(records)).toEqual(byId(truth));
      const times = records.map((r) => Date.parse(r.modifiedOn as string));
      expect(times.every((t, i) => i === 0 || t >= times[i - 1]!)).toBe(true);
    },
  );

  it('when the kept continueFrom is used after time advanced, then only the records new or changed since come back, at their latest version', () => {
    const data = tenant();
    data.advanceTo(2);
    const first = readAll(data, 'customers', { segment: 0, offset: 0 }, 50);
    const before = byId(first.records);
    data.advanceTo(9);
    const second = readAll(data, 'customers', first.position, 50);
    const truth = byId(groundTruth(data, 'customers'));
    const expected = [...truth.values()].filter(
      (r) => JSON.stringify(before.get(r.id as number)) !== JSON.stringify(r),
    );
    expect(second.records.length).toBeGreaterThan(0);
    expect(new Set(second.records.map((r) => r.id)).size).toBe(second.records.length);
    expect(byId(second.records)).toEqual(byId(expected));
    // Caught up: the same token returns nothing until the clock moves again.
    const third = readAll(data, 'customers', second.position, 50);
    expect(third.records).toEqual([]);
  });

  it('when a read stops mid-way and time advances, then resuming still yields exactly the ground truth once merged', () => {
    const data = tenant();
    const partial = readFeedPage(
      data.population('invoices'),
      { segment: 0, offset: 0 },
      300,
      data.currentTick,
    );
    const seen = new Map<number, Record<string, unknown>>();
    for (const index of partial.indices)
      seen.set(data.idOf('invoices', index), data.render('invoices', index));
    data.advanceTo(12);
    const rest = readAll(data, 'invoices', partial.next, 100);
    for (const record of rest.records) seen.set(record.id as number, record);
    expect(seen).toEqual(byId(groundTruth(data, 'invoices')));
  });

  it('when pages are small, then records sharing a modifiedOn sometimes straddle a page boundary', () => {
    const data = tenant();
    const { pages } = readAll(data, 'customers', { segment: 0, offset: 0 }, 7);
    const straddles = pages.filter((page, i) => {
      const next = pages[i + 1];
      return page.length > 0 && next && next.length > 0 && page.at(-1)!.modifiedOn === next[0]!.modifiedOn;
    });
    expect(straddles.length).toBeGreaterThan(0);
  });

  it('when from is a date, then exactly the records modified on or after it are returned', () => {
    const data = tenant();
    data.advanceTo(4);
    for (const date of ['2024-11-01', '2025-01-01T02:00:00Z', '2024-05-01', '2030-01-01']) {
      const ms = Date.parse(date);
      const parsed = parseFrom('locations', date);
      expect(parsed.ok).toBe(true);
      const position = data.population('locations').positionForTime(ms, data.currentTick);
      const { records } = readAll(data, 'locations', position, 64);
      const expected = groundTruth(data, 'locations').filter((r) => Date.parse(r.modifiedOn as string) >= ms);
      expect(byId(records)).toEqual(byId(expected));
    }
  });

  it('when a token is round-tripped, then it decodes to the same position; tokens of other streams and garbage are refused', () => {
    const token = encodeContinueFrom('contacts', { segment: 3, offset: 17 });
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(parseFrom('contacts', token)).toEqual({ ok: true, position: { segment: 3, offset: 17 } });
    expect(parseFrom('customers', token).ok).toBe(false);
    expect(parseFrom('customers', 'not-a-token').ok).toBe(false);
    expect(parseFrom('customers', '2024-13-45').ok).toBe(false);
    expect(parseFrom('customers', undefined)).toEqual({ ok: true, position: { segment: 0, offset: 0 } });
  });

  it('when a page is full but only superseded positions remain, then hasMore is false', () => {
    const data = tenant();
    data.advanceTo(1);
    const population = data.population('customers');
    const total = data.count('customers');
    const page = readFeedPage(population, { segment: 0, offset: 0 }, total, data.currentTick);
    expect(page.indices.length).toBe(total);
    expect(page.hasMore).toBe(false);
  });
});
