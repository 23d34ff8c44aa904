import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { createDispatcher, type Dispatcher } from '../notifications/dispatcher.js';
import { createMailer, type Mailer } from '../notifications/email.js';
import type { WebhookUrlPolicy } from '../notifications/url-policy.js';

/**
 * The SSRF rule from the settings. `embedded` (npm start) also allows loopback: a receiver
 * tried out on the same machine works without opening every private network.
 */
export function webhookPolicy(config: Config, embedded = false): WebhookUrlPolicy {
  return { allowPrivateNetworks: config.notifications.allowPrivateNetworks, allowLoopback: embedded };
}

/** What a worker's delivery activities need; the mailer exists when SMTP_URL is set. */
export function notificationActivityDeps(
  config: Config,
  embedded = false,
): { policy: WebhookUrlPolicy; timeoutMs: number; mailer: Mailer | undefined } {
  const { smtpUrl, emailFrom, webhookTimeoutMs } = config.notifications;
  return {
    policy: webhookPolicy(config, embedded),
    timeoutMs: webhookTimeoutMs,
    mailer: smtpUrl ? createMailer({ smtpUrl, from: emailFrom }) : undefined,
  };
}

/** Starts the outbox dispatcher loop beside a worker (see src/notifications/dispatcher.ts). */
export function startDispatcher(
  config: Config,
  deps: {
    orm: MikroORM;
    databaseUrl: string;
    temporal: Client;
    taskQueue: string;
    installationId: string;
    logger: Logger;
  },
): Dispatcher {
  const n = config.notifications;
  const dispatcher = createDispatcher({
    ...deps,
    email: { enabled: !!n.smtpUrl, to: n.emailTo, events: n.emailEvents },
    downstreamChannel: n.downstreamChannel,
    undeliveredAlertMinutes: n.undeliveredAlertMinutes,
  });
  dispatcher.start();
  return dispatcher;
}
