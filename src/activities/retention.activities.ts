import { Context } from '@temporalio/activity';
import { createRetention, type RetentionPolicy, type RetentionReport } from '../retention/index.js';
import type { ActivityDeps } from './deps.js';

/** The retention schedule's one activity: prunes in batches, heartbeating between them. */
export function createRetentionActivities({ orm, logger }: ActivityDeps) {
  const retention = createRetention({ orm, logger });
  return {
    async applyRetention(policy: RetentionPolicy): Promise<RetentionReport> {
      return retention.prune(policy, () => Context.current().heartbeat());
    },
  };
}
