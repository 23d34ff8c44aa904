import type { EntityManager } from '@mikro-orm/postgresql';
import type { SecretBox } from '../crypto/secret-box.js';
import { EmailDelivery, WebhookDelivery, WebhookSubscription } from '../db/entities/index.js';
import type { Logger } from '../logger.js';
import type { DeliveryInput, DeliveryRetry } from '../workflows/definitions.js';
import type { Mailer } from './email.js';
import type { WebhookUrlPolicy } from './url-policy.js';
import { postWebhook } from './webhook-sender.js';

/** The AES-GCM purpose a webhook's signing secret is encrypted under. */
export const webhookSecretPurpose = 'webhook.secret';

export interface DeliveryDeps {
  /** A fresh EntityManager per attempt (the worker's ORM, or an API request's). */
  fork: () => EntityManager;
  secrets: SecretBox;
  logger: Logger;
  policy: WebhookUrlPolicy;
  timeoutMs: number;
  /** Absent when SMTP_URL is not set: email deliveries then fail with that reason. */
  mailer?: Mailer | undefined;
}

export type AttemptOutcome =
  | { outcome: 'succeeded' | 'cancelled' | 'gave_up' }
  | { outcome: 'retry'; error: string; nextAttemptAt: Date };

/** When Temporal will try again after `attempt` failed (its own formula for the same policy). */
export function nextAttemptAt(retry: DeliveryRetry, attempt: number, now = Date.now()): Date {
  const delay = Math.min(
    retry.initialIntervalMs * retry.backoffCoefficient ** (attempt - 1),
    retry.maximumIntervalMs,
  );
  return new Date(now + delay);
}

/**
 * One attempt of one delivery, recorded on its row: attempts, response code, error, and the next
 * attempt's time (or the final status). The activity calls it; `/test` calls it once.
 */
export function createDeliveryAttempts(deps: DeliveryDeps) {
  async function webhook(deliveryId: string, attempt: number, retry: DeliveryRetry): Promise<AttemptOutcome> {
    const em = deps.fork();
    const delivery = await em.findOne(WebhookDelivery, deliveryId);
    // Deleted with its webhook, or already settled by an earlier attempt.
    if (delivery?.status !== 'pending')
      return { outcome: delivery?.status === 'succeeded' ? 'succeeded' : 'cancelled' };
    const subscription = await em.findOne(WebhookSubscription, delivery.webhook.id);
    if (!subscription?.enabled) {
      delivery.status = 'cancelled';
      delivery.lastError = 'The webhook was disabled.';
      delivery.nextAttemptAt = null;
      await em.flush();
      return { outcome: 'cancelled' };
    }
    const result = await postWebhook({
      url: subscription.url,
      secret: deps.secrets.decrypt(subscription.secretEncrypted, webhookSecretPurpose),
      messageId: delivery.messageId,
      body: delivery.body,
      policy: deps.policy,
      timeoutMs: deps.timeoutMs,
    });
    delivery.attempts += 1;
    delivery.lastResponseCode = result.status;
    delivery.lastError = result.error?.slice(0, 500) ?? null;
    const log = deps.logger.child({ deliveryId, webhookId: subscription.id, messageId: delivery.messageId });
    if (result.ok) {
      delivery.status = 'succeeded';
      delivery.deliveredAt = new Date();
      delivery.nextAttemptAt = null;
      await em.flush();
      log.info({ status: result.status, attempt }, 'webhook delivered');
      return { outcome: 'succeeded' };
    }
    return settleFailure(em, delivery, result.error ?? 'failed', attempt, retry, log);
  }

  async function email(deliveryId: string, attempt: number, retry: DeliveryRetry): Promise<AttemptOutcome> {
    const em = deps.fork();
    const delivery = await em.findOne(EmailDelivery, deliveryId);
    if (delivery?.status !== 'pending')
      return { outcome: delivery?.status === 'succeeded' ? 'succeeded' : 'cancelled' };
    const log = deps.logger.child({ emailDeliveryId: deliveryId });
    delivery.attempts += 1;
    if (!deps.mailer) {
      delivery.lastError = 'SMTP_URL is not set: email cannot be sent.';
      return settleFailure(em, delivery, delivery.lastError, attempt, retry, log);
    }
    try {
      await deps.mailer.send({ to: delivery.recipient, subject: delivery.subject, text: delivery.text });
    } catch (error) {
      // nodemailer's messages name the server's answer, never the SMTP password.
      const message = (error instanceof Error ? error.message : String(error)).slice(0, 300);
      delivery.lastError = message;
      return settleFailure(em, delivery, message, attempt, retry, log);
    }
    delivery.status = 'succeeded';
    delivery.deliveredAt = new Date();
    delivery.lastError = null;
    delivery.nextAttemptAt = null;
    await em.flush();
    log.info({ attempt, eventType: delivery.eventType }, 'notification email sent');
    return { outcome: 'succeeded' };
  }

  async function settleFailure(
    em: EntityManager,
    delivery: { status: string; nextAttemptAt?: Date | null | undefined },
    error: string,
    attempt: number,
    retry: DeliveryRetry,
    log: Logger,
  ): Promise<AttemptOutcome> {
    if (attempt >= retry.maximumAttempts) {
      delivery.status = 'failed';
      delivery.nextAttemptAt = null;
      await em.flush();
      log.error({ attempt, error }, 'notification delivery failed for good');
      return { outcome: 'gave_up' };
    }
    const next = nextAttemptAt(retry, attempt);
    delivery.nextAttemptAt = next;
    await em.flush();
    log.warn({ attempt, error, nextAttemptAt: next.toISOString() }, 'notification delivery failed; retrying');
    return { outcome: 'retry', error, nextAttemptAt: next };
  }

  return {
    attempt(input: DeliveryInput, attempt: number): Promise<AttemptOutcome> {
      return input.channel === 'webhook'
        ? webhook(input.deliveryId, attempt, input.retry)
        : email(input.deliveryId, attempt, input.retry);
    },
  };
}
