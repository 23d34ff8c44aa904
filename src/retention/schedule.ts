import { type Client, ScheduleOverlapPolicy } from '@temporalio/client';
import type { Logger } from '../logger.js';
import { ensureOwnedSchedule } from '../temporal/owned-schedule.js';
import { retentionWorkflow } from '../workflows/index.js';
import type { RetentionPolicy } from './index.js';

/**
 * The retention schedule's and its workflows' ids, in this one place so that they can be scoped
 * (by installation) like the sync ids. Not under the sync schedules' prefix: their reconcile
 * deletes strays there.
 */
export function retentionIds(installationId: string): { scheduleId: string; workflowId: string } {
  const id = `stsync-retention-${installationId}`;
  return { scheduleId: id, workflowId: id };
}

/** Daily in the quiet hours (UTC), jittered so that deployments sharing a database spread out. */
const spec = { calendars: [{ hour: 2, minute: 30 }], jitter: '30 minutes' };

/**
 * Creates the retention schedule, or updates it when the policy or task queue changed; any
 * number of processes may call it at start (a concurrent creation counts as done).
 */
export async function ensureRetentionSchedule(deps: {
  temporal: Client;
  taskQueue: string;
  installationId: string;
  policy: RetentionPolicy;
  logger: Logger;
  /** Tests use their own, beside a shared Temporal. */
  ids?: { scheduleId: string; workflowId: string };
}): Promise<'created' | 'updated' | 'unchanged'> {
  const { taskQueue, policy } = deps;
  const ids = deps.ids ?? retentionIds(deps.installationId);
  const outcome = await ensureOwnedSchedule({
    temporal: deps.temporal,
    scheduleId: ids.scheduleId,
    spec,
    action: {
      type: 'startWorkflow',
      workflowType: retentionWorkflow,
      args: [policy] as [RetentionPolicy],
      taskQueue,
      workflowId: ids.workflowId,
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
    memoKey: 'retentionFingerprint',
  });
  deps.logger.info({ scheduleId: ids.scheduleId, policy, outcome }, 'retention schedule ensured');
  return outcome;
}

/**
 * What every root calls at start: retention is housekeeping, so a schedule that cannot be set up
 * (Temporal refusing, say) is logged and never stops the product; the next start tries again.
 */
export async function ensureRetentionScheduleAtStart(
  deps: Parameters<typeof ensureRetentionSchedule>[0],
): Promise<void> {
  await ensureRetentionSchedule(deps).catch((error: unknown) =>
    deps.logger.error(
      { err: error },
      'retention schedule could not be ensured; old data is not pruned until it is',
    ),
  );
}
