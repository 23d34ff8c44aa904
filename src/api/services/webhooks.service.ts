import type { z } from 'zod';
import type { SecretBox } from '../../crypto/secret-box.js';
import {
  type IWebhookDelivery,
  type IWebhookSubscription,
  NotificationRecipient,
  WebhookDelivery,
  WebhookSubscription,
} from '../../db/entities/index.js';
import { AppError } from '../../errors.js';
import { createDeliveryAttempts, webhookSecretPurpose } from '../../notifications/deliveries.js';
import { deliveryBacklog } from '../../notifications/dispatcher.js';
import { checkWebhookUrl, type WebhookUrlPolicy } from '../../notifications/url-policy.js';
import { newMessageId, newWebhookSecret } from '../../notifications/webhook-sender.js';
import type { RouteContext } from '../route.js';
import type {
  recipientsBodySchema,
  webhookCreateSchema,
  webhookDeliveryQuery,
  webhookPatchSchema,
} from '../schemas.js';
import { iso, visibleCompany } from './scope.js';

export interface WebhookServiceDeps {
  secrets: SecretBox | undefined;
  /** The SSRF rule (WEBHOOK_ALLOW_PRIVATE_NETWORKS; the embedded default allows loopback). */
  policy: WebhookUrlPolicy;
  timeoutMs: number;
  /** What recipients get when they do not choose (failures and alerts). */
  defaultEmailEvents: readonly string[];
  /** NOTIFY_UNDELIVERED_ALERT_MINUTES. */
  undeliveredAlertMinutes: number;
}

export function createWebhookService(deps: WebhookServiceDeps) {
  const secrets = (): SecretBox => {
    if (!deps.secrets)
      throw new AppError(
        'encryption_not_configured',
        'ENCRYPTION_KEYS is not set: webhook secrets cannot be stored.',
      );
    return deps.secrets;
  };

  const toView = (w: IWebhookSubscription) => ({
    id: w.id,
    companyId: w.company?.id ?? null,
    url: w.url,
    events: w.events,
    description: w.description ?? null,
    enabled: w.enabled,
    createdAt: w.createdAt.toISOString(),
    updatedAt: w.updatedAt.toISOString(),
  });

  const deliveryView = (d: IWebhookDelivery) => ({
    id: String(d.id),
    eventType: d.eventType,
    outboxEventId: d.outboxEventId ? String(d.outboxEventId) : null,
    messageId: d.messageId,
    status: d.status,
    attempts: d.attempts,
    lastResponseCode: d.lastResponseCode ?? null,
    lastError: d.lastError ?? null,
    nextAttemptAt: iso(d.nextAttemptAt),
    createdAt: d.createdAt.toISOString(),
    deliveredAt: iso(d.deliveredAt),
  });

  /** A webhook the caller may see: a company-limited token sees its company's only (404 otherwise). */
  async function visibleWebhook(ctx: RouteContext, id: number): Promise<IWebhookSubscription> {
    const webhook = await ctx.em.findOne(WebhookSubscription, id);
    const own = ctx.principal.companyId;
    if (!webhook || (own !== null && webhook.company?.id !== own))
      throw new AppError('not_found', `Webhook ${id} does not exist.`);
    ctx.audit.companyId = webhook.company?.id ?? null;
    return webhook;
  }

  async function checkUrl(url: string): Promise<string> {
    return (await checkWebhookUrl(url, deps.policy)).toString();
  }

  return {
    async create(ctx: RouteContext, input: z.output<typeof webhookCreateSchema>) {
      const box = secrets();
      const companyId = input.companyId ?? ctx.principal.companyId;
      if (companyId != null) await visibleCompany(ctx, companyId);
      const url = await checkUrl(input.url);
      const secret = newWebhookSecret();
      const webhook = ctx.em.create(WebhookSubscription, {
        company: companyId ?? null,
        url,
        events: input.events,
        description: input.description ?? null,
        secretEncrypted: box.encrypt(secret, webhookSecretPurpose),
        enabled: true,
      });
      await ctx.em.flush();
      return { ...toView(webhook), secret };
    },

    async list(ctx: RouteContext) {
      const own = ctx.principal.companyId;
      const rows = await ctx.em.find(WebhookSubscription, own === null ? {} : { company: own }, {
        orderBy: { id: 'asc' },
      });
      if (own !== null) ctx.audit.companyId = own;
      return { items: rows.map(toView) };
    },

    async get(ctx: RouteContext, id: number) {
      return toView(await visibleWebhook(ctx, id));
    },

    async update(ctx: RouteContext, id: number, input: z.output<typeof webhookPatchSchema>) {
      const webhook = await visibleWebhook(ctx, id);
      if (input.url !== undefined) webhook.url = await checkUrl(input.url);
      if (input.events !== undefined) webhook.events = input.events;
      if (input.description !== undefined) webhook.description = input.description;
      if (input.enabled !== undefined) webhook.enabled = input.enabled;
      await ctx.em.flush();
      return toView(webhook);
    },

    /** Deletes the webhook and its delivery history; deliveries in flight stop at their next attempt. */
    async remove(ctx: RouteContext, id: number) {
      const webhook = await visibleWebhook(ctx, id);
      await ctx.em.remove(webhook).flush();
    },

    /**
     * Sends a `webhook.test` message now, once (no retries), and answers how it went; the
     * attempt is listed among the webhook's deliveries like any other.
     */
    async test(ctx: RouteContext, id: number) {
      const box = secrets();
      const webhook = await visibleWebhook(ctx, id);
      if (!webhook.enabled) throw new AppError('conflict', `Webhook ${id} is disabled.`);
      const body = JSON.stringify({
        type: 'webhook.test',
        timestamp: new Date().toISOString(),
        data: {
          webhookId: webhook.id,
          companyId: webhook.company?.id ?? null,
          message: 'A test message from servicetitan-sync: verify its signature with your secret.',
        },
      });
      const delivery = ctx.em.create(WebhookDelivery, {
        webhook: webhook.id,
        outboxEventId: null,
        eventType: 'webhook.test',
        messageId: newMessageId(),
        body,
        status: 'pending',
        // No workflow: the one attempt is made here.
        workflowStartedAt: new Date(),
      });
      await ctx.em.flush();
      const attempts = createDeliveryAttempts({
        fork: () => ctx.em.fork(),
        secrets: box,
        logger: ctx.log,
        policy: deps.policy,
        timeoutMs: deps.timeoutMs,
      });
      await attempts.attempt(
        {
          channel: 'webhook',
          deliveryId: String(delivery.id),
          retry: { initialIntervalMs: 0, backoffCoefficient: 1, maximumIntervalMs: 0, maximumAttempts: 1 },
        },
        1,
      );
      const settled = await ctx.em.fork().findOneOrFail(WebhookDelivery, delivery.id);
      ctx.audit.details = {
        ...ctx.audit.details,
        status: settled.status,
        responseCode: settled.lastResponseCode,
      };
      return deliveryView(settled);
    },

    async deliveries(ctx: RouteContext, id: number, query: z.output<typeof webhookDeliveryQuery>) {
      const webhook = await visibleWebhook(ctx, id);
      const [rows, total] = await ctx.em.findAndCount(
        WebhookDelivery,
        { webhook: webhook.id },
        { orderBy: { id: 'desc' }, limit: query.pageSize, offset: (query.page - 1) * query.pageSize },
      );
      return { items: rows.map(deliveryView), page: query.page, pageSize: query.pageSize, total };
    },

    async recipients(ctx: RouteContext, companyId: number) {
      await visibleCompany(ctx, companyId);
      const rows = await ctx.em.find(
        NotificationRecipient,
        { company: companyId },
        { orderBy: { email: 'asc' } },
      );
      return { companyId, recipients: rows.map((r) => ({ email: r.email, events: r.events })) };
    },

    /** Replaces the company's recipients (an empty list removes them all). */
    async putRecipients(ctx: RouteContext, companyId: number, input: z.output<typeof recipientsBodySchema>) {
      await visibleCompany(ctx, companyId);
      await ctx.em.nativeDelete(NotificationRecipient, { company: companyId });
      const byEmail = new Map(input.recipients.map((r) => [r.email.toLowerCase(), r.events]));
      for (const [email, events] of byEmail)
        ctx.em.create(NotificationRecipient, {
          company: companyId,
          email,
          events: events ?? [...deps.defaultEmailEvents],
        });
      await ctx.em.flush();
      ctx.audit.details = { ...ctx.audit.details, recipients: byEmail.size };
      return this.recipients(ctx, companyId);
    },

    async status(ctx: RouteContext) {
      return deliveryBacklog(ctx.em, deps.undeliveredAlertMinutes);
    },
  };
}
