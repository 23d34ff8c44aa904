import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTemporalCli } from '../../src/infra/temporal-cli.js';
import type { TemporalDevServer } from '../../src/infra/temporal-dev-server.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { startSync } from '../../src/sync/start-sync.js';
import {
  cancelSyncSignal,
  pauseSyncSignal,
  resumeSyncSignal,
  syncProgressQuery,
} from '../../src/workflows/definitions.js';
import { retentionWorkflow, scheduledSyncWorkflow } from '../../src/workflows/index.js';
import { createCompanyWithCredential } from '../support/fixtures.js';
import {
  connectTestOrm,
  connectTestTemporal,
  startShortHistoryTemporal,
  startTestWorker,
  testInstallationId,
} from '../support/integration.js';

// Records the histories that test/integration/workflows/replay.test.ts replays with the current
// code: one per kind of run a deployment may have in flight when a new version starts. Run with
// `npm run histories:record` (only when a workflow change is meant to be incompatible, and then
// with a patch for the old histories: see the README's "Changing workflows safely").
//
// Its own dev server suggests continue-as-new after 150 events, so a larger tenant's run goes
// through continue-as-new while the small ones finish in one execution.
const OUT = new URL('../fixtures/histories/', import.meta.url);
const SMALL = 7_700_001;
const LARGE = 7_700_002;
const REFUSED = 7_700_003;

let server: TemporalDevServer;
let sandbox: Sandbox;
let temporal: { client: Client; close(): Promise<void> };
let orm: Awaited<ReturnType<typeof connectTestOrm>>;
let worker: Awaited<ReturnType<typeof startTestWorker>>;

beforeAll(async () => {
  server = await startShortHistoryTemporal();
  sandbox = await startSandbox({
    rateLimitPerSecond: 0,
    pageSizes: { customers: 10, contacts: 10, invoices: 10 },
    tenants: [
      { tenantId: SMALL, customers: 25, invoices: 25 },
      { tenantId: LARGE, customers: 150, invoices: 150 },
      { tenantId: REFUSED, customers: 5, invoices: 5 },
    ],
  });
  orm = await connectTestOrm();
  temporal = await connectTestTemporal(server.address);
  worker = await startTestWorker(orm, {
    temporalAddress: server.address,
    chunkMs: 1,
    serviceTitan: { appKey: sandbox.appKey, url: sandbox.url },
  });
  await mkdir(OUT, { recursive: true });
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  await temporal?.close();
  await orm?.close();
  await sandbox?.close();
  await server?.stop();
});

const tenant = (id: number) => sandbox.tenants.find((t) => t.tenantId === id)!;

const saved = new Set<string>();

/**
 * Saves the executions of `workflowId` not saved before (a credential's runs share its workflow
 * id): one file, or one per execution of a continue-as-new chain.
 */
async function save(name: string, workflowId: string): Promise<void> {
  const runs: string[] = [];
  for await (const e of temporal.client.workflow.list({ query: `WorkflowId = '${workflowId}'` }))
    if (!saved.has(e.runId)) runs.push(e.runId);
  expect(runs.length).toBeGreaterThan(0);
  // Oldest first: list answers newest first.
  runs.reverse();
  for (const [i, runId] of runs.entries()) {
    // The CLI's JSON is Temporal's own history format (what the Web UI downloads, too).
    const { stdout } = await promisify(execFile)(
      findTemporalCli()!,
      ['workflow', 'show', '--address', server.address, '-w', workflowId, '-r', runId, '--output', 'json'],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const file = runs.length === 1 ? `${name}.json` : `${name}.${i + 1}.json`;
    // One line: the files are replayed, not read.
    await writeFile(new URL(file, OUT), `${JSON.stringify(JSON.parse(stdout))}\n`);
    saved.add(runId);
  }
}

async function start(credentialId: number, mode: Parameters<typeof startSync>[1]['mode']) {
  const started = await startSync(
    {
      em: orm.em.fork(),
      temporal: temporal.client,
      taskQueue: worker.taskQueue,
      installationId: testInstallationId,
    },
    { credentialId, trigger: 'manual', mode },
  );
  const handle = temporal.client.workflow.getHandle(started.workflowId, started.runId);
  return { ...started, handle };
}

async function waitFor(what: string, probe: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const allStreams = (handle: WorkflowHandle, state: string) => async () => {
  const p = await handle.query(syncProgressQuery);
  return Object.values(p.streams).every((s) => s.state === state);
};

describe('recording workflow histories', () => {
  it('records full, incremental, backfill, paused and resumed, cancelled, failed and continued-as-new runs, a scheduled run, a skipped scheduled run and a retention run', async () => {
    const small = await createCompanyWithCredential(orm, tenant(SMALL));

    const full = await start(small.credentialId, 'full');
    await full.handle.result();
    await save('sync-full', full.workflowId);

    sandbox.advanceTime(60_000);
    const incremental = await start(small.credentialId, 'incremental');
    await incremental.handle.result();
    await save('sync-incremental', incremental.workflowId);

    const backfill = await start(small.credentialId, {
      from: new Date(Date.now() - 30 * 86_400_000).toISOString(),
      to: new Date().toISOString(),
    });
    await backfill.handle.result();
    await save('sync-backfill', backfill.workflowId);

    // Paused while a page is in flight, every stream parked, then resumed to completion.
    let hold = sandbox.hold({ tenantId: SMALL });
    const paused = await start(small.credentialId, 'full');
    await hold.reached();
    await paused.handle.signal(pauseSyncSignal, { syncRunId: paused.syncRunId });
    hold.release();
    await waitFor('every stream paused', allStreams(paused.handle, 'paused'));
    await paused.handle.signal(resumeSyncSignal, { syncRunId: paused.syncRunId });
    await paused.handle.result();
    await save('sync-paused-resumed', paused.workflowId);

    // Cancelled by the API's signal, and through Temporal itself.
    hold = sandbox.hold({ tenantId: SMALL });
    const cancelled = await start(small.credentialId, 'full');
    await hold.reached();
    await cancelled.handle.signal(cancelSyncSignal, { syncRunId: cancelled.syncRunId });
    hold.release();
    await cancelled.handle.result();
    await save('sync-cancelled-by-signal', cancelled.workflowId);

    hold = sandbox.hold({ tenantId: SMALL });
    const terminated = await start(small.credentialId, 'full');
    await hold.reached();
    await terminated.handle.cancel();
    hold.release();
    await terminated.handle.result().catch(() => undefined);
    await save('sync-cancelled-through-temporal', terminated.workflowId);

    // ServiceTitan refuses the credential: the run fails.
    const refused = await createCompanyWithCredential(
      orm,
      { ...tenant(REFUSED), clientSecret: 'not-the-secret' },
      { name: 'Refused Heating' },
    );
    const failed = await start(refused.credentialId, 'full');
    await failed.handle.result().catch(() => undefined);
    await save('sync-failed', failed.workflowId);

    const large = await createCompanyWithCredential(orm, tenant(LARGE), { name: 'Large Heating' });
    const long = await start(large.credentialId, 'full');
    await long.handle.result();
    await save('sync-continued-as-new', long.workflowId);

    // What a schedule starts: the run as a child, and a skip while another run of it is going.
    const scheduledId = `scheduled-${testInstallationId}-${small.credentialId}-record`;
    await temporal.client.workflow.execute(scheduledSyncWorkflow, {
      workflowId: scheduledId,
      taskQueue: worker.taskQueue,
      args: [{ installationId: testInstallationId, credentialId: small.credentialId }],
    });
    await save('scheduled-sync', scheduledId);

    hold = sandbox.hold({ tenantId: SMALL });
    const busy = await start(small.credentialId, 'full');
    await hold.reached();
    const skippedId = `${scheduledId}-skipped`;
    const skipped = await temporal.client.workflow.execute(scheduledSyncWorkflow, {
      workflowId: skippedId,
      taskQueue: worker.taskQueue,
      args: [{ installationId: testInstallationId, credentialId: small.credentialId }],
    });
    expect(skipped.status).toBe('skipped');
    hold.release();
    await busy.handle.result();
    await save('scheduled-sync-skipped', skippedId);

    const retentionId = `retention-${testInstallationId}-record`;
    await temporal.client.workflow.execute(retentionWorkflow, {
      workflowId: retentionId,
      taskQueue: worker.taskQueue,
      args: [{ skippedRawDays: 30, auditDays: 365, outboxDays: 30, runsDays: 365 }],
    });
    await save('retention', retentionId);
  });
});
