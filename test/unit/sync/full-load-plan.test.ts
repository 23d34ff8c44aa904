import { describe, expect, it } from 'vitest';
import {
  boundariesFromSamples,
  readersFor,
  samplePoints,
  sampleSpan,
  windowCounts,
} from '../../../src/sync/full-load-plan.js';

const DAY = 86_400_000;
const T0 = Date.parse('2022-01-01T00:00:00Z');

/** Cumulative counts of `modifiedAt` sampled where the planner would sample them. */
function sampled(modifiedAt: number[], oldest: number, newest: number, count: number) {
  return samplePoints(oldest, newest, count).map((at) => ({
    at,
    before: modifiedAt.filter((m) => m < at).length,
  }));
}

function windowSizes(modifiedAt: number[], boundaries: number[]): number[] {
  const edges = [Number.NEGATIVE_INFINITY, ...boundaries, Number.POSITIVE_INFINITY];
  return edges.slice(1).map((end, i) => modifiedAt.filter((m) => m >= edges[i]! && m < end).length);
}

describe('full load plan', () => {
  it('when the budget is 60 req/s, then a run reads 4 windows at once; a tiny budget still reads one', () => {
    expect(readersFor(60)).toBe(4);
    expect(readersFor(1000)).toBe(4);
    expect(readersFor(12)).toBe(2);
    expect(readersFor(1)).toBe(1);
  });

  it('when the server is far, then more readers wait for pages at once, within 80 % of the budget and at most 16', () => {
    expect(readersFor(60, 5)).toBe(4);
    expect(readersFor(60, 300)).toBe(14);
    expect(readersFor(60, 2_000)).toBe(16);
    expect(readersFor(12, 300)).toBe(2);
    expect(readersFor(12, 1_000)).toBe(9);
  });

  it('when streams differ in size, then the readers are shared by pages, and small or unprobed streams stay one read', () => {
    const counts = windowCounts(
      {
        invoices: { records: 40_000, exportPageSize: 200 },
        customerContacts: { records: 20_000, exportPageSize: 500 },
        customers: { records: 10_000, exportPageSize: 500 },
      },
      8,
    );
    // 260 pages over 8 readers: invoices 6.2 → 6, contacts 1.2 → 2 (a smaller stream rounds up), customers 0.6 → 1.
    expect(counts).toEqual({ invoices: 6, customerContacts: 2, customers: 1 });
    // No window below 2,500 records; a stream that was not probed (small, or refused) is one read.
    expect(windowCounts({ invoices: { records: 6_000, exportPageSize: 200 } }, 8)).toEqual({ invoices: 2 });
    expect(windowCounts({ invoices: { records: 4_000, exportPageSize: null } }, 8)).toEqual({ invoices: 1 });
    expect(windowCounts({ invoices: { records: null, exportPageSize: null } }, 8)).toEqual({ invoices: 1 });
  });

  it("when the server is far, then the smaller streams read in windows no longer than the largest stream's, so they end first", () => {
    // The sync bench at 300 ms: 16 readers, 216 invoice pages, 42 of contacts, 20 of customers.
    const sizes = {
      invoices: { records: 40_000, exportPageSize: 185 },
      customerContacts: { records: 20_000, exportPageSize: 476 },
      customers: { records: 10_000, exportPageSize: 500 },
    };
    const counts = windowCounts(sizes, 16);
    expect(counts).toEqual({ invoices: 12, customerContacts: 3, customers: 2 });
    const pagesPerWindow = (stream: keyof typeof sizes) =>
      sizes[stream].records / sizes[stream].exportPageSize / counts[stream];
    expect(pagesPerWindow('customers')).toBeLessThan(pagesPerWindow('invoices'));
    expect(pagesPerWindow('customerContacts')).toBeLessThan(pagesPerWindow('invoices'));
  });

  it('when records are skewed towards recent dates, then a second round of counts keeps the windows similar, at no more than four counts a window', async () => {
    // Half the records in the last 30 days of three years, the rest spread evenly before.
    const newest = T0 + 3 * 365 * DAY;
    const modifiedAt = [
      ...Array.from({ length: 5_000 }, (_, i) => T0 + Math.floor((i * (3 * 365 - 30) * DAY) / 5_000)),
      ...Array.from({ length: 5_000 }, (_, i) => newest - 30 * DAY + Math.floor((i * 30 * DAY) / 5_000)),
    ];
    let counts = 0;
    const countBefore = async (at: number) => {
      counts++;
      return modifiedAt.filter((m) => m < at).length;
    };
    const span = { oldest: T0, newest: newest + 400 * DAY, total: modifiedAt.length, windows: 8 };
    const boundaries = boundariesFromSamples(await sampleSpan(countBefore, span), span);
    expect(counts).toBeLessThanOrEqual(32);
    expect(boundaries.length).toBe(7);
    expect(boundaries).toEqual([...boundaries].sort((a, b) => a - b));
    expect(boundaries.every((b) => b % 1000 === 0)).toBe(true);
    const sizes = windowSizes(modifiedAt, boundaries);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(modifiedAt.length);
    // Even time would put half the records in one window; sampled counts keep each within 1.5x of 1/8.
    expect(Math.max(...sizes)).toBeLessThan((1.5 * modifiedAt.length) / 8);
  });

  it('when the sampled span runs past the newest record, then no boundary lies past the last sample that still had records after it', () => {
    const newest = T0 + 100 * DAY;
    const modifiedAt = Array.from({ length: 1_000 }, (_, i) => T0 + Math.floor((i * 100 * DAY) / 1_000));
    const samples = sampled(modifiedAt, T0, T0 + 1000 * DAY, 4);
    const boundaries = boundariesFromSamples(samples, {
      oldest: T0,
      newest: T0 + 1000 * DAY,
      total: modifiedAt.length,
      windows: 4,
    });
    // Every sample (200, 400, … days) counts all records: interpolating between 0 at the oldest and
    // the first sample would put boundaries past the newest record (150 days); none is kept there.
    expect(boundaries.every((b) => b <= newest)).toBe(true);
  });
});
