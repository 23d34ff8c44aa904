import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SyncRun } from '../../../src/db/entities/index.js';
import { createSandboxApp, type SandboxApp } from '../../../src/sandbox/index.js';
import { readersFor } from '../../../src/sync/full-load-plan.js';
import { startSync } from '../../../src/sync/start-sync.js';
import {
  type FullLoadPlan,
  pauseSyncSignal,
  resumeSyncSignal,
  type SyncMode,
  type SyncStreamName,
  syncProgressQuery,
} from '../../../src/workflows/definitions.js';
import { createCompanyWithCredential } from '../../support/fixtures.js';
import {
  connectTestOrm,
  connectTestTemporal,
  startTestWorker,
  testInstallationId,
  truncateAll,
} from '../../support/integration.js';

const LARGE = 4_500_001;
const EDITED = 4_500_002;
const SMALL = 4_500_003;

type Table = 'members_stream' | 'invoices_stream' | 'servicetitan_customer_contacts';
const tableOf: Record<'customers' | 'contacts' | 'invoices', Table> = {
  customers: 'members_stream',
  contacts: 'servicetitan_customer_contacts',
  invoices: 'invoices_stream',
};

describe('full load in windows', () => {
  let orm: Awaited<ReturnType<typeof connectTestOrm>>;
  let temporal: Awaited<ReturnType<typeof connectTestTemporal>>;
  let sandbox: SandboxApp;
  let worker: Awaited<ReturnType<typeof startTestWorker>>;
  let server: ReturnType<typeof createServer>;
  /** Sees each request before the sandbox answers it (a test changes the source from here). */
  let onRequest: (req: IncomingMessage) => void = () => {};
  /** A promise the request waits for before the sandbox sees it, or undefined to go on at once. */
  let holdBack: (req: IncomingMessage) => Promise<void> | undefined = () => undefined;

  beforeAll(async () => {
    orm = await connectTestOrm();
    temporal = await connectTestTemporal();
    sandbox = createSandboxApp({
      rateLimitPerSecond: 0,
      tenants: [
        { tenantId: LARGE, customers: 3_000, invoices: 12_000 },
        { tenantId: EDITED, customers: 50, invoices: 12_000, changesPerTick: 400, newPerTick: 100 },
        { tenantId: SMALL, customers: 40, invoices: 60 },
      ],
    });
    server = createServer((req, res) => {
      onRequest(req);
      const wait = holdBack(req);
      if (wait) void wait.then(() => sandbox.app(req, res));
      else sandbox.app(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // Short chunks: a pause takes hold within a page or two.
    worker = await startTestWorker(orm, { chunkMs: 300, serviceTitan: { appKey: sandbox.appKey, url } });
  });
  afterAll(async () => {
    await worker?.stop();
    await new Promise((resolve) => server?.close(resolve));
    server?.closeAllConnections();
    sandbox?.dispose();
    await temporal?.close();
    await orm?.close();
  });
  beforeEach(async () => {
    onRequest = () => {};
    holdBack = () => undefined;
    await truncateAll(orm);
  });

  const tenant = (id: number) => sandbox.tenants.find((t) => t.tenantId === id)!;

  async function start(credentialId: number, mode: SyncMode, streams?: SyncStreamName[]) {
    const started = await startSync(
      {
        em: orm.em.fork(),
        temporal: temporal.client,
        taskQueue: worker.taskQueue,
        installationId: testInstallationId,
      },
      { credentialId, trigger: 'manual', mode, ...(streams ? { streams } : {}) },
    );
    return { ...started, handle: temporal.client.workflow.getHandle(started.workflowId) };
  }

  async function finished(syncRunId: number) {
    return orm.em.fork().findOneOrFail(SyncRun, syncRunId);
  }

  /** external id → modifiedOn (ms precision, UTC), as stored. */
  async function stored(table: Table, companyId: number) {
    const rows = await orm.em
      .fork()
      .getConnection()
      .execute<{ external_id: string; modified: string }[]>(
        `select external_id, to_char(source_modified_on at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') as modified
           from ${table} where company_id = ?`,
        [companyId],
      );
    const map = new Map(rows.map((r) => [r.external_id, r.modified]));
    expect(map.size).toBe(rows.length);
    return map;
  }

  /** external id → modifiedOn of the sandbox's current version of each record. */
  function truth(tenantId: number, stream: 'customers' | 'contacts' | 'invoices') {
    const map = new Map<string, string>();
    for (const r of sandbox.groundTruth(tenantId, stream)) {
      map.set(String(r.id), new Date((r.modifiedOn ?? r.createdOn) as string).toISOString().slice(0, 23));
    }
    return map;
  }

  const requestsTo = (tenantId: number, suffix: string) =>
    Object.entries(sandbox.stats().byPath)
      .filter(([path]) => path.includes(`/tenant/${tenantId}/`) && path.endsWith(suffix))
      .reduce((n, [, count]) => n + count, 0);

  it('when a large tenant is fully loaded, paused and resumed part-way, then its invoices are read in several windows and every record is stored once, at its source version and values', async () => {
    const { companyId, credentialId } = await createCompanyWithCredential(orm, tenant(LARGE));
    const run = await start(credentialId, 'full');

    // Paused while the windows read: every window finishes its chunk, then nothing is fetched.
    await waitFor('windows reading', async () => {
      const p = await run.handle.query(syncProgressQuery);
      return (p.streams.invoices?.chunks ?? 0) >= 2 ? p : undefined;
    });
    await run.handle.signal(pauseSyncSignal);
    const paused = await waitFor('every stream paused or done', async () => {
      const p = await run.handle.query(syncProgressQuery);
      return Object.values(p.streams).every((s) => s.state === 'paused' || s.state === 'done')
        ? p
        : undefined;
    });
    expect(paused.streams.invoices?.state).toBe('paused');
    const requestsWhilePaused = sandbox.stats().requests;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(sandbox.stats().requests).toBe(requestsWhilePaused);
    await run.handle.signal(resumeSyncSignal);

    expect((await run.handle.result()).status).toBe('completed');
    const row = await finished(run.syncRunId);
    const windows = Object.keys(row.positions).filter((k) => k.startsWith('invoices#'));
    expect(windows.length).toBeGreaterThanOrEqual(3);
    // Customers (3,000) stay one export read.
    expect(Object.keys(row.positions).filter((k) => k.startsWith('customers'))).toEqual(['customers']);

    for (const stream of ['customers', 'contacts', 'invoices'] as const) {
      expect(await stored(tableOf[stream], companyId)).toEqual(truth(LARGE, stream));
    }
    // The run's progress counts every window's records once (a window's page past its end excepted).
    const progress = await run.handle.query(syncProgressQuery);
    expect(progress.streams.invoices?.upserted).toBe(12_000);
    expect(row.counts.invoices?.upserted).toBe(12_000);
    expect(progress.streams.invoices?.state).toBe('done');

    // Values too: each invoice's stored source record is the sandbox's.
    const raws = await orm.em
      .fork()
      .getConnection()
      .execute<{ external_id: string; raw: Record<string, unknown> }[]>(
        `select external_id, raw from invoices_stream where company_id = ?`,
        [companyId],
      );
    const byId = new Map(raws.map((r) => [r.external_id, r.raw]));
    const source = [...sandbox.groundTruth(LARGE, 'invoices')];
    expect(source.map((r) => byId.get(String(r.id)))).toEqual(source);

    // The stream's cursor was committed by the export read that took over the last window.
    const state = await orm.em
      .fork()
      .getConnection()
      .execute<{ stream: string; cursor: string; high_water_mark: string | null }[]>(
        `select stream, cursor, high_water_mark from sync_stream_state where credential_id = ? order by stream`,
        [credentialId],
      );
    expect(state.map((s) => s.stream)).toEqual(['customerContacts', 'customers', 'invoices']);
    const invoices = state.find((s) => s.stream === 'invoices');
    expect(invoices?.cursor).toBe(row.positions[windows.at(-1)!]);
    // Its high-water mark is the newest modifiedOn stored, though the windows read those pages.
    const newest = Math.max(...source.map((r) => Date.parse(r.modifiedOn as string)));
    expect(Date.parse(invoices?.high_water_mark ?? '')).toBe(newest);
    expect(progress.streams.invoices?.newestModifiedOn).toBe(new Date(newest).toISOString());
  }, 180_000);

  it('when one window is still fetching as the run pauses, then its stream reads as running until that chunk stops, and paused after', async () => {
    const { companyId, credentialId } = await createCompanyWithCredential(orm, tenant(LARGE));
    // Invoice export requests without `from`: the planner's probe, then the first window's first
    // page, which a chunk always waits for (held until released). Every other invoice page is
    // 50 ms late, so no other window reads its range within one 300 ms chunk.
    let fromTheBeginning = 0;
    let release = () => {};
    const held = new Promise<void>((heldNow) => {
      holdBack = (req) => {
        if (!req.url?.includes('/export/invoices')) return undefined;
        if (!req.url.includes('from=') && ++fromTheBeginning === 2) {
          heldNow();
          return new Promise<void>((go) => {
            release = go;
          });
        }
        return new Promise<void>((go) => setTimeout(go, 50));
      };
    });
    const run = await start(credentialId, 'full', ['invoices']);
    await held;
    await run.handle.signal(pauseSyncSignal);
    // The other windows stop at the end of their chunks; the held one stays in flight.
    await waitFor('only the held chunk in flight', async () => {
      const described = await run.handle.describe();
      return described.raw.pendingActivities?.length === 1 ? described : undefined;
    });
    const stopping = await run.handle.query(syncProgressQuery);
    expect(stopping.paused).toBe(true);
    expect(stopping.streams.invoices?.state).toBe('running');
    expect(stopping.streams.invoices?.chunks).toBeGreaterThanOrEqual(2);

    release();
    await waitFor('invoices paused', async () => {
      const p = await run.handle.query(syncProgressQuery);
      return p.streams.invoices?.state === 'paused' ? p : undefined;
    });
    expect((await run.handle.describe()).raw.pendingActivities ?? []).toHaveLength(0);
    holdBack = () => undefined;
    await run.handle.signal(resumeSyncSignal);
    expect((await run.handle.result()).status).toBe('completed');
    expect(await stored('invoices_stream', companyId)).toEqual(truth(LARGE, 'invoices'));
  }, 120_000);

  it('when customers and contacts are stored while invoices still read, then members get their email and phone at once, not at the finish, and as the contacts say', async () => {
    const { companyId, credentialId } = await createCompanyWithCredential(orm, tenant(LARGE));
    // Every invoice export request after the planner's probe waits until released.
    let invoiceRequests = 0;
    let release = () => {};
    const invoicesGo = new Promise<void>((go) => {
      release = go;
    });
    holdBack = (req) =>
      req.url?.includes('/export/invoices') && ++invoiceRequests > 1 ? invoicesGo : undefined;
    const invoicePagesBefore = requestsTo(LARGE, '/export/invoices');
    const run = await start(credentialId, 'full');
    const sql = orm.em.fork().getConnection();
    const withEmail = async () =>
      Number(
        (
          await sql.execute<{ n: string }[]>(
            `select count(email) as n from members_stream where company_id = ?`,
            [companyId],
          )
        )[0]?.n,
      );
    const early = await waitFor('members derived while invoices wait', async () => {
      const n = await withEmail();
      return n > 0 ? n : undefined;
    });
    // No invoice page but the planner's probe was answered yet, and the run has not finished.
    expect(requestsTo(LARGE, '/export/invoices') - invoicePagesBefore).toBe(1);
    expect(invoiceRequests).toBeGreaterThan(1);
    expect((await finished(run.syncRunId)).finishedAt).toBeFalsy();
    release();
    expect((await run.handle.result()).status).toBe('completed');
    expect(await withEmail()).toBe(early);

    // Each member's email and phone are its first active contacts of their kind, by contact id
    // (phone: Phone before MobilePhone), from the contacts as stored.
    const contacts = await sql.execute<
      { customer: string; id: string; type: string; value: string | null; active: boolean }[]
    >(
      `select customer_external_id as customer, external_id as id, type, value, active
         from servicetitan_customer_contacts where company_id = ?`,
      [companyId],
    );
    contacts.sort((a, b) => Number(a.id) - Number(b.id));
    const first = (customer: string, type: string) =>
      contacts.find((c) => c.customer === customer && c.type === type && c.active && c.value !== null)
        ?.value ?? null;
    const members = await sql.execute<{ id: string; email: string | null; phone: string | null }[]>(
      `select external_id as id, email, phone from members_stream where company_id = ?`,
      [companyId],
    );
    expect(members).toHaveLength(3_000);
    expect(early).toBeGreaterThan(1_000);
    for (const m of members) {
      expect({ id: m.id, email: m.email, phone: m.phone }).toEqual({
        id: m.id,
        email: first(m.id, 'Email'),
        phone: first(m.id, 'Phone') ?? first(m.id, 'MobilePhone'),
      });
    }
    // Derived once, while the invoices were held; the finish left the members as they were.
    const history = await run.handle.fetchHistory();
    const derivations = (history.events ?? []).filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'deriveRunMemberContacts',
    );
    expect(derivations).toHaveLength(1);
  }, 120_000);

  it('when invoices are edited and added while the windows read, then nothing is skipped, and the next incremental sync reads only what changed after', async () => {
    const { companyId, credentialId } = await createCompanyWithCredential(orm, tenant(EDITED));
    const before = truth(EDITED, 'invoices');
    let exportRequests = 0;
    // After the eighth invoice export page, 400 invoices change and 100 appear: every window is
    // then part-way through its range.
    onRequest = (req) => {
      if (req.url?.includes('/export/invoices') && ++exportRequests === 8) sandbox.advanceTime(3_600_000);
    };
    const run = await start(credentialId, 'full', ['invoices']);
    expect((await run.handle.result()).status).toBe('completed');
    expect(exportRequests).toBeGreaterThan(8);
    const row = await finished(run.syncRunId);
    expect(Object.keys(row.positions).length).toBeGreaterThanOrEqual(3);

    const after = truth(EDITED, 'invoices');
    // The source did change under the windows: untouched records moved to the feed's end.
    const edited = [...before].filter(([id, m]) => after.get(id) !== m);
    expect(edited.length).toBeGreaterThan(300);
    expect(after.size).toBe(before.size + 100);
    // Every record at its current version: edited ones too, and none skipped.
    expect(await stored('invoices_stream', companyId)).toEqual(after);

    // Nothing changed since: the next incremental reads one empty page from the cursor.
    const quiet = await start(credentialId, 'incremental', ['invoices']);
    expect((await quiet.handle.result()).status).toBe('completed');
    expect((await finished(quiet.syncRunId)).counts.invoices).toMatchObject({ fetched: 0, pages: 1 });

    // Another hour of changes: the incremental reads exactly those records.
    onRequest = () => {};
    sandbox.advanceTime(3_600_000);
    const later = truth(EDITED, 'invoices');
    const changed = [...later].filter(([id, m]) => after.get(id) !== m).length;
    expect(changed).toBeGreaterThan(300);
    const next = await start(credentialId, 'incremental', ['invoices']);
    expect((await next.handle.result()).status).toBe('completed');
    expect((await finished(next.syncRunId)).counts.invoices?.fetched).toBe(changed);
    expect(await stored('invoices_stream', companyId)).toEqual(later);
  }, 180_000);

  it('when the server answers each count a quarter of a second late, then the plan counts windows for the readers that distance calls for, and every record is stored once', async () => {
    const { companyId, credentialId } = await createCompanyWithCredential(orm, tenant(LARGE));
    // Only the counts are late: the export pages, read at once, say nothing of the distance.
    // 260 ms rather than 250: 250 is where 60 req/s calls for a 12th reader, and a timer may fire
    // a fraction of a ms early.
    holdBack = (req) =>
      req.url?.includes('includeTotal=true') ? new Promise((resolve) => setTimeout(resolve, 260)) : undefined;
    const run = await start(credentialId, 'full');
    expect((await run.handle.result()).status).toBe('completed');

    const plan = await planOf(run.workflowId);
    expect(plan.serverMs).toBeGreaterThanOrEqual(250);
    expect(plan.readers).toBe(readersFor(60, plan.serverMs));
    expect(plan.readers).toBeGreaterThanOrEqual(12);
    // 12,000 invoices: as many windows as 2,500 records each allow, where 4 readers give them 3.
    expect(plan.streams.invoices?.boundaries).toHaveLength(3);
    const row = await finished(run.syncRunId);
    expect(Object.keys(row.positions).filter((k) => k.startsWith('invoices#'))).toHaveLength(4);
    for (const stream of ['customers', 'contacts', 'invoices'] as const) {
      expect(await stored(tableOf[stream], companyId)).toEqual(truth(LARGE, stream));
    }
  }, 120_000);

  it('when only the first counts come late, then the readers are those of the quickest count, and every record is stored once', async () => {
    const { companyId, credentialId } = await createCompanyWithCredential(orm, tenant(LARGE));
    // The probes' totals (no modifiedBefore) 400 ms late, as behind the first pages a server
    // renders at the same moment; the boundary counts at once.
    holdBack = (req) =>
      req.url?.includes('includeTotal=true') && !req.url.includes('modifiedBefore')
        ? new Promise((resolve) => setTimeout(resolve, 400))
        : undefined;
    const run = await start(credentialId, 'full');
    expect((await run.handle.result()).status).toBe('completed');

    const plan = await planOf(run.workflowId);
    expect(plan.serverMs).toBeLessThan(400);
    expect(plan.readers).toBe(readersFor(60, plan.serverMs));
    expect(plan.readers).toBeLessThan(readersFor(60, 400));
    const row = await finished(run.syncRunId);
    expect(Object.keys(row.positions).filter((k) => k.startsWith('invoices#'))).toHaveLength(
      plan.streams.invoices!.boundaries.length + 1,
    );
    for (const stream of ['customers', 'contacts', 'invoices'] as const) {
      expect(await stored(tableOf[stream], companyId)).toEqual(truth(LARGE, stream));
    }
  }, 120_000);

  /** The plan the run's planning activity returned, read off its history. */
  async function planOf(workflowId: string): Promise<FullLoadPlan> {
    const history = await temporal.client.workflow.getHandle(workflowId).fetchHistory();
    const events = history.events ?? [];
    const scheduled = events.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'planFullLoad',
    );
    const completed = events.find(
      (e) =>
        scheduled &&
        Number(e.activityTaskCompletedEventAttributes?.scheduledEventId) === Number(scheduled.eventId),
    );
    const payload = completed?.activityTaskCompletedEventAttributes?.result?.payloads?.[0];
    if (!payload) throw new Error('no plan in the run history');
    return defaultPayloadConverter.fromPayload<FullLoadPlan>(payload);
  }

  it('when a small tenant is fully loaded, then planning costs a count and a first page per stream and the feeds are read as before', async () => {
    const { companyId, credentialId } = await createCompanyWithCredential(orm, tenant(SMALL));
    const run = await start(credentialId, 'full');
    expect((await run.handle.result()).status).toBe('completed');
    const row = await finished(run.syncRunId);
    expect(Object.keys(row.positions).sort()).toEqual(['customerContacts', 'customers', 'invoices']);

    // Planning: one list request per stream (its total) and the feed's first page, sent together;
    // then one export page per stream (each fits one), read in one piece.
    expect(requestsTo(SMALL, '/customers')).toBe(3);
    expect(requestsTo(SMALL, '/customers/contacts')).toBe(3);
    expect(requestsTo(SMALL, '/invoices')).toBe(3);
    expect(sandbox.stats().byTenant[SMALL]?.requests).toBe(9);
    for (const stream of ['customers', 'contacts', 'invoices'] as const) {
      expect(await stored(tableOf[stream], companyId)).toEqual(truth(SMALL, stream));
    }
  }, 60_000);
});

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
