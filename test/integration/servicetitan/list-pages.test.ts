import { afterEach, describe, expect, it } from 'vitest';
import { drain, expectExactly, groundTruthIds, type Harness, startHarness, TENANT } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('page-numbered lists against the sandbox', () => {
  it('when listing without a window, then inactive records are included (active=Any / activeState=All)', async () => {
    h = await startHarness();
    for (const stream of ['customers', 'locations', 'invoices', 'customerContacts'] as const) {
      const result = await drain(h.tenant.listPages(stream, { pageSize: 37 }));
      expectExactly(result.ids, groundTruthIds(h.sandbox, TENANT, stream));
      expect(result.invalid).toEqual([]);
    }
  });

  it('when the history is split into modifiedOn windows, then the windows add up to everything once', async () => {
    h = await startHarness();
    const truth = [...h.sandbox.groundTruth(TENANT, 'invoices')];
    const times = truth.map((r) => Date.parse(String(r.modifiedOn ?? r.createdOn))).sort((a, b) => a - b);
    const cut = new Date(times[Math.floor(times.length / 2)]!).toISOString();
    const before = await drain(h.tenant.listPages('invoices', { modifiedBefore: cut, pageSize: 40 }));
    const after = await drain(h.tenant.listPages('invoices', { modifiedOnOrAfter: cut, pageSize: 40 }));
    expect(before.ids.length).toBeGreaterThan(0);
    expect(after.ids.length).toBeGreaterThan(0);
    expectExactly([...before.ids, ...after.ids], groundTruthIds(h.sandbox, TENANT, 'invoices'));
  });

  it('when a 5000-record page comes back truncated, then the client falls back to 1000 and loses nothing', async () => {
    h = await startHarness({ tenants: [{ tenantId: TENANT, customers: 2600, invoices: 10 }] });
    h.sandbox.injectFault({ kind: 'truncated', path: '/crm/v2/tenant/7000001/customers', nth: 1 });
    const sizes: number[] = [];
    const ids: number[] = [];
    for await (const page of h.tenant.listPages('customers')) {
      sizes.push(page.pageSize);
      ids.push(...page.records.map((r) => r.id));
    }
    expect(sizes).toEqual([1000, 1000, 1000]);
    expectExactly(ids, groundTruthIds(h.sandbox, TENANT, 'customers'));
  });

  it('when resuming at startPage, then pages before it are not fetched again', async () => {
    h = await startHarness();
    const first: number[] = [];
    let lastPage = 0;
    for await (const page of h.tenant.listPages('customers', { pageSize: 30 })) {
      first.push(...page.records.map((r) => r.id));
      lastPage = page.page;
      if (lastPage === 2) break;
    }
    const rest = await drain(h.tenant.listPages('customers', { pageSize: 30, startPage: lastPage + 1 }));
    expectExactly([...first, ...rest.ids], groundTruthIds(h.sandbox, TENANT, 'customers'));
  });
});
