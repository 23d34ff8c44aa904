import { checkFreshness } from '../alerts/freshness.js';
import type { FreshnessPolicy } from '../alerts/policy.js';
import type { ActivityDeps } from './deps.js';
import { toActivityFailure } from './failures.js';

/** The freshness schedule's activity: returns ids and counts only. */
export function createAlertActivities({ orm, logger }: ActivityDeps) {
  const log = logger.child({ activities: 'alerts' });
  return {
    async checkFreshness(policy: FreshnessPolicy): Promise<{ checked: number; stale: number[] }> {
      try {
        return await checkFreshness({ orm, logger: log }, policy);
      } catch (error) {
        throw toActivityFailure(error, log);
      }
    },
  };
}
