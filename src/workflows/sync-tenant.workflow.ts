import { ApplicationFailure, log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { SyncTenantInput, SyncTenantResult } from './definitions.js';

const { markSyncRunStarted, markSyncRunFinished } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', backoffCoefficient: 2 },
});

/** One sync of one ServiceTitan credential. */
export async function syncTenantWorkflow(input: SyncTenantInput): Promise<SyncTenantResult> {
  await markSyncRunStarted(input.syncRunId);
  try {
    log.info('sync run started', { syncRunId: input.syncRunId, streams: input.streams });
    // Streams are extracted here (the durable-sync issue); with none requested the run is complete.
    await markSyncRunFinished(input.syncRunId, 'completed', null);
    return { syncRunId: input.syncRunId, status: 'completed' };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await markSyncRunFinished(input.syncRunId, 'failed', message);
    throw ApplicationFailure.nonRetryable(message, 'SyncFailed');
  }
}
