import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { DeliveryInput } from './definitions.js';

/**
 * Delivers one webhook message or email: Temporal retries the attempt with backoff for hours
 * (the retry policy is the input's), across worker restarts. Each attempt is recorded on the
 * delivery row by the activity; the row, not this workflow's result, is what the API shows.
 */
export async function notificationDeliveryWorkflow(
  input: DeliveryInput,
): Promise<'succeeded' | 'failed' | 'cancelled'> {
  const { attemptDelivery } = proxyActivities<Activities>({
    startToCloseTimeout: '3 minutes',
    retry: {
      initialInterval: input.retry.initialIntervalMs,
      backoffCoefficient: input.retry.backoffCoefficient,
      maximumInterval: input.retry.maximumIntervalMs,
      maximumAttempts: input.retry.maximumAttempts,
      nonRetryableErrorTypes: ['DeliveryGaveUp'],
    },
  });
  try {
    return await attemptDelivery(input);
  } catch (error) {
    if (error instanceof ActivityFailure) return 'failed';
    throw error;
  }
}
