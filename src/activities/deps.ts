import type { MikroORM } from '@mikro-orm/postgresql';
import type { AlertPolicy } from '../alerts/policy.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/index.js';
import type { Mailer } from '../notifications/email.js';
import type { WebhookUrlPolicy } from '../notifications/url-policy.js';
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
  /** The tenant's request budget (SERVICETITAN_RATE_LIMIT): how many windows a full load reads at once. */
  rateLimitPerSecond?: number;
  /** Records written, runs finished (absent in unit tests that do not look at them). */
  metrics?: Metrics;
  /**
   * Aborted when the worker begins to shut down (SIGTERM): a chunk then hands back to the
   * workflow as soon as the page in hand is committed, so the run carries on on another worker
   * rather than losing the page to the shutdown grace time's end.
   */
  draining?: AbortSignal;
  /** Webhook and email delivery (src/notifications); without it deliveries wait for a worker that has it. */
  notifications?: { policy: WebhookUrlPolicy; timeoutMs: number; mailer?: Mailer | undefined };
  /** When runs raise alerts (default: defaultAlertPolicy). */
  alerts?: AlertPolicy;
}
