import type { MikroORM } from '@mikro-orm/postgresql';
import { ScheduleNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MemberRecord, SyncRun } from '../../../src/db/entities/index.js';
import { readInstallationId } from '../../../src/db/installation.js';
import { migrateUp } from '../../../src/db/migrate.js';
import { createOrm } from '../../../src/db/orm.js';
import { type Sandbox, startSandbox } from '../../../src/sandbox/index.js';
import { createScheduleService, type ScheduleService } from '../../../src/schedules/index.js';
import { startSync } from '../../../src/sync/start-sync.js';
import type { RunningWorker } from '../../../src/temporal/worker.js';
import { installationTaskQueue, scheduleId } from '../../../src/workflows/definitions.js';
import { createScratchDatabase } from '../../support/database.js';
import { createCompanyWithCredential } from '../../support/fixtures.js';
import { connectTestTemporal, startTestWorker, testLogger, uniqueId } from '../../support/integration.js';

interface Installation {
  orm: MikroORM;
  installationId: string;
  taskQueue: string;
  schedules: ScheduleService;
  drop: () => Promise<void>;
  worker?: RunningWorker;
}

/**
 * Two databases, each migrated from empty as a new deployment's would be, served by the one
 * Temporal server of the test run: the situation of `npm start` after `.data/postgres` was reset,
 * or with another DATABASE_URL.
 */
describe('two installations on one Temporal', () => {
  const base = uniqueId('installations');
  const installations: Installation[] = [];
  let temporal: Awaited<ReturnType<typeof connectTestTemporal>>;
  let sandbox: Sandbox;

  beforeAll(async () => {
    temporal = await connectTestTemporal();
    sandbox = await startSandbox({
      rateLimitPerSecond: 0,
      tenants: [{ tenantId: 7_300_001, customers: 40, invoices: 40 }],
    });
    for (let i = 0; i < 2; i++) {
      const db = await createScratchDatabase(inject('adminDatabaseUrl'), 'stsync_installation');
      const orm = await createOrm({ url: db.url });
      await migrateUp(orm);
      const installationId = await readInstallationId(orm);
      const taskQueue = installationTaskQueue(base, installationId);
      installations.push({
        orm,
        installationId,
        taskQueue,
        drop: db.drop,
        schedules: createScheduleService({
          orm,
          temporal: temporal.client,
          // One TASK_QUEUE for both: what tells their schedules apart is the installation alone.
          taskQueue: base,
          installationId,
          logger: testLogger,
        }),
      });
    }
  });
  afterAll(async () => {
    for (const i of installations) {
      await i.schedules.remove(1).catch(() => {});
      await i.worker?.stop();
      await i.orm.close();
      await i.drop();
    }
    await sandbox?.close();
    await temporal?.close();
  });

  it('when each database is migrated, then each has an installation id of its own', () => {
    const [a, b] = installations;
    expect(a!.installationId).toMatch(/^[0-9a-f]{12}$/);
    expect(b!.installationId).not.toBe(a!.installationId);
  });

  it('when both sync their credential 1 at the same time, then both runs complete, each into its own database', async () => {
    const tenant = sandbox.tenants[0]!;
    for (const i of installations) {
      const { credentialId } = await createCompanyWithCredential(i.orm, tenant);
      expect(credentialId).toBe(1);
    }
    // Both started before any worker polls: both workflows are open at once.
    const started = [];
    for (const i of installations) {
      started.push(
        await startSync(
          {
            em: i.orm.em.fork(),
            temporal: temporal.client,
            taskQueue: i.taskQueue,
            installationId: i.installationId,
          },
          { credentialId: 1, trigger: 'manual', mode: 'full' },
        ),
      );
    }
    expect(started[0]!.workflowId).not.toBe(started[1]!.workflowId);
    for (const i of installations) {
      i.worker = await startTestWorker(i.orm, {
        taskQueue: i.taskQueue,
        serviceTitan: { appKey: sandbox.appKey, url: sandbox.url },
      });
    }
    const results = await Promise.all(
      started.map((s) => temporal.client.workflow.getHandle(s.workflowId).result()),
    );
    expect(results.map((r) => r.status)).toEqual(['completed', 'completed']);
    for (const [n, i] of installations.entries()) {
      const run = await i.orm.em.fork().findOneOrFail(SyncRun, started[n]!.syncRunId);
      expect(run.status).toBe('completed');
      expect(run.workflowId).toBe(started[n]!.workflowId);
      expect(await i.orm.em.fork().count(MemberRecord, {})).toBeGreaterThanOrEqual(40);
    }
  });

  it('when both schedule credential 1, then each keeps its own schedule, and one reconciling leaves the other alone', async () => {
    const [a, b] = installations;
    await a!.schedules.put(1, { frequency: 'daily', hour: 1 });
    await b!.schedules.put(1, { frequency: 'daily', hour: 2 });
    const described = await Promise.all(
      [a!, b!].map((i) => temporal.client.schedule.getHandle(scheduleId(i.installationId, 1)).describe()),
    );
    expect(described.map((d) => d.spec.calendars?.[0]?.hour)).toEqual([
      [{ start: 1, end: 1, step: 1 }],
      [{ start: 2, end: 2, step: 1 }],
    ]);
    for (const [n, d] of described.entries()) {
      expect(d.action.type === 'startWorkflow' && d.action.args).toEqual([
        { installationId: installations[n]!.installationId, credentialId: 1 },
      ]);
    }

    // a no longer wants a schedule; b's, on the same task queue, is not a's stray.
    await a!.orm.em.getConnection().execute('delete from sync_schedules');
    await waitForListed(scheduleId(a!.installationId, 1));
    await waitForListed(scheduleId(b!.installationId, 1));
    const report = await a!.schedules.reconcile();
    expect(report.deleted).toEqual([scheduleId(a!.installationId, 1)]);
    await expect(
      temporal.client.schedule.getHandle(scheduleId(a!.installationId, 1)).describe(),
    ).rejects.toBeInstanceOf(ScheduleNotFoundError);
    expect((await b!.schedules.get(1))?.config).toMatchObject({ frequency: 'daily', hour: 2 });
    await temporal.client.schedule.getHandle(scheduleId(b!.installationId, 1)).describe();
  });

  /** Reconcile lists schedules from the visibility store, which catches up a moment later. */
  async function waitForListed(id: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      for await (const summary of temporal.client.schedule.list()) if (summary.scheduleId === id) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`schedule ${id} never listed`);
  }
});
