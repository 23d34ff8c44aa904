import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { FreshnessPolicy } from '../alerts/policy.js';

const { checkFreshness } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '10 seconds', maximumAttempts: 5 },
});

/** What the freshness schedule starts every few minutes: ids of the credentials announced stale. */
export async function freshnessWorkflow(
  policy: FreshnessPolicy,
): Promise<{ checked: number; stale: number[] }> {
  return checkFreshness(policy);
}
