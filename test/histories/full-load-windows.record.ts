import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTemporalCli } from '../../src/infra/temporal-cli.js';
import type { TemporalDevServer } from '../../src/infra/temporal-dev-server.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { startSync } from '../../src/sync/start-sync.js';
import { createCompanyWithCredential } from '../support/fixtures.js';
import {
  connectTestOrm,
  connectTestTemporal,
  startShortHistoryTemporal,
  startTestWorker,
  testInstallationId,
} from '../support/integration.js';

// Records a full load read in windows (the 'full-load-windows' patch): big enough for the planner
// to split invoices, on a dev server that suggests continue-as-new after 150 events so the chain
// carries its plan from one execution to the next. Replayed by test/integration/workflows/replay.test.ts.
const OUT = new URL('../fixtures/histories/', import.meta.url);
const TENANT = 7_700_011;

let server: TemporalDevServer;
let sandbox: Sandbox;
let temporal: { client: Client; close(): Promise<void> };
let orm: Awaited<ReturnType<typeof connectTestOrm>>;
let worker: Awaited<ReturnType<typeof startTestWorker>>;

beforeAll(async () => {
  server = await startShortHistoryTemporal();
  sandbox = await startSandbox({
    rateLimitPerSecond: 0,
    tenants: [{ tenantId: TENANT, customers: 20, invoices: 6_000 }],
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

describe('recording a windowed full load', () => {
  it('records a full load whose invoices are read in windows, through continue-as-new', async () => {
    const { credentialId } = await createCompanyWithCredential(orm, sandbox.tenants[0]!, {
      name: 'Windowed Heating',
    });
    const started = await startSync(
      {
        em: orm.em.fork(),
        temporal: temporal.client,
        taskQueue: worker.taskQueue,
        installationId: testInstallationId,
      },
      { credentialId, trigger: 'manual', mode: 'full' },
    );
    await temporal.client.workflow.getHandle(started.workflowId).result();

    const runs: string[] = [];
    for await (const e of temporal.client.workflow.list({ query: `WorkflowId = '${started.workflowId}'` }))
      runs.push(e.runId);
    expect(runs.length).toBeGreaterThan(1);
    runs.reverse();
    for (const [i, runId] of runs.entries()) {
      const { stdout } = await promisify(execFile)(
        findTemporalCli()!,
        [
          'workflow',
          'show',
          '--address',
          server.address,
          '-w',
          started.workflowId,
          '-r',
          runId,
          '--output',
          'json',
        ],
        { maxBuffer: 64 * 1024 * 1024 },
      );
      await writeFile(
        new URL(`sync-full-windows.${i + 1}.json`, OUT),
        `${JSON.stringify(JSON.parse(stdout))}\n`,
      );
    }
  });
});
