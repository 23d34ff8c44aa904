import { describe, expect, it } from 'vitest';
import { parseListQuery, parseUtc, runListQuery } from '../../../src/sandbox/list-query.js';
import type { RecordMeta } from '../../../src/sandbox/tenant-data.js';

const params = (q: Record<string, string>) => (name: string) =>
  Object.entries(q).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];

// 100 records: modified at t = index * 10, every third inactive.
const meta = (index: number): RecordMeta => ({
  active: index % 3 !== 0,
  modifiedAt: index * 10,
  createdAt: index,
});

function run(
  q: Record<string, string>,
  activeParam: 'active' | 'activeState' = 'active',
  countModifiedBefore?: (ms: number) => number,
) {
  const parsed = parseListQuery(params(q), activeParam);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return runListQuery(parsed.query, 100, meta, (id) => id, countModifiedBefore);
}

/** Records modified before `ms` among the 100 above, without a scan. */
const modifiedBefore = (ms: number) => Math.max(0, Math.min(100, Math.ceil(ms / 10) - 1));

describe('sandbox list queries', () => {
  it('when no active filter is given, then customers default to active only and invoices to ActiveOnly', () => {
    expect(run({ pageSize: '500' }).indices).toHaveLength(67);
    expect(run({ pageSize: '500' }, 'activeState').indices).toHaveLength(67);
    expect(run({ pageSize: '500', active: 'Any' }).indices).toHaveLength(100);
    expect(run({ pageSize: '500', active: 'False' }).indices.every((i) => i % 3 === 0)).toBe(true);
    expect(run({ pageSize: '500', activeState: 'All' }, 'activeState').indices).toHaveLength(100);
    expect(run({ pageSize: '500', activeState: 'InactiveOnly' }, 'activeState').indices).toHaveLength(33);
  });

  it('when a modifiedOn window is given, then the lower bound is inclusive and the upper exclusive', () => {
    const result = run({
      active: 'Any',
      modifiedOnOrAfter: new Date(200).toISOString(),
      modifiedBefore: new Date(300).toISOString(),
      pageSize: '50',
    });
    expect(result.indices).toEqual([20, 21, 22, 23, 24, 25, 26, 27, 28, 29]);
  });

  it('when paging, then pages do not overlap, hasMore is accurate and totalCount only comes with includeTotal', () => {
    const p1 = run({ active: 'Any', page: '1', pageSize: '40' });
    const p3 = run({ active: 'Any', page: '3', pageSize: '40', includeTotal: 'true' });
    expect(p1).toMatchObject({ hasMore: true, totalCount: null });
    expect(p1.indices[0]).toBe(1);
    expect(p3).toMatchObject({ hasMore: false, totalCount: 100 });
    expect(p3.indices).toEqual(Array.from({ length: 20 }, (_, i) => 81 + i));
  });

  it('when a total is filtered by modifiedOn alone, then the count without a scan gives the same page, hasMore and total as the scan; with other filters it is not used', () => {
    const windows: Record<string, string>[] = [
      { modifiedBefore: '555' },
      { modifiedOnOrAfter: '200', modifiedBefore: '731' },
      { modifiedOnOrAfter: '990' },
      { modifiedOnOrAfter: '700', modifiedBefore: '300' },
      {},
    ];
    for (const window of windows) {
      for (const page of ['1', '2', '9']) {
        const q = { ...window, active: 'Any', includeTotal: 'true', page, pageSize: '7' };
        expect(run(q, 'active', modifiedBefore), JSON.stringify(q)).toEqual(run(q));
      }
    }
    const wrong = () => 999;
    expect(
      run({ active: 'Any', includeTotal: 'true', modifiedBefore: '555' }, 'active', wrong).totalCount,
    ).toBe(999);
    const otherFilters: Record<string, string>[] = [
      { includeTotal: 'true', modifiedBefore: '555' },
      { active: 'Any', includeTotal: 'true', createdBefore: '1970-01-01T00:00:00.050Z' },
      { active: 'Any', includeTotal: 'true', ids: '3,4,5' },
    ];
    for (const q of otherFilters) {
      expect(run(q, 'active', wrong), JSON.stringify(q)).toEqual(run(q));
    }
  });

  it('when pageSize is above 5000 or a value is malformed, then the query is refused with field errors', () => {
    const big = parseListQuery(params({ pageSize: '5001' }), 'active');
    expect(big).toEqual({
      ok: false,
      errors: { PageSize: ['The field PageSize must be between 1 and 5000.'] },
    });
    const bad = parseListQuery(
      params({ modifiedOnOrAfter: 'yesterday', active: 'maybe', sort: '+ModifiedOn' }),
      'active',
    );
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(Object.keys(bad.errors).sort()).toEqual(['Active', 'ModifiedOnOrAfter', 'Sort']);
  });

  it('when ids and -Id sort are given, then only those records come back, highest id first', () => {
    expect(run({ active: 'Any', ids: '5,7,300,6', sort: '-Id' }).indices).toEqual([7, 6, 5]);
  });
});

describe('sandbox date parsing', () => {
  it('when a date-time has no offset, then it is read as UTC, like a date alone', () => {
    expect(parseUtc('2024-05-01T10:00:00')).toBe(Date.UTC(2024, 4, 1, 10));
    expect(parseUtc('2024-05-01')).toBe(Date.UTC(2024, 4, 1));
    expect(parseUtc('2024-05-01T10:00:00+02:00')).toBe(Date.UTC(2024, 4, 1, 8));
    expect(parseUtc('2024-05-01T10:00:00.5Z')).toBe(Date.UTC(2024, 4, 1, 10, 0, 0, 500));
    expect(Number.isNaN(parseUtc('soon'))).toBe(true);
  });
});
