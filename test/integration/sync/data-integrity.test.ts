import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Pool, PoolClient } from 'pg';
import { beforeEach, describe, expect, it } from 'vitest';
import { Company, ServiceTitanCredential, SyncRun } from '../../../src/db/entities/index.js';
import { secretPurpose } from '../../../src/db/repositories/credential.repository.js';
import { createSandboxApp } from '../../../src/sandbox/index.js';
import { startSync } from '../../../src/sync/start-sync.js';
import type { SyncMode, SyncStreamName } from '../../../src/workflows/definitions.js';
import { startTestWorker, testInstallationId, testSecrets, truncateAll } from '../../support/integration.js';
import { useSyncHarness } from '../../support/sync-harness.js';

const INTEGRATION = 4_300_001;
const PRODUCTION = 4_300_002;

type Table = 'members_stream' | 'invoices_stream' | 'servicetitan_customer_contacts';

describe('data integrity', () => {
  const h = useSyncHarness({
    rateLimitPerSecond: 0,
    // Two tenants of the same sandbox: their record ids overlap on purpose.
    tenants: [
      { tenantId: INTEGRATION, environment: 'integration', customers: 300, invoices: 400 },
      { tenantId: PRODUCTION, environment: 'production', customers: 350, invoices: 450 },
    ],
  });
  beforeEach(() => truncateAll(h.orm));

  async function companyWithBothEnvironments(): Promise<{
    companyId: number;
    credentials: Record<'integration' | 'production', number>;
  }> {
    const em = h.orm.em.fork();
    const company = em.create(Company, { name: 'Both Environments Co', timeZone: 'America/Denver' });
    const credentials = [INTEGRATION, PRODUCTION].map((tenantId) => {
      const t = h.sandbox.tenants.find((x) => x.tenantId === tenantId)!;
      return em.create(ServiceTitanCredential, {
        company,
        environment: t.environment,
        tenantId: String(tenantId),
        clientIdEncrypted: testSecrets.encrypt(t.clientId, secretPurpose.clientId),
        clientSecretEncrypted: testSecrets.encrypt(t.clientSecret, secretPurpose.clientSecret),
      });
    });
    await em.flush();
    return {
      companyId: company.id,
      credentials: { integration: credentials[0]!.id, production: credentials[1]!.id },
    };
  }

  async function runSync(
    credentialId: number,
    mode: SyncMode,
    streams?: SyncStreamName[],
    taskQueue?: string,
  ) {
    const started = await startSync(
      {
        em: h.orm.em.fork(),
        temporal: h.temporal.client,
        taskQueue: taskQueue ?? h.worker.taskQueue,
        installationId: testInstallationId,
      },
      { credentialId, trigger: 'manual', mode, ...(streams ? { streams } : {}) },
    );
    await h.temporal.client.workflow.getHandle(started.workflowId).result();
    return h.orm.em.fork().findOneOrFail(SyncRun, started.syncRunId);
  }

  /** external id → modifiedOn (ms, UTC) and a value that tells the tenants apart. */
  async function stored(table: Table, companyId: number, environment: string) {
    const value = table === 'servicetitan_customer_contacts' ? 'value' : `raw::text`;
    const rows = await h.orm.em
      .fork()
      .getConnection()
      .execute<{ external_id: string; modified: string; v: string | null }[]>(
        `select external_id, ${value} as v,
           to_char(source_modified_on at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') as modified
         from ${table} where company_id = ? and environment = ?`,
        [companyId, environment],
      );
    return new Map(rows.map((r) => [r.external_id, r.modified]));
  }

  function truth(tenantId: number, stream: 'customers' | 'invoices' | 'contacts') {
    const map = new Map<string, string>();
    for (const r of h.sandbox.groundTruth(tenantId, stream)) {
      map.set(String(r.id), new Date((r.modifiedOn ?? r.createdOn) as string).toISOString().slice(0, 23));
    }
    return map;
  }

  async function expectEachEnvironmentItsOwn(companyId: number) {
    for (const [environment, tenantId] of [
      ['integration', INTEGRATION],
      ['production', PRODUCTION],
    ] as const) {
      expect(await stored('members_stream', companyId, environment)).toEqual(truth(tenantId, 'customers'));
      expect(await stored('invoices_stream', companyId, environment)).toEqual(truth(tenantId, 'invoices'));
      expect(await stored('servicetitan_customer_contacts', companyId, environment)).toEqual(
        truth(tenantId, 'contacts'),
      );
    }
  }

  for (const order of [
    ['production', 'integration'],
    ['integration', 'production'],
  ] as const) {
    it(`when one company syncs both environments (${order.join(' then ')}) with overlapping ids, then each environment's rows are exactly its own tenant's`, async () => {
      const overlap = [...truth(PRODUCTION, 'invoices').keys()].filter((id) =>
        truth(INTEGRATION, 'invoices').has(id),
      );
      expect(overlap.length).toBeGreaterThan(300);
      const { companyId, credentials } = await companyWithBothEnvironments();

      for (const environment of order) {
        const run = await runSync(credentials[environment], 'full');
        expect(run.status).toBe('completed');
      }
      await expectEachEnvironmentItsOwn(companyId);

      // Members' email/phone come from their own environment's contacts only.
      const mixed = await h.orm.em
        .fork()
        .getConnection()
        .execute<{ n: string }[]>(
          `select count(*) as n from members_stream m
             join servicetitan_customer_contacts c on c.company_id = m.company_id
              and c.customer_external_id = m.external_id and c.value = m.email
            where m.company_id = ? and c.environment <> m.environment
              and not exists (select 1 from servicetitan_customer_contacts o
                where o.company_id = m.company_id and o.environment = m.environment
                  and o.customer_external_id = m.external_id and o.value = m.email)`,
          [companyId],
        );
      expect(Number(mixed[0]!.n)).toBe(0);

      // Downstream can take one environment alone: each run's event names its environment.
      const events = await h.orm.em
        .fork()
        .getConnection()
        .execute<{ payload: { environment: string; credentialId: number } }[]>(
          `select payload from outbox_events where company_id = ? and type = 'company_data.updated' order by id`,
          [companyId],
        );
      expect(events.map((e) => e.payload.environment)).toEqual([...order]);
      expect(events.map((e) => e.payload.credentialId)).toEqual(order.map((env) => credentials[env]));
    });
  }

  it('when records are edited and added while a date-range backfill reads, then every record of the window is stored exactly once', async () => {
    // A sandbox of its own, behind a server that lets the test change the source mid-backfill.
    const tenantId = 4_300_010;
    const sandbox = createSandboxApp({
      rateLimitPerSecond: 0,
      tenants: [{ tenantId, customers: 50, invoices: 12_000, changesPerTick: 400, newPerTick: 100 }],
    });
    let invoiceRequests = 0;
    const server = createServer((req, res) => {
      // After the fifth invoice page, 5 % of the invoices change and new ones appear: each window
      // is then part-way through its pages.
      if (req.url?.includes('/invoices') && ++invoiceRequests === 5) sandbox.advanceTime(1.5 * 3_600_000);
      sandbox.app(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const worker = await startTestWorker(h.orm, { serviceTitan: { appKey: sandbox.appKey, url } });
    try {
      const t = sandbox.tenants[0]!;
      const em = h.orm.em.fork();
      const company = em.create(Company, { name: 'Backfill Co', timeZone: 'UTC' });
      const credential = em.create(ServiceTitanCredential, {
        company,
        environment: 'integration',
        tenantId: String(tenantId),
        clientIdEncrypted: testSecrets.encrypt(t.clientId, secretPurpose.clientId),
        clientSecretEncrypted: testSecrets.encrypt(t.clientSecret, secretPurpose.clientSecret),
      });
      await em.flush();

      const before = new Map<string, string>();
      for (const r of sandbox.groundTruth(tenantId, 'invoices')) {
        before.set(String(r.id), new Date(r.modifiedOn as string).toISOString().slice(0, 23));
      }
      const times = [...before.values()].sort();
      const from = new Date(`${times[Math.floor(times.length / 8)]}Z`);
      const to = new Date(`${times[Math.floor((7 * times.length) / 8)]}Z`);
      const inWindow = (m: string) => new Date(`${m}Z`) >= from && new Date(`${m}Z`) < to;

      const run = await runSync(
        credential.id,
        { from: from.toISOString(), to: to.toISOString() },
        ['invoices'],
        worker.taskQueue,
      );
      expect(run.status).toBe('completed');
      expect(invoiceRequests).toBeGreaterThan(5);

      const after = new Map<string, string>();
      for (const r of sandbox.groundTruth(tenantId, 'invoices')) {
        after.set(String(r.id), new Date(r.modifiedOn as string).toISOString().slice(0, 23));
      }
      // The source did change under the backfill: records left the window and new ones came.
      const edited = [...before].filter(([id, m]) => inWindow(m) && after.get(id) !== m);
      expect(edited.length).toBeGreaterThan(200);
      expect(after.size).toBeGreaterThan(before.size);

      const rows = await h.orm.em
        .fork()
        .getConnection()
        .execute<{ external_id: string; modified: string }[]>(
          `select external_id, to_char(source_modified_on at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') as modified
             from invoices_stream where company_id = ?`,
          [company.id],
        );
      const storedRows = new Map(rows.map((r) => [r.external_id, r.modified]));
      expect(storedRows.size).toBe(rows.length);
      // Every record whose current version lies in the window, untouched ones above all, at that version.
      const expected = new Map([...after].filter(([, m]) => inWindow(m)));
      expect(expected.size).toBeGreaterThan(8_000);
      const missing = [...expected.keys()].filter((id) => storedRows.get(id) !== expected.get(id));
      expect(missing).toEqual([]);
      // And nothing else but versions that were in the window when read (an edited record may
      // have been read before its edit).
      const foreign = [...storedRows].filter(([id, m]) => expected.get(id) !== m && before.get(id) !== m);
      expect(foreign).toEqual([]);
    } finally {
      await worker.stop();
      await new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      sandbox.dispose();
    }
  });

  it('when a backfill commits its pages, then it waits for the WAL flush; an export sync, whose cursor rolls back with its data, does not', async () => {
    const { credentials } = await companyWithBothEnvironments();
    // Every transaction the worker's pool connections run, seen through the pool they come from.
    const pool = (await h.orm.em.getConnection().getNativeClient()) as unknown as Pool;
    const transactions: string[][] = [];
    const wrapped = new WeakSet<PoolClient>();
    const connect = pool.connect.bind(pool) as (...args: unknown[]) => unknown;
    pool.connect = ((...args: unknown[]) => {
      if (args.length) return connect(...args);
      return (connect() as Promise<PoolClient>).then((client) => {
        if (!wrapped.has(client)) {
          wrapped.add(client);
          let open: string[] | null = null;
          const query = client.query.bind(client) as (...a: unknown[]) => unknown;
          client.query = ((...a: unknown[]) => {
            // A statement as text, or as a config (a named statement's `text`).
            const text =
              typeof a[0] === 'string' ? a[0] : ((a[0] as { text?: string } | undefined)?.text ?? '');
            if (/^begin/i.test(text)) {
              open = [];
              transactions.push(open);
            }
            open?.push(text);
            if (/^(commit|rollback)/i.test(text)) open = null;
            return query(...a);
          }) as typeof client.query;
        }
        return client;
      });
    }) as typeof pool.connect;
    // A page's transaction is the one that commits its position (the run's summary is not one).
    const pages = () => transactions.filter((t) => t.some((q) => /insert into sync_run_positions/i.test(q)));
    const asyncCommits = () =>
      pages().filter((t) => t.some((q) => /synchronous_commit\s*=\s*off/i.test(q))).length;
    try {
      const times = [...truth(PRODUCTION, 'invoices').values()].sort();
      const window = { from: `${times[10]}Z`, to: `${times[times.length - 10]}Z` };
      const backfill = await runSync(credentials.production, window, ['invoices']);
      expect(backfill.status).toBe('completed');
      expect(backfill.counts.invoices?.pages).toBeGreaterThan(0);
      expect(pages().length).toBe(backfill.counts.invoices?.pages);
      expect(asyncCommits()).toBe(0);

      const full = await runSync(credentials.production, 'full', ['invoices']);
      expect(full.status).toBe('completed');
      expect(pages().length).toBe(backfill.counts.invoices!.pages + full.counts.invoices!.pages);
      expect(asyncCommits()).toBe(full.counts.invoices?.pages);
    } finally {
      pool.connect = connect as typeof pool.connect;
    }
  });
});
