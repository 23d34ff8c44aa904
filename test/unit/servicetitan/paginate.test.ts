import { describe, expect, it } from 'vitest';
import {
  PaginationLoop,
  ResponseValidation,
  ServiceTitanUnavailable,
} from '../../../src/servicetitan/errors.js';
import { type PageFetcher, paginateExport, paginateList } from '../../../src/servicetitan/paginate.js';
import { streams } from '../../../src/servicetitan/streams/index.js';

const customer = (id: number) => ({ id, name: `c${id}`, modifiedOn: '2024-01-01T00:00:00Z' });

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

describe('export feed paginator', () => {
  it('follows continueFrom until hasMore=false, passing the token back as `from`', async () => {
    const froms: (string | undefined)[] = [];
    const fetchPage: PageFetcher = async (query) => {
      froms.push(query.from);
      const n = query.from?.startsWith('t') ? Number(query.from.slice(1)) : 0;
      return { hasMore: n < 2, continueFrom: `t${n + 1}`, data: [customer(n * 2 + 1), customer(n * 2 + 2)] };
    };
    const pages = await collect(paginateExport(streams.customers, fetchPage, { from: '2020-01-01' }));
    expect(froms).toEqual(['2020-01-01', 't1', 't2']);
    expect(pages.map((p) => [p.records.map((r) => r.id), p.continueFrom, p.hasMore])).toEqual([
      [[1, 2], 't1', true],
      [[3, 4], 't2', true],
      [[5, 6], 't3', false],
    ]);
  });

  it('when hasMore=true and the token does not move, then it fails loudly with PaginationLoop', async () => {
    const fetchPage: PageFetcher = async (query) =>
      query.from === 'stuck'
        ? { hasMore: true, continueFrom: 'stuck', data: [customer(2)] }
        : { hasMore: true, continueFrom: 'stuck', data: [customer(1)] };
    const seen: number[] = [];
    await expect(async () => {
      for await (const page of paginateExport(streams.customers, fetchPage))
        seen.push(...page.records.map((r) => r.id));
    }).rejects.toBeInstanceOf(PaginationLoop);
    expect(seen).toEqual([1]);
  });

  it('when hasMore=true without any token, then PaginationLoop too', async () => {
    const fetchPage: PageFetcher = async () => ({ hasMore: true, continueFrom: null, data: [] });
    await expect(collect(paginateExport(streams.customers, fetchPage))).rejects.toBeInstanceOf(
      PaginationLoop,
    );
  });

  it('when the envelope is not the documented shape, then ResponseValidation', async () => {
    const fetchPage: PageFetcher = async () => ({ items: [] });
    await expect(collect(paginateExport(streams.customers, fetchPage))).rejects.toBeInstanceOf(
      ResponseValidation,
    );
  });

  it('invalid records are reported next to the valid ones', async () => {
    const fetchPage: PageFetcher = async () => ({
      hasMore: false,
      continueFrom: 'x',
      data: [customer(1), { name: 'no id' }, customer(3)],
    });
    const [page] = await collect(paginateExport(streams.customers, fetchPage));
    expect(page?.records.map((r) => r.id)).toEqual([1, 3]);
    expect(page?.invalid).toEqual([{ id: undefined, reason: expect.any(String), raw: { name: 'no id' } }]);
  });

  it('prefetches at most one page ahead of a slow consumer, and stops it when the consumer breaks', async () => {
    let requested = 0;
    let aborted = 0;
    const fetchPage: PageFetcher = async (query, { signal }) => {
      requested++;
      signal.addEventListener('abort', () => aborted++);
      const n = query.from ? Number(query.from) : 0;
      return { hasMore: true, continueFrom: String(n + 1), data: [customer(n + 1)] };
    };
    const iterator = paginateExport(streams.customers, fetchPage)[Symbol.asyncIterator]();
    await iterator.next();
    await new Promise((r) => setTimeout(r, 20));
    expect(requested).toBe(2);
    await iterator.next();
    await new Promise((r) => setTimeout(r, 20));
    expect(requested).toBe(3);
    await iterator.return?.(undefined);
    expect(aborted).toBeGreaterThan(0);
  });

  it('when the caller aborts, then iteration rejects with the abort reason', async () => {
    const controller = new AbortController();
    const fetchPage: PageFetcher = (query, { signal }) =>
      new Promise((resolve, reject) => {
        if (!query.from) resolve({ hasMore: true, continueFrom: '1', data: [customer(1)] });
        signal.addEventListener('abort', () => reject(signal.reason));
      });
    const pages: number[] = [];
    await expect(async () => {
      for await (const page of paginateExport(streams.customers, fetchPage, { signal: controller.signal })) {
        pages.push(page.records.length);
        controller.abort(new Error('cancelled by user'));
      }
    }).rejects.toThrow('cancelled by user');
    expect(pages).toEqual([1]);
  });
});

describe('page-numbered list paginator', () => {
  it('sends the window, inactive-inclusive params and page numbers; stops at hasMore=false', async () => {
    const queries: Record<string, string | undefined>[] = [];
    const fetchPage: PageFetcher = async (query) => {
      queries.push(query);
      const page = Number(query.page);
      return {
        page,
        pageSize: 2,
        hasMore: page < 3,
        data: [customer(page * 10 + 1), customer(page * 10 + 2)],
      };
    };
    const pages = await collect(
      paginateList(streams.customers, fetchPage, {
        modifiedOnOrAfter: '2024-01-01T00:00:00Z',
        modifiedBefore: '2024-02-01T00:00:00Z',
        pageSize: 2,
      }),
    );
    expect(pages.map((p) => [p.page, p.pageSize, p.hasMore, p.records.map((r) => r.id)])).toEqual([
      [1, 2, true, [11, 12]],
      [2, 2, true, [21, 22]],
      [3, 2, false, [31, 32]],
    ]);
    expect(queries[0]).toEqual({
      active: 'Any',
      page: '1',
      pageSize: '2',
      modifiedOnOrAfter: '2024-01-01T00:00:00Z',
      modifiedBefore: '2024-02-01T00:00:00Z',
    });
  });

  it('defaults to pageSize 5000 and activeState=All for invoices, and resumes from startPage', async () => {
    const queries: Record<string, string | undefined>[] = [];
    const fetchPage: PageFetcher = async (query) => {
      queries.push(query);
      return { page: 1, pageSize: 5000, hasMore: false, data: [] };
    };
    await collect(paginateList(streams.invoices, fetchPage, { startPage: 4 }));
    expect(queries).toEqual([
      {
        activeState: 'All',
        page: '4',
        pageSize: '5000',
        modifiedOnOrAfter: undefined,
        modifiedBefore: undefined,
      },
    ]);
  });

  it('when a 5000-page comes back truncated, then the same records are re-read 1000 at a time', async () => {
    const total = 7200;
    const calls: string[] = [];
    const fetchPage: PageFetcher = async (query, { giveUpOn }) => {
      const page = Number(query.page);
      const size = Number(query.pageSize);
      calls.push(`${page}x${size}`);
      if (size > 1000) {
        const err = new ServiceTitanUnavailable('invalid_body', 'truncated');
        // The paginator asks the HTTP layer not to retry this at 5000.
        expect(giveUpOn?.(err)).toBe(true);
        throw err;
      }
      const start = (page - 1) * size;
      const ids = Array.from({ length: Math.max(0, Math.min(size, total - start)) }, (_, i) => start + i + 1);
      return { page, pageSize: size, hasMore: start + size < total, data: ids.map(customer) };
    };
    const pages = await collect(paginateList(streams.customers, fetchPage, { startPage: 2 }));
    // Page 2 at 5000 = records 5001..7200 = pages 6, 7, 8 at 1000.
    expect(calls).toEqual(['2x5000', '6x1000', '7x1000', '8x1000']);
    const ids = pages.flatMap((p) => p.records.map((r) => r.id));
    expect(ids[0]).toBe(5001);
    expect(ids.at(-1)).toBe(7200);
    expect(new Set(ids).size).toBe(2200);
    expect(pages.map((p) => [p.page, p.pageSize])).toEqual([
      [6, 1000],
      [7, 1000],
      [8, 1000],
    ]);
  });

  it('when hasMore=true on an empty page, then PaginationLoop', async () => {
    const fetchPage: PageFetcher = async () => ({ page: 1, pageSize: 50, hasMore: true, data: [] });
    await expect(collect(paginateList(streams.customers, fetchPage))).rejects.toBeInstanceOf(PaginationLoop);
  });

  it('rejects a page size above 5000', () => {
    expect(() => paginateList(streams.customers, async () => ({}), { pageSize: 6000 })).toThrow(RangeError);
  });
});
