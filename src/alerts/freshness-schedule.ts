import { type Client, ScheduleOverlapPolicy } from '@temporalio/client';
import type { Logger } from '../logger.js';
import { ensureOwnedSchedule } from '../temporal/owned-schedule.js';
import { freshnessWorkflow } from '../workflows/index.js';
import type { FreshnessPolicy } from './policy.js';

/** The freshness schedule's ids, scoped by installation (outside the sync schedules' prefix). */
export function freshnessIds(installationId: string): { scheduleId: string; workflowId: string } {
  const id = `stsync-freshness-${installationId}`;
  return { scheduleId: id, workflowId: id };
}

/**
 * Creates the freshness schedule (every `everyMinutes`), or updates it when the policy, the
 * interval or the task queue changed; any number of processes may call it at start.
 */
export async function ensureFreshnessSchedule(deps: {
  temporal: Client;
  taskQueue: string;
  installationId: string;
  policy: FreshnessPolicy;
  everyMinutes: number;
  logger: Logger;
  /** Tests use their own, beside a shared Temporal. */
  ids?: { scheduleId: string; workflowId: string };
}): Promise<'created' | 'updated' | 'unchanged'> {
  const { taskQueue, policy } = deps;
  const ids = deps.ids ?? freshnessIds(deps.installationId);
  const outcome = await ensureOwnedSchedule({
    temporal: deps.temporal,
    scheduleId: ids.scheduleId,
    spec: { intervals: [{ every: `${deps.everyMinutes} minutes` }] },
    action: {
      type: 'startWorkflow',
      workflowType: freshnessWorkflow,
      args: [policy] as [FreshnessPolicy],
      taskQueue,
      workflowId: ids.workflowId,
    },
    // A check missed while Temporal was down is not worth catching up: the next one looks again.
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
    memoKey: 'freshnessFingerprint',
  });
  deps.logger.info(
    { scheduleId: ids.scheduleId, everyMinutes: deps.everyMinutes, outcome },
    'freshness schedule ensured',
  );
  return outcome;
}

/** What every root calls at start: a failure is logged (stale data goes unannounced until the next start). */
export async function ensureFreshnessScheduleAtStart(
  deps: Parameters<typeof ensureFreshnessSchedule>[0],
): Promise<void> {
  await ensureFreshnessSchedule(deps).catch((error: unknown) =>
    deps.logger.error(
      { err: error },
      'freshness schedule could not be ensured; stale data is not announced until it is',
    ),
  );
}
