import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SyncRun } from '../../../src/db/entities/index.js';
import { type Sandbox, startSandbox } from '../../../src/sandbox/index.js';
import {
  createScheduleService,
  type ScheduleService,
  ScheduleValidationError,
} from '../../../src/schedules/index.js';
import { startSync } from '../../../src/sync/start-sync.js';
import { scheduleId } from '../../../src/workflows/definitions.js';
import { createCompanyWithCredential } from '../../support/fixtures.js';
import {
  connectTestOrm,
  connectTestTemporal,
  startTestWorker,
  testInstallationId,
  testLogger,
  truncateAll,
} from '../../support/integration.js';

/** Local weekday and time of an instant in a time zone, e.g. "Mon 03:07". */
function local(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(iso));
}

describe('schedules', () => {
  let orm: MikroORM;
  let temporal: { client: Client; close: () => Promise<void> };
  let sandbox: Sandbox;
  let worker: Awaited<ReturnType<typeof startTestWorker>>;
  let schedules: ScheduleService;
  const made: number[] = [];

  beforeAll(async () => {
    orm = await connectTestOrm();
    temporal = await connectTestTemporal();
    sandbox = await startSandbox({
      rateLimitPerSecond: 0,
      tenants: [{ tenantId: 7_100_001, customers: 300, invoices: 300 }],
    });
    worker = await startTestWorker(orm, { serviceTitan: { appKey: sandbox.appKey, url: sandbox.url } });
    schedules = createScheduleService({
      orm,
      temporal: temporal.client,
      taskQueue: worker.taskQueue,
      installationId: testInstallationId,
      logger: testLogger,
    });
  });
  afterEach(async () => {
    for (const id of made.splice(0)) await schedules.remove(id).catch(() => {});
  });
  afterAll(async () => {
    await worker?.stop();
    await sandbox?.close();
    await temporal?.close();
    await orm?.close();
  });
  beforeEach(() => truncateAll(orm));

  async function credential(timeZone = 'America/Chicago', tenantId = sandbox.tenants[0]!.tenantId) {
    const { credentialId } = await createCompanyWithCredential(
      orm,
      { ...sandbox.tenants[0]!, tenantId },
      { timeZone },
    );
    made.push(credentialId);
    return credentialId;
  }

  it('when the default weekly schedule is set, then Temporal runs it Mondays 03:00-03:15 in the company time zone', async () => {
    const id = await credential('America/Chicago');
    const view = await schedules.put(id, { frequency: 'weekly' });
    expect(view.config).toMatchObject({
      frequency: 'weekly',
      dayOfWeek: 1,
      hour: 3,
      minute: 0,
      jitterSeconds: 900,
    });
    expect(view.nextRunTimes.length).toBeGreaterThanOrEqual(3);
    for (const t of view.nextRunTimes) expect(local(t, 'America/Chicago')).toMatch(/^Mon 03:(0\d|1[0-4])$/);

    const description = await temporal.client.schedule
      .getHandle(scheduleId(testInstallationId, id))
      .describe();
    expect(description.policies.overlap).toBe('SKIP');
    expect(description.spec.timezone).toBe('America/Chicago');
    expect(await schedules.get(id)).toMatchObject({ paused: false, config: { frequency: 'weekly' } });
  });

  it.each([
    [{ frequency: 'daily', hour: 22, minute: 30, jitterSeconds: 0 }, /^\w{3} 22:30$/],
    [{ frequency: 'monthly', dayOfMonth: 15, hour: 4, minute: 0, jitterSeconds: 0 }, /^\w{3} 04:00$/],
    [{ frequency: 'hourly', everyHours: 6, jitterSeconds: 0 }, /^\w{3} (00|06|12|18):00$/],
    [{ frequency: 'cron', cron: '15 2 * * 2', jitterSeconds: 0 }, /^Tue 02:15$/],
    [{ frequency: 'cron', cron: '0 6 1-7 JAN-DEC MON', jitterSeconds: 0 }, /^\w{3} 06:00$/],
  ] as const)('when a %o schedule is set, then its next run times follow it', async (input, pattern) => {
    const id = await credential('Europe/Berlin');
    const view = await schedules.put(id, input);
    expect(view.nextRunTimes.length).toBeGreaterThan(0);
    for (const t of view.nextRunTimes) expect(local(t, 'Europe/Berlin')).toMatch(pattern);
  });

  it.each([
    [{ frequency: 'cron', cron: '61 * * * *' }, /minute value 61/],
    [{ frequency: 'cron', cron: '* * *' }, /5 fields/],
    [{ frequency: 'cron', cron: '0 3 * FOO *' }, /month field "FOO" is not valid/],
    [{ frequency: 'cron', cron: '*/0 * * * *' }, /step must be at least 1/],
    [{ frequency: 'cron', cron: '5-1 * * * *' }, /runs backwards/],
    [{ frequency: 'fortnightly' }, /frequency/],
    [{ frequency: 'weekly', dayOfWeek: 9 }, /dayOfWeek/],
    [{ frequency: 'hourly', everyHours: 0 }, /everyHours/],
    [{ frequency: 'daily', extra: true }, /extra/],
  ])(
    'when the schedule %o is invalid, then it is refused saying what is wrong and nothing changes',
    async (input, message) => {
      const id = await credential();
      const before = await schedules.put(id, { frequency: 'daily', hour: 5 });
      const error = await schedules.put(id, input as never).catch((e) => e);
      expect(error).toBeInstanceOf(ScheduleValidationError);
      expect(error.message).toMatch(message);
      expect(await schedules.get(id)).toMatchObject({ config: before.config });
    },
  );

  it('when the company moves to another time zone, then reapplying its schedules moves the run times', async () => {
    const id = await credential('America/Chicago');
    await schedules.put(id, { frequency: 'daily', hour: 3, jitterSeconds: 0 });
    const em = orm.em.fork();
    const [row] = await em
      .getConnection()
      .execute<{ company_id: number }[]>('select company_id from servicetitan_credentials where id = ?', [
        id,
      ]);
    await em
      .getConnection()
      .execute(`update companies set time_zone = 'Asia/Tokyo' where id = ?`, [row!.company_id]);
    await schedules.reapplyCompany(row!.company_id);
    const view = await schedules.get(id);
    expect(view?.timeZone).toBe('Asia/Tokyo');
    for (const t of view!.nextRunTimes) expect(local(t, 'Asia/Tokyo')).toMatch(/^\w{3} 03:00$/);
  });

  it('when paused and unpaused, then Temporal follows and the next run times disappear and return', async () => {
    const id = await credential();
    await schedules.put(id, { frequency: 'daily' });
    const paused = await schedules.pause(id);
    expect(paused.paused).toBe(true);
    expect(paused.nextRunTimes).toEqual([]);
    expect(
      (await temporal.client.schedule.getHandle(scheduleId(testInstallationId, id)).describe()).state.paused,
    ).toBe(true);
    const active = await schedules.unpause(id);
    expect(active.paused).toBe(false);
    expect(active.nextRunTimes.length).toBeGreaterThan(0);
  });

  it('when Temporal drifts from the database, then reconcile recreates, updates and deletes to match, and is idempotent', async () => {
    const a = await credential();
    const b = await credential('America/Chicago', 7_100_002);
    await schedules.put(a, { frequency: 'daily' });
    await schedules.put(b, { frequency: 'weekly' });
    await temporal.client.schedule.getHandle(scheduleId(testInstallationId, a)).delete();
    await temporal.client.schedule
      .getHandle(scheduleId(testInstallationId, b))
      .update((s) => ({ ...s, spec: { calendars: [{ hour: 1 }] } }));
    // A stray: a schedule whose credential has none in the database.
    await temporal.client.schedule.create({
      scheduleId: scheduleId(testInstallationId, 999_999),
      spec: { calendars: [{ hour: 2 }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'scheduledSyncWorkflow',
        args: [{ installationId: testInstallationId, credentialId: 999_999 }],
        taskQueue: worker.taskQueue,
      },
    });

    // Schedules are listed from Temporal's visibility store, which catches up a moment later.
    await waitForListed(temporal.client, scheduleId(testInstallationId, 999_999));

    const report = await schedules.reconcile();
    expect(report.created).toEqual([a]);
    expect(report.deleted).toEqual([scheduleId(testInstallationId, 999_999)]);
    // b's spec changed behind our back, but its fingerprint (kept in the action memo) did not.
    expect([...report.updated, ...report.unchanged]).toContain(b);
    const again = await schedules.reconcile();
    expect(again.created).toEqual([]);
    expect(again.deleted).toEqual([]);
    expect(again.unchanged.sort()).toEqual([a, b].sort());
  });

  it('when a schedule fires, then a scheduled run syncs; when a run is already going, then the scheduled one is recorded as skipped', async () => {
    const id = await credential();
    await schedules.put(id, { frequency: 'weekly' });
    const handle = temporal.client.schedule.getHandle(scheduleId(testInstallationId, id));

    await handle.trigger();
    const first = await waitForRuns(orm, 1, (runs) =>
      runs.every((r) => ['completed', 'skipped', 'failed'].includes(r.status)),
    );
    expect(first.map((r) => [r.trigger, r.status])).toEqual([['schedule', 'completed']]);

    // The manual run is held in flight until the scheduled one has been turned away.
    const hold = sandbox.hold();
    let runs: Awaited<ReturnType<typeof waitForRuns>>;
    let manual: Awaited<ReturnType<typeof startSync>>;
    try {
      manual = await startSync(
        {
          em: orm.em.fork(),
          temporal: temporal.client,
          taskQueue: worker.taskQueue,
          installationId: testInstallationId,
        },
        { credentialId: id, trigger: 'manual', mode: 'full' },
      );
      await hold.reached();
      await handle.trigger();
      await waitForRuns(orm, 3, (all) => all.some((r) => r.trigger === 'schedule' && r.status === 'skipped'));
      hold.release();
      runs = await waitForRuns(orm, 3, (all) =>
        all.every((r) => ['completed', 'skipped', 'failed'].includes(r.status)),
      );
    } finally {
      hold.release();
    }
    const byId = new Map(runs.map((r) => [r.id, r]));
    expect(byId.get(manual.syncRunId)?.status).toBe('completed');
    expect(runs.filter((r) => r.trigger === 'schedule').map((r) => r.status)).toEqual([
      'completed',
      'skipped',
    ]);
  });
});

async function waitForListed(client: Client, id: string) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    for await (const summary of client.schedule.list()) if (summary.scheduleId === id) return;
    if (Date.now() > deadline) throw new Error(`schedule ${id} never appeared in the list`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function waitForRuns(
  orm: MikroORM,
  count: number,
  done: (runs: { id: number; trigger: string; status: string }[]) => boolean,
) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const runs = await orm.em.fork().find(SyncRun, {}, { orderBy: { id: 'asc' } });
    if (runs.length >= count && done(runs)) return runs;
    if (Date.now() > deadline)
      throw new Error(`runs did not settle: ${JSON.stringify(runs.map((r) => [r.trigger, r.status]))}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
