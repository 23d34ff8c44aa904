import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileCommand, syncCommand } from '../../../src/cli/sync.command.js';
import { SyncRun } from '../../../src/db/entities/index.js';
import { type Sandbox, startSandbox } from '../../../src/sandbox/index.js';
import { createScheduleService } from '../../../src/schedules/index.js';
import { scheduleId } from '../../../src/workflows/definitions.js';
import { createCompanyWithCredential } from '../../support/fixtures.js';
import {
  connectTestOrm,
  connectTestTemporal,
  startTestWorker,
  testLogger,
  truncateAll,
} from '../../support/integration.js';

describe('stsync sync and schedules reconcile', () => {
  let orm: MikroORM;
  let temporal: { client: Client; close: () => Promise<void> };
  let sandbox: Sandbox;
  let worker: Awaited<ReturnType<typeof startTestWorker>>;

  beforeAll(async () => {
    orm = await connectTestOrm();
    await truncateAll(orm);
    temporal = await connectTestTemporal();
    sandbox = await startSandbox({
      rateLimitPerSecond: 0,
      tenants: [{ tenantId: 8_800_001, customers: 200, invoices: 300 }],
    });
    worker = await startTestWorker(orm, { serviceTitan: { appKey: sandbox.appKey, url: sandbox.url } });
  });
  afterAll(async () => {
    await worker?.stop();
    await sandbox?.close();
    await temporal?.close();
    await orm?.close();
  });

  it('when `sync <id> --wait` runs, then it starts a cli-triggered run, prints progress and its outcome', async () => {
    const { credentialId } = await createCompanyWithCredential(orm, sandbox.tenants[0]!);
    const lines: string[] = [];
    const status = await syncCommand(
      { orm, temporal: temporal.client, taskQueue: worker.taskQueue, write: (l) => lines.push(l) },
      { credentialId, mode: 'full', streams: ['invoices'], wait: true },
    );
    expect(status).toBe('completed');
    expect(lines[0]).toMatch(/^run \d+ started \(workflow sync-credential-\d+\)$/);
    expect(lines.at(-1)).toMatch(/^run \d+ completed$/);
    const [run] = await orm.em.fork().find(SyncRun, { credential: credentialId });
    expect(run).toMatchObject({ trigger: 'cli', streams: ['invoices'], status: 'completed' });
    expect(run!.counts.invoices?.upserted).toBe(300);
  });

  it('when `schedules reconcile` runs after a schedule vanished from Temporal, then it is recreated', async () => {
    const { credentialId } = await createCompanyWithCredential(orm, {
      ...sandbox.tenants[0]!,
      tenantId: 8_800_002,
    });
    const deps = { orm, temporal: temporal.client, taskQueue: worker.taskQueue, logger: testLogger };
    const schedules = createScheduleService(deps);
    await schedules.put(credentialId, { frequency: 'daily' });
    await temporal.client.schedule.getHandle(scheduleId(credentialId)).delete();
    try {
      const report = await reconcileCommand(deps);
      expect(report.created).toEqual([credentialId]);
      expect((await schedules.get(credentialId))?.nextRunTimes.length).toBeGreaterThan(0);
    } finally {
      await schedules.remove(credentialId);
    }
  });
});
