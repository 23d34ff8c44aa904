import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { temporal } from '@temporalio/proto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SyncChunkInput, SyncChunkResult } from '../../../src/activities/sync-stream.activities.js';
import { SyncRun } from '../../../src/db/entities/index.js';
import type { TemporalDevServer } from '../../../src/infra/temporal-dev-server.js';
import { type Sandbox, startSandbox } from '../../../src/sandbox/index.js';
import { startSync } from '../../../src/sync/start-sync.js';
import type { FullLoadPlan, SyncTenantInput } from '../../../src/workflows/definitions.js';
import { syncTenantWorkflow } from '../../../src/workflows/index.js';
import { createCompanyWithCredential } from '../../support/fixtures.js';
import {
  connectTestOrm,
  connectTestTemporal,
  startShortHistoryTemporal,
  startTestWorker,
  testInstallationId,
} from '../../support/integration.js';

type History = temporal.api.history.v1.IHistory;

const TENANT = 4_600_001;

// A dev server of its own suggests continue-as-new after 150 events, so a full load of a few
// thousand small pages goes through several executions while its windows read.
describe('full load in windows through continue-as-new', () => {
  let server: TemporalDevServer;
  let sandbox: Sandbox;
  let orm: Awaited<ReturnType<typeof connectTestOrm>>;
  let temporalClient: Awaited<ReturnType<typeof connectTestTemporal>>;
  let worker: Awaited<ReturnType<typeof startTestWorker>>;

  beforeAll(async () => {
    server = await startShortHistoryTemporal();
    sandbox = await startSandbox({
      rateLimitPerSecond: 0,
      pageSizes: { customers: 50, contacts: 50, invoices: 50 },
      tenants: [{ tenantId: TENANT, customers: 100, invoices: 6_000 }],
    });
    orm = await connectTestOrm();
    temporalClient = await connectTestTemporal(server.address);
    worker = await startTestWorker(orm, {
      temporalAddress: server.address,
      chunkMs: 1,
      serviceTitan: { appKey: sandbox.appKey, url: sandbox.url },
    });
  }, 180_000);
  afterAll(async () => {
    await worker?.stop();
    await temporalClient?.close();
    await orm?.close();
    await sandbox?.close();
    await server?.stop();
  });

  const inputOf = (history: History): SyncTenantInput => {
    const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    return JSON.parse(Buffer.from(payload!.data!).toString('utf8')) as SyncTenantInput;
  };

  it('when a windowed full load continues as new, then later executions carry the plan instead of planning again, and the run stores every record once', async () => {
    const { companyId, credentialId } = await createCompanyWithCredential(orm, sandbox.tenants[0]!);
    const started = await startSync(
      {
        em: orm.em.fork(),
        temporal: temporalClient.client,
        taskQueue: worker.taskQueue,
        installationId: testInstallationId,
      },
      { credentialId, trigger: 'manual', mode: 'full', streams: ['invoices'] },
    );
    const handle = temporalClient.client.workflow.getHandle(started.workflowId);
    expect((await handle.result()).status).toBe('completed');

    // The chain of executions, first to last.
    const histories: History[] = [];
    let runId: string | undefined;
    for (;;) {
      const history = await temporalClient.client.workflow
        .getHandle(started.workflowId, runId)
        .fetchHistory();
      histories.unshift(history);
      const previous = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
      if (!previous) break;
      runId = previous;
    }
    expect(histories.length).toBeGreaterThan(2);

    const scheduled = (h: History) =>
      (h.events ?? []).flatMap((e) => {
        const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
        return name ? [name] : [];
      });
    expect(histories.map((h) => scheduled(h).filter((n) => n === 'planFullLoad').length)).toEqual([
      1,
      ...Array(histories.length - 1).fill(0),
    ]);
    const inputs = histories.map(inputOf);
    const plan = inputs[1]!.carriedPlan;
    expect(plan?.streams.invoices?.boundaries.length).toBeGreaterThan(0);
    for (const input of inputs.slice(1)) expect(input.carriedPlan).toEqual(plan);

    const rows = await orm.em
      .fork()
      .getConnection()
      .execute<{ external_id: string }[]>(`select external_id from invoices_stream where company_id = ?`, [
        companyId,
      ]);
    expect(rows.map((r) => r.external_id).sort()).toEqual(
      [...sandbox.groundTruth(TENANT, 'invoices')].map((r) => String(r.id)).sort(),
    );
    const run = await orm.em.fork().findOneOrFail(SyncRun, started.syncRunId);
    expect(run.counts.invoices?.upserted).toBe(6_000);
    const windows = Object.keys(run.positions).filter((k) => k.startsWith('invoices#'));
    expect(windows.length).toBe(plan!.streams.invoices!.boundaries.length + 1);
  }, 300_000);

  it('when one window is read to its end and the run continues as new, then the next executions do not read it again', async () => {
    // Stand-in activities: the workflow's own bookkeeping is what is tested. Window 0 ends at its
    // first chunk, window 1 after 60 (long enough for continue-as-new to be suggested).
    const chunks: { runId: string; key: string; kind: string }[] = [];
    const activities = {
      markSyncRunStarted: async () => true,
      markSyncRunPaused: async () => {},
      finishSyncRun: async () => {},
      planFullLoad: async (): Promise<FullLoadPlan> => ({
        streams: { invoices: { records: 10_000, boundaries: ['2024-01-01T00:00:00.000Z'] } },
      }),
      syncStreamChunk: async (input: SyncChunkInput): Promise<SyncChunkResult> => {
        chunks.push({
          runId: Context.current().info.workflowExecution?.runId ?? '',
          key: input.positionKey,
          kind: input.start.kind,
        });
        const n = chunks.filter((c) => c.key === input.positionKey).length;
        const done = input.positionKey === 'invoices#0' || input.start.kind === 'export' || n >= 60;
        return {
          done,
          counts: { pages: chunks.length, fetched: 0, upserted: 0, skipped: 0 },
          position: String(n),
        };
      },
    };
    const connection = await NativeConnection.connect({ address: server.address });
    const taskQueue = `windows-${randomUUID()}`;
    const fakeWorker = await Worker.create({
      connection,
      taskQueue,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      activities,
    });
    const running = fakeWorker.run();
    try {
      const result = await temporalClient.client.workflow.execute(syncTenantWorkflow, {
        workflowId: `windows-done-${randomUUID()}`,
        taskQueue,
        args: [{ syncRunId: 1, credentialId: 1, streams: ['invoices'], mode: 'full', trigger: 'manual' }],
      });
      expect(result.status).toBe('completed');
    } finally {
      fakeWorker.shutdown();
      await running;
      await connection.close();
    }
    const runIds = [...new Set(chunks.map((c) => c.runId))];
    expect(runIds.length).toBeGreaterThan(1);
    // Window 0 was read once, in the first execution; window 1 to its end, then the export read
    // took over its position, once.
    expect(chunks.filter((c) => c.key === 'invoices#0')).toEqual([
      { runId: runIds[0], key: 'invoices#0', kind: 'window' },
    ]);
    expect(chunks.filter((c) => c.key === 'invoices#1' && c.kind === 'window').length).toBe(60);
    expect(chunks.filter((c) => c.kind === 'export')).toEqual([
      { runId: runIds.at(-1), key: 'invoices#1', kind: 'export' },
    ]);
    expect(chunks.at(-1)?.kind).toBe('export');
  }, 120_000);
});
