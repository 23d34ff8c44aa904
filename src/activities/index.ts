import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../logger.js';
import { createSyncRunActivities } from './sync-runs.activities.js';

export interface ActivityDeps {
  orm: MikroORM;
  logger: Logger;
}

/** Every activity the worker registers, built from its dependencies (fakes in tests use the same type). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createSyncRunActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
