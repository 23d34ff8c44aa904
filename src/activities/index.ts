import { createAlertActivities } from './alerts.activities.js';
import type { ActivityDeps } from './deps.js';
import { createNotificationActivities } from './notifications.activities.js';
import { createFullLoadPlanActivities } from './plan-full-load.activities.js';
import { createRetentionActivities } from './retention.activities.js';
import { createSyncRunActivities } from './sync-runs.activities.js';
import { createSyncStreamActivities } from './sync-stream.activities.js';

export type { ActivityDeps } from './deps.js';

/** Every activity the worker registers, built from its dependencies (fakes in tests use the same type). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createSyncRunActivities(deps),
    ...createSyncStreamActivities(deps),
    ...createFullLoadPlanActivities(deps),
    ...createRetentionActivities(deps),
    ...createNotificationActivities(deps),
    ...createAlertActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
