import type { MikroORM } from '@mikro-orm/postgresql';
import type { SecretBox } from '../crypto/secret-box.js';
import type { Logger } from '../logger.js';
import type { ServiceTitanClient } from '../servicetitan/index.js';
import { createRetentionActivities } from './retention.activities.js';
import { createSyncRunActivities } from './sync-runs.activities.js';
import { createSyncStreamActivities } from './sync-stream.activities.js';

export interface ActivityDeps {
  orm: MikroORM;
  logger: Logger;
  serviceTitan: ServiceTitanClient;
  secrets: SecretBox;
  /** How long one chunk activity pulls pages before handing back to the workflow. */
  chunkMs?: number;
}

/** Every activity the worker registers, built from its dependencies (fakes in tests use the same type). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createSyncRunActivities(deps),
    ...createSyncStreamActivities(deps),
    ...createRetentionActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
