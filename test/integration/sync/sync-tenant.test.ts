import { beforeEach, describe, expect, it } from 'vitest';
import { SyncRun } from '../../../src/db/entities/index.js';
import { startSandbox } from '../../../src/sandbox/index.js';
import { startSync } from '../../../src/sync/start-sync.js';
import type { SyncMode, SyncStreamName } from '../../../src/workflows/definitions.js';
import { createCompanyWithCredential } from '../../support/fixtures.js';
import { startTestWorker, testInstallationId, truncateAll } from '../../support/integration.js';
import { useSyncHarness } from '../../support/sync-harness.js';

const TENANT = 4_200_001;

describe('syncTenantWorkflow against the sandbox', () => {
  const h = useSyncHarness({
    rateLimitPerSecond: 0,
    tenants: [
      { tenantId: TENANT, customers: 1_200, invoices: 1_500 },
      { tenantId: TENANT + 1, customers: 100, invoices: 100, licensed: { accounting: false } },
    ],
  });
  beforeEach(() => truncateAll(h.orm));

  const tenant = (id: number) => h.sandbox.tenants.find((t) => t.tenantId === id)!;

  async function runSync(credentialId: number, mode: SyncMode, streams?: SyncStreamName[]) {
    const em = h.orm.em.fork();
    const started = await startSync(
      { em, temporal: h.temporal.client, taskQueue: h.worker.taskQueue, installationId: testInstallationId },
      { credentialId, trigger: 'manual', mode, ...(streams ? { streams } : {}) },
    );
    const result = await h.temporal.client.workflow.getHandle(started.workflowId).result();
    const run = await h.orm.em.fork().findOneOrFail(SyncRun, started.syncRunId);
    return { result, run };
  }

  /** external id → modifiedOn (ms precision, UTC) of what the table holds for the company. */
  async function stored(table: string, companyId: number): Promise<Map<string, string>> {
    const rows = await h.orm.em
      .fork()
      .getConnection()
      .execute<{ external_id: string; modified: string }[]>(
        `select external_id, to_char(source_modified_on at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') as modified
         from ${table} where company_id = ?`,
        [companyId],
      );
    return new Map(rows.map((r) => [r.external_id, r.modified]));
  }

  /** The same map for the sandbox's ground truth: what a complete sync must produce. */
  function truth(tenantId: number, stream: 'customers' | 'invoices' | 'contacts'): Map<string, string> {
    const map = new Map<string, string>();
    for (const r of h.sandbox.groundTruth(tenantId, stream)) {
      const modified = (r.modifiedOn ?? r.createdOn) as string;
      map.set(String(r.id), new Date(modified).toISOString().slice(0, 23));
    }
    return map;
  }

  it('when a full sync runs, then every source record is stored once at its latest version; an incremental after changes catches up exactly', async () => {
    const t = tenant(TENANT);
    const { companyId, credentialId } = await createCompanyWithCredential(h.orm, t);

    const full = await runSync(credentialId, 'full');
    expect(full.result.status).toBe('completed');
    expect(full.run.status).toBe('completed');
    expect(await stored('members_stream', companyId)).toEqual(truth(TENANT, 'customers'));
    expect(await stored('invoices_stream', companyId)).toEqual(truth(TENANT, 'invoices'));
    expect(await stored('servicetitan_customer_contacts', companyId)).toEqual(truth(TENANT, 'contacts'));
    expect(full.run.counts.invoices?.fetched).toBe(1_500);
    expect(full.run.counts.customers?.upserted).toBe(1_200);

    // Emails come from the contacts feed: the first active Email contact of the customer.
    const contacts = [...h.sandbox.groundTruth(TENANT, 'contacts')] as {
      customerId: number;
      type: string;
      value: string;
      active: boolean;
      id: number;
    }[];
    const withEmail = contacts.find((c) => c.type === 'Email' && c.active)!;
    const firstEmail = contacts
      .filter((c) => c.customerId === withEmail.customerId && c.type === 'Email' && c.active)
      .sort((a, b) => a.id - b.id)[0]!;
    const [member] = await h.orm.em
      .fork()
      .getConnection()
      .execute<{ email: string }[]>(
        `select email from members_stream where company_id = ? and external_id = ?`,
        [companyId, String(withEmail.customerId)],
      );
    expect(member?.email).toBe(firstEmail.value.trim().toLowerCase());

    h.sandbox.advanceTime(6 * 3600_000);
    const incremental = await runSync(credentialId, 'incremental');
    expect(incremental.run.status).toBe('completed');
    expect(await stored('members_stream', companyId)).toEqual(truth(TENANT, 'customers'));
    expect(await stored('invoices_stream', companyId)).toEqual(truth(TENANT, 'invoices'));
    expect(await stored('servicetitan_customer_contacts', companyId)).toEqual(truth(TENANT, 'contacts'));
    // Only what changed was fetched the second time.
    expect(incremental.run.counts.invoices?.fetched).toBeGreaterThan(0);
    expect(incremental.run.counts.invoices?.fetched).toBeLessThan(1_500);

    const outbox = await h.orm.em
      .fork()
      .getConnection()
      .execute<{ type: string; payload: { syncRunId: number } }[]>(
        `select type, payload from outbox_events where type = 'company_data.updated' order by id`,
      );
    expect(outbox.map((o) => [o.type, o.payload.syncRunId])).toEqual([
      ['company_data.updated', full.run.id],
      ['company_data.updated', incremental.run.id],
    ]);
  });

  it('when a date-window backfill runs, then exactly the records modified in the window are stored', async () => {
    const t = tenant(TENANT);
    const { companyId, credentialId } = await createCompanyWithCredential(h.orm, t);
    const all = truth(TENANT, 'invoices');
    const times = [...all.values()].sort();
    const from = new Date(`${times[Math.floor(times.length / 4)]}Z`).toISOString();
    const to = new Date(`${times[Math.floor((3 * times.length) / 4)]}Z`).toISOString();

    const { run } = await runSync(credentialId, { from, to }, ['invoices']);
    expect(run.status).toBe('completed');
    const inWindow = (m: string) => new Date(`${m}Z`) >= new Date(from) && new Date(`${m}Z`) < new Date(to);
    const expected = new Map([...all].filter(([, m]) => inWindow(m)));
    expect(expected.size).toBeGreaterThan(500);
    expect(await stored('invoices_stream', companyId)).toEqual(expected);
  });

  it('when the tenant has no accounting licence, then invoices are skipped with a warning and customers still sync', async () => {
    const t = tenant(TENANT + 1);
    const { companyId, credentialId } = await createCompanyWithCredential(h.orm, t);
    const { result, run } = await runSync(credentialId, 'full');
    expect(result.status).toBe('completed_with_warnings');
    expect(run.status).toBe('completed_with_warnings');
    expect(run.warnings.join(' ')).toMatch(/invoices:.*licen/i);
    expect(await stored('members_stream', companyId)).toEqual(truth(TENANT + 1, 'customers'));
    expect((await stored('invoices_stream', companyId)).size).toBe(0);
  });

  it('when the client secret is wrong, then the run fails at once and the credential says invalid_credentials', async () => {
    const t = tenant(TENANT);
    // The right client id with a wrong secret: the token cached for the right pair must not be reused.
    const { credentialId } = await createCompanyWithCredential(h.orm, { ...t, clientSecret: 'wrong-secret' });
    const started = await startSync(
      {
        em: h.orm.em.fork(),
        temporal: h.temporal.client,
        taskQueue: h.worker.taskQueue,
        installationId: testInstallationId,
      },
      { credentialId, trigger: 'manual', mode: 'full' },
    );
    await expect(h.temporal.client.workflow.getHandle(started.workflowId).result()).rejects.toThrow();
    const run = await h.orm.em.fork().findOneOrFail(SyncRun, started.syncRunId, { populate: ['credential'] });
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/client ID \/ client secret/);
    expect(run.credential.status).toBe('invalid_credentials');
    const history = await h.temporal.client.workflow.getHandle(started.workflowId).fetchHistory();
    const attempts = (history.events ?? [])
      .map((e) => e.activityTaskStartedEventAttributes?.attempt)
      .filter((a): a is number => typeof a === 'number');
    expect(Math.max(...attempts)).toBe(1);
  });

  it('when a second sync of the same credential starts while one runs, then it is refused and recorded as skipped', async () => {
    const t = tenant(TENANT + 1);
    const { credentialId } = await createCompanyWithCredential(h.orm, t);
    const deps = {
      em: h.orm.em.fork(),
      temporal: h.temporal.client,
      taskQueue: h.worker.taskQueue,
      installationId: testInstallationId,
    };
    // The first run waits on its first request until the second start has been refused.
    const hold = h.sandbox.hold({ tenantId: t.tenantId });
    try {
      const first = await startSync(deps, { credentialId, trigger: 'manual', mode: 'full' });
      await hold.reached();
      await expect(startSync(deps, { credentialId, trigger: 'cli', mode: 'full' })).rejects.toThrow(
        /already running/,
      );
      hold.release();
      await h.temporal.client.workflow.getHandle(first.workflowId).result();
    } finally {
      hold.release();
    }
    const runs = await h.orm.em.fork().find(SyncRun, {}, { orderBy: { id: 'asc' } });
    expect(runs.map((r) => r.status)).toEqual(['completed_with_warnings', 'skipped']);
  });

  it('when a sync runs, then its history holds far fewer events than pages and no record data or secret', async () => {
    // Small pages, so that pages far outnumber the events a run needs.
    const small = await startSandbox({
      rateLimitPerSecond: 0,
      pageSizes: { customers: 10, contacts: 10, invoices: 10 },
      tenants: [{ tenantId: TENANT + 2, customers: 600, invoices: 1_200 }],
    });
    const smallWorker = await startTestWorker(h.orm, {
      serviceTitan: { appKey: small.appKey, url: small.url },
    });
    try {
      const t = small.tenants[0]!;
      const { credentialId } = await createCompanyWithCredential(h.orm, t);
      const started = await startSync(
        {
          em: h.orm.em.fork(),
          temporal: h.temporal.client,
          taskQueue: smallWorker.taskQueue,
          installationId: testInstallationId,
        },
        { credentialId, trigger: 'manual', mode: 'full' },
      );
      const handle = h.temporal.client.workflow.getHandle(started.workflowId);
      await handle.result();
      const run = await h.orm.em.fork().findOneOrFail(SyncRun, started.syncRunId);
      const pages = Object.values(run.counts).reduce((n, c) => n + c.pages, 0);
      const history = await handle.fetchHistory();
      expect(pages).toBeGreaterThan(250);
      expect(history.events!.length).toBeLessThan(pages / 4);
      const json = JSON.stringify(history);
      const first = small
        .groundTruth(TENANT + 2, 'customers')
        [Symbol.iterator]()
        .next().value as { name: string };
      expect(json).not.toContain(first.name);
      expect(json).not.toContain(t.clientSecret);
      expect(json).not.toContain(t.clientId);
    } finally {
      await smallWorker.stop();
      await small.close();
    }
  });
});
