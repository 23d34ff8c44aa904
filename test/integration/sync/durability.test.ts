import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { SyncRun } from '../../../src/db/entities/index.js';
import { closeOrm, createOrm } from '../../../src/db/orm.js';
import { type Sandbox, startSandbox } from '../../../src/sandbox/index.js';
import { startSync } from '../../../src/sync/start-sync.js';
import {
  cancelSyncSignal,
  installationTaskQueue,
  pauseSyncSignal,
  resumeSyncSignal,
  syncProgressQuery,
} from '../../../src/workflows/definitions.js';
import { createCompanyWithCredential } from '../../support/fixtures.js';
import {
  connectTestOrm,
  connectTestTemporal,
  startTestWorker,
  testDatabaseUrl,
  testInstallationId,
  testKeys,
  truncateAll,
  uniqueId,
} from '../../support/integration.js';

const root = path.resolve(import.meta.dirname, '../../..');
const TENANT = 5_300_001;

describe('durable sync runs', () => {
  let orm: MikroORM;
  let temporal: { client: Client; close: () => Promise<void> };
  let sandbox: Sandbox;

  beforeAll(async () => {
    orm = await connectTestOrm();
    temporal = await connectTestTemporal();
    sandbox = await startSandbox({
      rateLimitPerSecond: 0,
      pageSizes: { customers: 50, contacts: 50, invoices: 50 },
      tenants: [{ tenantId: TENANT, customers: 1_000, invoices: 2_000 }],
    });
  });
  afterAll(async () => {
    await sandbox?.close();
    await temporal?.close();
    await orm?.close();
  });
  beforeEach(async () => {
    sandbox.clearFaults();
    await truncateAll(orm);
  });

  async function ids(table: string): Promise<string[]> {
    const rows = await orm.em
      .fork()
      .getConnection()
      .execute<{ external_id: string }[]>(`select external_id from ${table} order by external_id::bigint`);
    return rows.map((r) => r.external_id);
  }

  function truthIds(stream: 'customers' | 'invoices' | 'contacts'): string[] {
    return [...sandbox.groundTruth(TENANT, stream)]
      .map((r) => String(r.id))
      .sort((a, b) => Number(a) - Number(b));
  }

  async function waitFor<T>(
    what: string,
    probe: () => Promise<T | undefined>,
    timeoutMs = 30_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('when paused, then no page is fetched until resumed; when cancelled, then the chunk in hand finishes and the run is cancelled', async () => {
    const slow = await startSandbox({
      rateLimitPerSecond: 0,
      pageSizes: { customers: 20, contacts: 20, invoices: 20 },
      tenants: [{ tenantId: TENANT + 1, customers: 2_000, invoices: 4_000 }],
    });
    // One page per chunk: after the pause, each stream finishes exactly the page in hand.
    const worker = await startTestWorker(orm, {
      serviceTitan: { appKey: slow.appKey, url: slow.url },
      chunkMs: 1,
    });
    // The run's first requests wait until the pause has landed.
    const hold = slow.hold({ tenantId: TENANT + 1 });
    try {
      const { credentialId } = await createCompanyWithCredential(orm, slow.tenants[0]!);
      const started = await startSync(
        {
          em: orm.em.fork(),
          temporal: temporal.client,
          taskQueue: worker.taskQueue,
          installationId: testInstallationId,
        },
        { credentialId, trigger: 'manual', mode: 'full' },
      );
      const handle = temporal.client.workflow.getHandle(started.workflowId);
      await hold.reached();

      await handle.signal(pauseSyncSignal);
      await waitFor('run row paused', async () =>
        (await orm.em.fork().findOneOrFail(SyncRun, started.syncRunId)).status === 'paused'
          ? true
          : undefined,
      );
      hold.release();
      const paused = await waitFor('streams to pause', async () => {
        const p = await handle.query(syncProgressQuery);
        return Object.values(p.streams).every((s) => s.state === 'paused') ? p : undefined;
      });
      expect(paused.paused).toBe(true);
      const requestsWhilePaused = slow.stats().requests;
      await new Promise((r) => setTimeout(r, 1_000));
      expect(slow.stats().requests).toBe(requestsWhilePaused);

      await handle.signal(resumeSyncSignal);
      await waitFor('pages after resume', async () =>
        slow.stats().requests > requestsWhilePaused ? true : undefined,
      );
      await waitFor('run row running', async () =>
        (await orm.em.fork().findOneOrFail(SyncRun, started.syncRunId)).status === 'running'
          ? true
          : undefined,
      );

      await handle.signal(cancelSyncSignal);
      const result = await handle.result();
      expect(result.status).toBe('cancelled');
      const run = await orm.em.fork().findOneOrFail(SyncRun, started.syncRunId);
      expect(run.status).toBe('cancelled');
      expect(run.finishedAt).toBeInstanceOf(Date);
      // What was fetched before the cancel is stored, once each.
      const stored = await ids('invoices_stream');
      expect(new Set(stored).size).toBe(stored.length);
      expect(stored.length).toBe(run.counts.invoices?.upserted);
      expect(stored.length).toBeLessThan(4_000);
    } finally {
      hold.release();
      await worker.stop();
      await slow.close();
    }
  });

  it('when the worker process is killed mid-run, then another worker finishes it with exactly the source records', async () => {
    const prefix = uniqueId('crash');
    // The worker root polls TASK_QUEUE scoped by the database's installation id.
    const taskQueue = installationTaskQueue(prefix, testInstallationId);
    const { credentialId } = await createCompanyWithCredential(orm, sandbox.tenants[0]!);
    // Planning's 6 requests (a count and a first page a stream) and a few pages pass, then the
    // run waits: it is killed mid-run, however fast the machine.
    const hold = sandbox.hold({ tenantId: TENANT, after: 6 + 5 });
    const child = await spawnWorker(prefix);
    try {
      const started = await startSync(
        { em: orm.em.fork(), temporal: temporal.client, taskQueue, installationId: testInstallationId },
        { credentialId, trigger: 'manual', mode: 'full' },
      );
      await hold.reached();
      await waitFor(
        'some pages committed',
        async () => {
          const run = await orm.em.fork().findOneOrFail(SyncRun, started.syncRunId);
          const pages = Object.values(run.counts).reduce((n, c) => n + c.pages, 0);
          return pages >= 4 ? pages : undefined;
        },
        60_000,
      );
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      hold.release();

      const worker = await startTestWorker(orm, {
        serviceTitan: { appKey: sandbox.appKey, url: sandbox.url },
        taskQueue,
      });
      try {
        const result = await temporal.client.workflow.getHandle(started.workflowId).result();
        expect(result.status).toBe('completed');
      } finally {
        await worker.stop();
      }
      expect(await ids('members_stream')).toEqual(truthIds('customers'));
      expect(await ids('invoices_stream')).toEqual(truthIds('invoices'));
      expect(await ids('servicetitan_customer_contacts')).toEqual(truthIds('contacts'));
    } finally {
      hold.release();
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 120_000);

  it("when the worker's PostgreSQL connections are killed mid-run, then the run still ends with exactly the source records", async () => {
    // The worker gets a pool of its own, named, so that only its sessions are killed.
    const workerOrm = await createOrm({
      url: await testDatabaseUrl(),
      applicationName: 'stsync-worker-under-test',
    });
    const worker = await startTestWorker(workerOrm, {
      serviceTitan: { appKey: sandbox.appKey, url: sandbox.url },
    });
    try {
      const { credentialId } = await createCompanyWithCredential(orm, sandbox.tenants[0]!);
      // Each round lets a few export pages through (the first also the 3 first pages the full
      // load's planning reads; its counts and the token pass freely), then holds the run while its
      // sessions are killed.
      const nextHold = (planning = 0) =>
        sandbox.hold({ tenantId: TENANT, path: '/export/', after: planning + 6 });
      let hold = nextHold(3);
      const started = await startSync(
        {
          em: orm.em.fork(),
          temporal: temporal.client,
          taskQueue: worker.taskQueue,
          installationId: testInstallationId,
        },
        { credentialId, trigger: 'manual', mode: 'full' },
      );
      const handle = temporal.client.workflow.getHandle(started.workflowId);
      let killed = 0;
      for (let round = 0; round < 3; round++) {
        await hold.reached();
        // The row's counts are committed with each page (the workflow hears of them per chunk).
        await waitFor('pages between kills', async () => {
          const run = await orm.em.fork().findOneOrFail(SyncRun, started.syncRunId);
          const pages = Object.values(run.counts).reduce((n, c) => n + c.pages, 0);
          return pages >= 3 * (round + 1) ? pages : undefined;
        });
        killed += await terminateConnections('stsync-worker-under-test');
        const next = round < 2 ? nextHold() : undefined;
        hold.release();
        if (next) hold = next;
      }
      expect(killed).toBeGreaterThan(0);
      expect((await handle.result()).status).toBe('completed');
      expect(await ids('members_stream')).toEqual(truthIds('customers'));
      expect(await ids('invoices_stream')).toEqual(truthIds('invoices'));
      expect(await ids('servicetitan_customer_contacts')).toEqual(truthIds('contacts'));
    } finally {
      await worker.stop();
      await closeOrm(workerOrm);
    }
  }, 120_000);

  it('when ServiceTitan answers with a storm of 429s, 503 pages and resets, then the run still ends with exactly the source records', async () => {
    const worker = await startTestWorker(orm, { serviceTitan: { appKey: sandbox.appKey, url: sandbox.url } });
    try {
      const { credentialId } = await createCompanyWithCredential(orm, sandbox.tenants[0]!);
      sandbox.injectFault({ kind: 'rate-limit', rate: 0.12, retryAfter: 'header', retryAfterSeconds: 1 });
      sandbox.injectFault({ kind: 'rate-limit', rate: 0.05, retryAfter: 'none' });
      sandbox.injectFault({ kind: 'html-503', rate: 0.04 });
      sandbox.injectFault({ kind: 'reset', rate: 0.03 });
      sandbox.injectFault({ kind: 'server-error', rate: 0.03 });
      sandbox.injectFault({ kind: 'truncated', rate: 0.03 });
      const started = await startSync(
        {
          em: orm.em.fork(),
          temporal: temporal.client,
          taskQueue: worker.taskQueue,
          installationId: testInstallationId,
        },
        { credentialId, trigger: 'manual', mode: 'full' },
      );
      const result = await temporal.client.workflow.getHandle(started.workflowId).result();
      expect(result.status).toBe('completed');
      expect(sandbox.stats().rateLimited).toBeGreaterThan(5);
      expect(await ids('members_stream')).toEqual(truthIds('customers'));
      expect(await ids('invoices_stream')).toEqual(truthIds('invoices'));
      expect(await ids('servicetitan_customer_contacts')).toEqual(truthIds('contacts'));
    } finally {
      await worker.stop();
    }
  }, 120_000);

  /** Kills every PostgreSQL session of an application name. */
  async function terminateConnections(applicationName: string): Promise<number> {
    const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
    await admin.connect();
    try {
      const { rows } = await admin.query(
        'select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where application_name = $1',
        [applicationName],
      );
      return rows[0].n;
    } finally {
      await admin.end();
    }
  }

  /** The production worker root in its own process, so it can really be killed. */
  async function spawnWorker(taskQueue: string): Promise<ChildProcess> {
    const databaseUrl = await testDatabaseUrl();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TASK_QUEUE: taskQueue,
      SERVICETITAN_APP_KEY: sandbox.appKey,
      SERVICETITAN_INTEGRATION_AUTH_URL: sandbox.url,
      SERVICETITAN_INTEGRATION_API_URL: sandbox.url,
      ENCRYPTION_KEYS: testKeys.map((k) => `${k.version}:${k.key.toString('base64')}`).join(','),
      LOG_LEVEL: 'warn',
    };
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main/worker.ts'], {
      cwd: root,
      env,
      stdio: 'inherit',
    });
    return child;
  }
});
