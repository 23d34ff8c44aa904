import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuditEvent, SyncRun } from '../../../src/db/entities/index.js';
import { createSyncRun } from '../../../src/db/repositories/sync-run.repository.js';
import { truncateAll } from '../../support/integration.js';
import { type ApiHarness, createCompany, createCredential, startApiHarness } from './support/harness.js';

const TENANT = 4_700_001;
const OTHER = 4_700_002;

describe('feature flags', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness({
      worker: true,
      sandbox: {
        pageSizes: { customers: 50, contacts: 50, invoices: 50 },
        tenants: [
          { tenantId: TENANT, customers: 30, invoices: 30 },
          { tenantId: OTHER, customers: 20, invoices: 20 },
        ],
      },
    });
  });
  afterAll(async () => {
    h?.assertNoLeaks();
    await h?.close();
  });
  beforeEach(() => truncateAll(h.orm));

  async function connect(tenantId: number) {
    const companyId = await createCompany(h, `Company ${tenantId}`);
    const res = await createCredential(h, companyId, tenantId);
    expect(res.status).toBe(201);
    return { companyId, credentialId: res.body.id as number };
  }

  async function finished(id: number) {
    for (const until = Date.now() + 60_000; ; ) {
      const res = await h.call('get', `/api/syncs/${id}`);
      if (!['pending', 'running', 'paused'].includes(res.body.status)) return res.body;
      if (Date.now() > until) throw new Error(`run ${id} stayed ${res.body.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const flag = (body: { flags: { key: string }[] }, key: string) => body.flags.find((f) => f.key === key);

  it('when a company switches the invoices stream off, then its next run skips it and records the flags, another company keeps it, and the change is audited', async () => {
    const a = await connect(TENANT);
    const b = await connect(OTHER);

    const defaults = await h.call('get', '/api/flags');
    expect(defaults.status).toBe(200);
    expect(flag(defaults.body, 'stream.invoices')).toMatchObject({
      default: true,
      global: null,
      effective: true,
    });

    const set = await h.call('put', '/api/flags/stream.invoices', {
      body: { value: false, companyId: a.companyId },
    });
    expect(set.status).toBe(200);
    expect(flag(set.body, 'stream.invoices')).toMatchObject({
      global: null,
      company: false,
      effective: false,
    });
    const audit = await h.orm.em.fork().find(AuditEvent, { action: 'flag.set' });
    expect(audit).toHaveLength(1);
    expect(audit[0]!.details).toMatchObject({ scope: `company:${a.companyId}`, from: null, to: false });

    const runA = await h.call('post', `/api/credentials/${a.credentialId}/syncs`, { body: { mode: 'full' } });
    expect(runA.status).toBe(202);
    expect(runA.body.streams).toEqual(['customers', 'customerContacts']);
    const doneA = await finished(runA.body.id);
    expect(doneA.status).toBe('completed');
    expect(doneA.flags).toMatchObject({
      'stream.invoices': false,
      'stream.customers': true,
      'data-source': 'api',
    });
    const invoices = (company: number) =>
      h.orm.em
        .fork()
        .getConnection()
        .execute<{ n: string }[]>('select count(*) as n from invoices_stream where company_id = ?', [
          company,
        ]);
    expect(Number((await invoices(a.companyId))[0]!.n)).toBe(0);

    const runB = await h.call('post', `/api/credentials/${b.credentialId}/syncs`, { body: { mode: 'full' } });
    const doneB = await finished(runB.body.id);
    expect(doneB.flags).toMatchObject({ 'stream.invoices': true });
    expect(Number((await invoices(b.companyId))[0]!.n)).toBe(20);
  });

  it('when a company is rolled back to the manual path, then syncs are refused with the reason, and a scheduled one is recorded as skipped', async () => {
    const a = await connect(TENANT);
    const set = await h.call('put', '/api/flags/data-source', {
      body: { value: 'manual', companyId: a.companyId },
    });
    expect(set.status).toBe(200);

    const refused = await h.call('post', `/api/credentials/${a.credentialId}/syncs`, { body: {} });
    expect(refused.status).toBe(409);
    expect(refused.body.message).toMatch(/manual import path/);

    const scheduled = await createSyncRun(h.orm.em.fork(), {
      credentialId: a.credentialId,
      trigger: 'schedule',
      mode: 'incremental',
    });
    expect(scheduled).toEqual({ refused: expect.stringMatching(/manual import path/) });
    const rows = await h.orm.em.fork().find(SyncRun, { credential: a.credentialId });
    expect(rows.map((r) => [r.trigger, r.status])).toEqual([['schedule', 'skipped']]);
    expect(rows[0]!.flags).toMatchObject({ 'data-source': 'manual' });

    // Back to the API: unsetting the company's value returns it to the default.
    const unset = await h.call('delete', `/api/flags/data-source?companyId=${a.companyId}`);
    expect(flag(unset.body, 'data-source')).toMatchObject({ company: null, effective: 'api' });
    expect((await h.call('post', `/api/credentials/${a.credentialId}/syncs`, { body: {} })).status).toBe(202);
  });

  it('when a flag is set wrongly, then the answer says what it takes; a company-scoped token cannot set global values nor see other companies', async () => {
    const a = await connect(TENANT);
    const b = await connect(OTHER);
    const bad = await h.call('put', '/api/flags/data-source', { body: { value: 'excel' } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe('data-source takes one of: api, manual.');
    const unknown = await h.call('put', '/api/flags/nope', { body: { value: true } });
    expect(unknown.status).toBe(404);

    const scoped = await h.token('admin', a.companyId);
    const global = await h.call('put', '/api/flags/notifications', { token: scoped, body: { value: false } });
    expect(global.status).toBe(403);
    const other = await h.call('get', `/api/flags?companyId=${b.companyId}`, { token: scoped });
    expect([403, 404]).toContain(other.status);
    const own = await h.call('put', '/api/flags/notifications', {
      token: scoped,
      body: { value: false, companyId: a.companyId },
    });
    expect(own.status).toBe(200);
    const viewer = await h.token('viewer');
    expect(
      (await h.call('put', '/api/flags/notifications', { token: viewer, body: { value: false } })).status,
    ).toBe(403);
  });
});
