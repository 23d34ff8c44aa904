import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { RetentionPolicy, RetentionReport } from '../retention/index.js';

const { applyRetention } = proxyActivities<Activities>({
  // A first run over a year's backlog can take a while; the heartbeat says it is still going.
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '5 minutes',
  retry: { initialInterval: '1 minute', maximumAttempts: 5 },
});

/** What the retention schedule starts daily; the policy travels in its arguments (days only). */
export async function retentionWorkflow(policy: RetentionPolicy): Promise<RetentionReport> {
  return applyRetention(policy);
}
