import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Company } from './company.entity.js';

export const deliveryStatuses = ['pending', 'succeeded', 'failed', 'cancelled'] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

/**
 * A webhook endpoint and the event types it gets; a company's (only its events) or global (null).
 * The signing secret is stored encrypted (src/crypto/secret-box.ts) and shown once, at creation.
 */
export const WebhookSubscription = defineEntity({
  name: 'WebhookSubscription',
  tableName: 'webhook_subscriptions',
  properties: {
    id: p.integer().primary(),
    company: () =>
      p.manyToOne(Company).nullable().deleteRule('cascade').index('webhook_subscriptions_company_id_index'),
    url: p.string().length(2048),
    events: p.json<string[]>(),
    description: p.string().length(500).nullable(),
    secretEncrypted: p.text(),
    enabled: p.boolean().default(true),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
});
export type IWebhookSubscription = InferEntity<typeof WebhookSubscription>;

/**
 * One message to one webhook: an outbox event's (unique per event and webhook, so a repeated
 * fan-out adds nothing) or a `/test`'s (no event). The body is fixed when the row is made, so
 * every attempt sends the same bytes under the same `webhook-id`. No foreign key to the outbox:
 * retention prunes dispatched events, the delivery history stays.
 */
export const WebhookDelivery = defineEntity({
  name: 'WebhookDelivery',
  tableName: 'webhook_deliveries',
  properties: {
    id: p.bigint('string').primary(),
    webhook: () => p.manyToOne(WebhookSubscription).deleteRule('cascade').ref(),
    outboxEventId: p.bigint('string').nullable(),
    eventType: p.string().length(64),
    messageId: p.string().length(64),
    body: p.text(),
    status: p.enum(deliveryStatuses).default('pending'),
    attempts: p.integer().default(0),
    lastResponseCode: p.integer().nullable(),
    lastError: p.string().length(500).nullable(),
    nextAttemptAt: p.datetime().nullable(),
    workflowStartedAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    deliveredAt: p.datetime().nullable(),
  },
  uniques: [
    {
      properties: ['outboxEventId', 'webhook'],
      name: 'webhook_deliveries_outbox_event_id_webhook_id_unique',
    },
  ],
  indexes: [
    { properties: ['webhook', 'id'], name: 'webhook_deliveries_webhook_id_id_index' },
    { properties: ['status', 'createdAt'], name: 'webhook_deliveries_status_created_at_index' },
  ],
});
export type IWebhookDelivery = InferEntity<typeof WebhookDelivery>;

/** A company's email recipient and the event types they get. */
export const NotificationRecipient = defineEntity({
  name: 'NotificationRecipient',
  tableName: 'notification_recipients',
  properties: {
    id: p.integer().primary(),
    company: () => p.manyToOne(Company).deleteRule('cascade'),
    email: p.string().length(320),
    events: p.json<string[]>(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
  uniques: [{ properties: ['company', 'email'], name: 'notification_recipients_company_id_email_unique' }],
});
export type INotificationRecipient = InferEntity<typeof NotificationRecipient>;

/** One email of one event to one address (unique per event and address); rendered when made. */
export const EmailDelivery = defineEntity({
  name: 'EmailDelivery',
  tableName: 'email_deliveries',
  properties: {
    id: p.bigint('string').primary(),
    outboxEventId: p.bigint('string').nullable(),
    company: () => p.manyToOne(Company).nullable().deleteRule('cascade').ref(),
    recipient: p.string().length(320),
    eventType: p.string().length(64),
    subject: p.string().length(300),
    text: p.text(),
    status: p.enum(deliveryStatuses).default('pending'),
    attempts: p.integer().default(0),
    lastError: p.string().length(500).nullable(),
    nextAttemptAt: p.datetime().nullable(),
    workflowStartedAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    deliveredAt: p.datetime().nullable(),
  },
  uniques: [
    { properties: ['outboxEventId', 'recipient'], name: 'email_deliveries_outbox_event_id_recipient_unique' },
  ],
  indexes: [{ properties: ['status', 'createdAt'], name: 'email_deliveries_status_created_at_index' }],
});
export type IEmailDelivery = InferEntity<typeof EmailDelivery>;
