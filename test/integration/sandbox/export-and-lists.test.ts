import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, type SandboxStream, startSandbox } from '../../../src/sandbox/index.js';
import { apiGet, byId, readExport, tokenFor } from './support/sandbox-client.js';

const T = 701;
const HOUR = 3_600_000;
const EXPORTS: [SandboxStream, string][] = [
  ['customers', `/crm/v2/tenant/${T}/export/customers`],
  ['contacts', `/crm/v2/tenant/${T}/export/customers/contacts`],
  ['locations', `/crm/v2/tenant/${T}/export/locations`],
  ['invoices', `/accounting/v2/tenant/${T}/export/invoices`],
];

describe('sandbox export feeds over HTTP', () => {
  let sandbox: Sandbox;
  let token: string;
  beforeAll(async () => {
    sandbox = await startSandbox({
      rateLimitPerSecond: 0,
      pageSizes: { customers: 50, contacts: 80, locations: 40, invoices: 30 },
      tenants: [{ tenantId: T, customers: 300, invoices: 500, changesPerTick: 8, newPerTick: 2 }],
    });
    token = await tokenFor(sandbox, T);
  });
  afterAll(() => sandbox.close());

  it.each(EXPORTS)(
    'when %s is read in full, then each ground-truth record comes exactly once; after advanceTime the kept token returns only what changed',
    async (stream, path) => {
      const first = await readExport(sandbox, path, token);
      const truth = [...sandbox.groundTruth(T, stream)];
      expect(truth).toHaveLength(sandbox.countRecords(T, stream));
      expect(first.records).toHaveLength(truth.length);
      expect(byId(first.records)).toEqual(byId(truth));
      expect(first.pages.length).toBeGreaterThan(3);

      const seen = byId(first.records);
      sandbox.advanceTime(5 * HOUR);
      const second = await readExport(sandbox, path, token, first.continueFrom);
      const truthAfter = [...sandbox.groundTruth(T, stream)];
      const changed = truthAfter.filter(
        (r) => JSON.stringify(seen.get(r.id as number)) !== JSON.stringify(r),
      );
      expect(changed.length).toBeGreaterThan(0);
      expect(second.records).toHaveLength(changed.length);
      expect(byId(second.records)).toEqual(byId(changed));
      for (const record of second.records) seen.set(record.id as number, record);
      expect(seen).toEqual(byId(truthAfter));

      // Caught up: the token stays valid and returns nothing new.
      const third = await readExport(sandbox, path, token, second.continueFrom);
      expect(third.records).toEqual([]);
      expect(third.pages[0]?.hasMore).toBe(false);
    },
  );

  it('when from is a date, then records modified on or after it are returned', async () => {
    const since = '2024-12-01';
    const { records } = await readExport(sandbox, EXPORTS[0]![1], token, since);
    const expected = [...sandbox.groundTruth(T, 'customers')].filter(
      (r) => (r.modifiedOn as string) >= '2024-12-01',
    );
    expect(byId(records)).toEqual(byId(expected));
  });

  it('when from is garbage or a token of another feed, then 400 with a problem body', async () => {
    const { continueFrom } = await readExport(sandbox, EXPORTS[1]![1], token);
    for (const from of ['garbage!', continueFrom]) {
      const response = await apiGet(sandbox, `${EXPORTS[0]![1]}?from=${encodeURIComponent(from)}`, token);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ status: 400, errors: { from: [expect.any(String)] } });
    }
  });

  it('when the export returns customers, then inactive and merged ones are included', async () => {
    const { records } = await readExport(sandbox, EXPORTS[0]![1], token);
    expect(records.some((r) => r.active === false && r.mergedToId === null)).toBe(true);
    expect(records.some((r) => r.active === false && typeof r.mergedToId === 'number')).toBe(true);
  });
});

describe('sandbox list endpoints over HTTP', () => {
  let sandbox: Sandbox;
  let token: string;
  beforeAll(async () => {
    sandbox = await startSandbox({
      rateLimitPerSecond: 0,
      tenants: [{ tenantId: T, customers: 400, invoices: 600, changesPerTick: 10 }],
    });
    sandbox.advanceTime(6 * HOUR);
    token = await tokenFor(sandbox, T);
  });
  afterAll(() => sandbox.close());

  async function listAll(path: string, query: Record<string, string>) {
    const records: Record<string, unknown>[] = [];
    for (let page = 1; page < 1000; page++) {
      const qs = new URLSearchParams({ ...query, page: String(page), pageSize: '70' });
      const response = await apiGet(sandbox, `${path}?${qs}`, token);
      expect(response.status).toBe(200);
      const body = (await response.json()) as {
        hasMore: boolean;
        data: Record<string, unknown>[];
        page: number;
        pageSize: number;
      };
      expect(body).toMatchObject({ page, pageSize: 70 });
      records.push(...body.data);
      if (!body.hasMore) return records;
    }
    throw new Error('list did not end');
  }

  const window = { modifiedOnOrAfter: '2024-10-01T00:00:00Z', modifiedBefore: '2025-01-01T03:00:00Z' };
  const inWindow = (r: Record<string, unknown>) =>
    Date.parse(r.modifiedOn as string) >= Date.parse(window.modifiedOnOrAfter) &&
    Date.parse(r.modifiedOn as string) < Date.parse(window.modifiedBefore);

  it.each([
    [{}, (r: Record<string, unknown>) => r.active === true],
    [{ active: 'Any' }, () => true],
    [{ active: 'False' }, (r: Record<string, unknown>) => r.active === false],
    [{ active: 'Any', ...window }, inWindow],
    [{ active: 'True', ...window }, (r: Record<string, unknown>) => r.active === true && inWindow(r)],
    [
      { active: 'Any', createdBefore: '2022-06-01T00:00:00Z' },
      (r: Record<string, unknown>) => Date.parse(r.createdOn as string) < Date.parse('2022-06-01T00:00:00Z'),
    ],
  ])(
    'when customers are listed with %o, then exactly the matching ground-truth records come back in id order',
    async (query, keep) => {
      const records = await listAll(`/crm/v2/tenant/${T}/customers`, query as Record<string, string>);
      const expected = [...sandbox.groundTruth(T, 'customers')].filter(keep);
      expect(records.length).toBeGreaterThan(0);
      expect(records).toEqual(expected);
    },
  );

  it.each([
    [{}, (r: Record<string, unknown>) => r.active === true],
    [{ activeState: 'All' }, () => true],
    [{ activeState: 'InactiveOnly' }, (r: Record<string, unknown>) => r.active === false],
    [{ activeState: 'All', ...window }, inWindow],
  ])(
    'when invoices are listed with %o, then exactly the matching ground-truth records come back',
    async (query, keep) => {
      const records = await listAll(`/accounting/v2/tenant/${T}/invoices`, query as Record<string, string>);
      expect(records).toEqual([...sandbox.groundTruth(T, 'invoices')].filter(keep));
    },
  );

  it('when includeTotal is set, then totalCount is the number of matches; otherwise null', async () => {
    const withTotal = (await (
      await apiGet(sandbox, `/crm/v2/tenant/${T}/customers?pageSize=1&includeTotal=true&active=Any`, token)
    ).json()) as { totalCount: number };
    expect(withTotal.totalCount).toBe(sandbox.countRecords(T, 'customers'));
    const without = (await (
      await apiGet(sandbox, `/crm/v2/tenant/${T}/customers?pageSize=1`, token)
    ).json()) as { totalCount: null };
    expect(without.totalCount).toBeNull();
  });

  it('when pageSize is above 5000, then 400 with an RFC 7807-like body naming PageSize', async () => {
    const response = await apiGet(sandbox, `/accounting/v2/tenant/${T}/invoices?pageSize=5001`, token);
    expect(response.status).toBe(400);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      type: expect.any(String),
      title: expect.any(String),
      status: 400,
      traceId: expect.any(String),
      data: {},
    });
    expect(body.errors).toHaveProperty('PageSize');
    expect((await apiGet(sandbox, `/accounting/v2/tenant/${T}/invoices?pageSize=5000`, token)).status).toBe(
      200,
    );
  });
});
