import type { MikroORM } from '@mikro-orm/postgresql';
import type { AlertPolicy } from '../alerts/policy.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { Logger } from '../logger.js';
import type { ServiceTitanClient } from '../servicetitan/index.js';

/**
 * What every activity is built from. A file of its own: each activity module imports it, and
 * index.ts imports the modules, so the type living in index.ts made an import circle.
 */
export interface ActivityDeps {
  orm: MikroORM;
  logger: Logger;
  serviceTitan: ServiceTitanClient;
  secrets: SecretBox;
  /** How long one chunk activity pulls pages before handing back to the workflow. */
  chunkMs?: number;
  /** When runs raise alerts (default: defaultAlertPolicy). */
  alerts?: AlertPolicy;
}
