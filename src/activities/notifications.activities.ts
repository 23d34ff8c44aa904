import { ApplicationFailure, Context } from '@temporalio/activity';
import { createDeliveryAttempts } from '../notifications/deliveries.js';
import type { DeliveryInput } from '../workflows/definitions.js';
import type { ActivityDeps } from './deps.js';

/** Attempts as the metric counts them (deploy/prometheus/alerts.yml reads these names). */
const metricOutcome = {
  succeeded: 'delivered',
  retry: 'failed',
  gave_up: 'gave_up',
  cancelled: 'cancelled',
} as const;

/** The delivery workflow's activity: one attempt; a failure throws so that Temporal retries it. */
export function createNotificationActivities(deps: ActivityDeps) {
  const attempts = deps.notifications
    ? createDeliveryAttempts({
        fork: () => deps.orm.em.fork(),
        secrets: deps.secrets,
        logger: deps.logger,
        ...deps.notifications,
      })
    : undefined;
  return {
    async attemptDelivery(input: DeliveryInput): Promise<'succeeded' | 'cancelled'> {
      if (!attempts)
        throw ApplicationFailure.retryable('This worker is not set up for notifications.', 'NotConfigured');
      const result = await attempts.attempt(input, Context.current().info.attempt);
      if (input.channel === 'webhook')
        deps.metrics?.webhookDeliveries.inc({ outcome: metricOutcome[result.outcome] });
      if (result.outcome === 'succeeded' || result.outcome === 'cancelled') return result.outcome;
      if (result.outcome === 'gave_up')
        throw ApplicationFailure.nonRetryable('The delivery failed on its last attempt.', 'DeliveryGaveUp');
      // The reason is on the delivery row; history gets a generic message (no URL, no body).
      throw ApplicationFailure.retryable(
        'The delivery attempt failed; see its delivery row.',
        'DeliveryFailed',
      );
    },
  };
}
