import { createHash } from 'node:crypto';
import {
  type Client,
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  type ScheduleOptionsStartWorkflowAction,
  type ScheduleOverlapPolicy,
  type ScheduleSpec,
  type Workflow,
} from '@temporalio/client';

/**
 * Makes one of the product's own schedules (retention, freshness) what this process would create:
 * created when missing, updated when its action, spec or policies changed (a fingerprint in the
 * action's memo tells), left alone otherwise. Any number of processes may call it at start: a
 * concurrent creation counts as done.
 */
export async function ensureOwnedSchedule<W extends Workflow>(deps: {
  temporal: Client;
  scheduleId: string;
  spec: ScheduleSpec;
  action: Omit<ScheduleOptionsStartWorkflowAction<W>, 'memo'>;
  policies: { overlap: ScheduleOverlapPolicy; catchupWindow: string };
  /** The memo key that holds the fingerprint (one per schedule kind). */
  memoKey: string;
}): Promise<'created' | 'updated' | 'unchanged'> {
  const { temporal, scheduleId, spec, policies } = deps;
  const fingerprint = createHash('sha256')
    .update(JSON.stringify({ args: deps.action.args, taskQueue: deps.action.taskQueue, spec }))
    .digest('hex')
    .slice(0, 16);
  const action = {
    ...deps.action,
    memo: { [deps.memoKey]: fingerprint },
  } as ScheduleOptionsStartWorkflowAction<W>;
  const handle = temporal.schedule.getHandle(scheduleId);
  try {
    const existing = await handle.describe();
    if (existing.action.type === 'startWorkflow' && existing.action.memo?.[deps.memoKey] === fingerprint)
      return 'unchanged';
    await handle.update((previous) => ({ ...previous, spec, action, policies }));
    return 'updated';
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
    try {
      await temporal.schedule.create({ scheduleId, spec, action, policies });
      return 'created';
    } catch (raced) {
      if (!(raced instanceof ScheduleAlreadyRunning)) throw raced;
      return 'unchanged';
    }
  }
}
