import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  CancellationScope,
  executeChild,
  isCancellation,
  log,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { type SyncTenantInput, type SyncTenantResult, syncWorkflowId } from './definitions.js';
import { syncTenantWorkflow } from './sync-tenant.workflow.js';

const runs = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

export interface ScheduledSyncInput {
  /** The installation whose schedule fired (src/db/installation.ts): the child's id carries it. */
  installationId: string;
  credentialId: number;
}

export type ScheduledSyncResult =
  | SyncTenantResult
  | { status: 'skipped'; reason: string; syncRunId?: number };

/**
 * What a Temporal Schedule starts. Schedules suffix their workflow ids with a timestamp, so the
 * one-run-per-credential rule is enforced here: the sync itself starts as a child under the
 * credential's fixed id, and a run already in progress (a manual one, say) makes this one
 * `skipped`, recorded in the run history.
 */
export async function scheduledSyncWorkflow(input: ScheduledSyncInput): Promise<ScheduledSyncResult> {
  const created = await runs.createScheduledSyncRun(input.credentialId);
  if (!created) {
    log.info('schedule fired for a credential that is not syncing', { credentialId: input.credentialId });
    return { status: 'skipped', reason: 'credential disabled or company sync switched off' };
  }
  // Only new histories carry a skip reason (an activity result older runs never got), so runs in
  // flight replay the same commands; the skip is recorded by an activity of its own.
  if (created.skipReason) {
    await runs.markSyncRunSkipped(created.syncRunId, created.skipReason);
    return { status: 'skipped', reason: created.skipReason, syncRunId: created.syncRunId };
  }
  const child: SyncTenantInput = {
    syncRunId: created.syncRunId,
    credentialId: input.credentialId,
    streams: created.streams,
    mode: 'incremental',
    trigger: 'schedule',
  };
  try {
    return await executeChild(syncTenantWorkflow, {
      workflowId: syncWorkflowId(input.installationId, input.credentialId),
      args: [child],
      typedSearchAttributes: workflowInfo().typedSearchAttributes,
    });
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      const reason = 'another sync of this credential was already running';
      await runs.markSyncRunSkipped(created.syncRunId, reason);
      return { status: 'skipped', reason, syncRunId: created.syncRunId };
    }
    // The sync was cancelled on its own (a disabled credential, an operator): its row says so, and
    // the schedule's run is not a failure. A cancellation of this workflow itself stays one.
    if (isCancellation(error) && !CancellationScope.current().consideredCancelled)
      return { syncRunId: created.syncRunId, status: 'cancelled', warnings: [] };
    throw error;
  }
}
