import { beforeAll, describe, expect, it } from 'vitest';
import { reconcileCommand, syncCommand } from '../../../src/cli/sync.command.js';
import { SyncRun } from '../../../src/db/entities/index.js';
import { createScheduleService } from '../../../src/schedules/index.js';
import { scheduleId } from '../../../src/workflows/definitions.js';
import { createCompanyWithCredential } from '../../support/fixtures.js';
import { testInstallationId, testLogger, truncateAll } from '../../support/integration.js';
import { useSyncHarness } from '../../support/sync-harness.js';

describe('stsync sync and schedules reconcile', () => {
  const h = useSyncHarness({
    rateLimitPerSecond: 0,
    tenants: [{ tenantId: 8_800_001, customers: 200, invoices: 300 }],
  });
  beforeAll(() => truncateAll(h.orm));

  it('when `sync <id> --wait` runs, then it starts a cli-triggered run, prints progress and its outcome', async () => {
    const { credentialId } = await createCompanyWithCredential(h.orm, h.sandbox.tenants[0]!);
    const lines: string[] = [];
    const status = await syncCommand(
      {
        orm: h.orm,
        temporal: h.temporal.client,
        taskQueue: h.worker.taskQueue,
        installationId: testInstallationId,
        write: (l) => lines.push(l),
      },
      { credentialId, mode: 'full', streams: ['invoices'], wait: true },
    );
    expect(status).toBe('completed');
    expect(lines[0]).toMatch(/^run \d+ started \(workflow sync-t[0-9a-f]+-credential-\d+\)$/);
    expect(lines.at(-1)).toMatch(/^run \d+ completed$/);
    const [run] = await h.orm.em.fork().find(SyncRun, { credential: credentialId });
    expect(run).toMatchObject({ trigger: 'cli', streams: ['invoices'], status: 'completed' });
    expect(run!.counts.invoices?.upserted).toBe(300);
  });

  it('when `schedules reconcile` runs after a schedule vanished from Temporal, then it is recreated', async () => {
    const { credentialId } = await createCompanyWithCredential(h.orm, {
      ...h.sandbox.tenants[0]!,
      tenantId: 8_800_002,
    });
    const deps = {
      orm: h.orm,
      temporal: h.temporal.client,
      taskQueue: h.worker.taskQueue,
      installationId: testInstallationId,
      logger: testLogger,
    };
    const schedules = createScheduleService(deps);
    await schedules.put(credentialId, { frequency: 'daily' });
    await h.temporal.client.schedule.getHandle(scheduleId(testInstallationId, credentialId)).delete();
    try {
      const report = await reconcileCommand(deps);
      expect(report.created).toEqual([credentialId]);
      expect((await schedules.get(credentialId))?.nextRunTimes.length).toBeGreaterThan(0);
    } finally {
      await schedules.remove(credentialId);
    }
  });
});
