import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Company } from './company.entity.js';
import { ServiceTitanCredential, serviceTitanEnvironments } from './servicetitan-credential.entity.js';
import { SyncRun } from './sync-run.entity.js';

/**
 * The columns every ingested row carries, whatever the stream: the same a file upload produces,
 * plus where it came from and the record as received.
 */
const commonColumns = () => ({
  id: p.bigint('string').primary(),
  company: () => p.manyToOne(Company).deleteRule('cascade').ref(),
  /** Integration and Production tenants of one company have overlapping ids: part of the key. */
  environment: p.enum(serviceTitanEnvironments),
  software: p.string().length(32),
  externalId: p.string().length(32),
  active: p.boolean(),
  sourceCreatedOn: p.datetime().nullable(),
  sourceModifiedOn: p.datetime(),
  firstSeenAt: p.datetime().defaultRaw('now()'),
  lastSyncedAt: p.datetime().defaultRaw('now()'),
  syncRun: () => p.manyToOne(SyncRun).nullable().deleteRule('set null').ref(),
  /** The record as received: `json`, its text kept as is (audit only; see the ingest-storage migration). */
  raw: p.json<unknown>().columnType('json'),
});

/** Customers: the seeds' MemberRecord. */
export const MemberRecord = defineEntity({
  name: 'MemberRecord',
  tableName: 'members_stream',
  properties: {
    ...commonColumns(),
    name: p.text().nullable(),
    firstName: p.text().nullable(),
    lastName: p.text().nullable(),
    customerType: p.text().nullable(),
    email: p.text().nullable(),
    phone: p.text().nullable(),
    street: p.text().nullable(),
    unit: p.text().nullable(),
    city: p.text().nullable(),
    state: p.text().nullable(),
    zip: p.text().nullable(),
    country: p.text().nullable(),
    balance: p.decimal('string').columnType('numeric').nullable(),
    doNotMail: p.boolean().nullable(),
    doNotService: p.boolean().nullable(),
    mergedToExternalId: p.string().length(32).nullable(),
  },
  uniques: [
    {
      properties: ['company', 'environment', 'software', 'externalId'],
      name: 'members_stream_source_unique',
    },
  ],
  // Deleting a run sets its rows' sync_run_id to null: without this, one table scan per run.
  indexes: [{ properties: ['syncRun'] }],
});
export type IMemberRecord = InferEntity<typeof MemberRecord>;

/** Invoices with their items: the seeds' InvoiceRecord. */
export const InvoiceRecord = defineEntity({
  name: 'InvoiceRecord',
  tableName: 'invoices_stream',
  properties: {
    ...commonColumns(),
    invoiceNumber: p.text().nullable(),
    invoiceDate: p.type('date').columnType('date').nullable(),
    dueDate: p.type('date').columnType('date').nullable(),
    customerExternalId: p.string().length(32).nullable(),
    customerName: p.text().nullable(),
    locationExternalId: p.string().length(32).nullable(),
    businessUnit: p.text().nullable(),
    jobNumber: p.text().nullable(),
    jobType: p.text().nullable(),
    subtotal: p.decimal('string').columnType('numeric').nullable(),
    salesTax: p.decimal('string').columnType('numeric').nullable(),
    total: p.decimal('string').columnType('numeric').nullable(),
    balance: p.decimal('string').columnType('numeric').nullable(),
    itemCount: p.integer().default(0),
    items: p.json<unknown[]>(),
  },
  uniques: [
    {
      properties: ['company', 'environment', 'software', 'externalId'],
      name: 'invoices_stream_source_unique',
    },
  ],
  indexes: [{ properties: ['company', 'customerExternalId'] }, { properties: ['syncRun'] }],
});
export type IInvoiceRecord = InferEntity<typeof InvoiceRecord>;

/**
 * Customer contacts from their own feed (a customer's modifiedOn does not move when only its
 * contacts change); members' email and phone are derived from these.
 */
export const CustomerContact = defineEntity({
  name: 'CustomerContact',
  tableName: 'servicetitan_customer_contacts',
  properties: {
    id: p.bigint('string').primary(),
    company: () => p.manyToOne(Company).deleteRule('cascade').ref(),
    environment: p.enum(serviceTitanEnvironments),
    externalId: p.string().length(32),
    customerExternalId: p.string().length(32),
    type: p.string().length(16),
    value: p.text().nullable(),
    active: p.boolean(),
    sourceModifiedOn: p.datetime(),
    lastSyncedAt: p.datetime().defaultRaw('now()'),
  },
  uniques: [
    {
      properties: ['company', 'environment', 'externalId'],
      name: 'servicetitan_customer_contacts_source_unique',
    },
  ],
  indexes: [{ properties: ['company', 'customerExternalId'] }],
});
export type ICustomerContact = InferEntity<typeof CustomerContact>;

/** A source record that could not be mapped: kept with its reason, never silently dropped. */
export const SkippedRecord = defineEntity({
  name: 'SkippedRecord',
  tableName: 'skipped_records',
  properties: {
    id: p.bigint('string').primary(),
    syncRun: () => p.manyToOne(SyncRun).deleteRule('cascade').ref(),
    stream: p.string().length(64),
    externalId: p.string().length(64).nullable(),
    reason: p.text(),
    raw: p.json<unknown>().nullable(),
    createdAt: p.datetime().defaultRaw('now()'),
  },
  indexes: [{ properties: ['syncRun'] }, { properties: ['createdAt'] }],
});
export type ISkippedRecord = InferEntity<typeof SkippedRecord>;

/** The channel the dispatcher listens on; see the trigger below. */
export const OUTBOX_CHANNEL = 'stsync_outbox';
export const outboxNotifyBody = `perform pg_notify('${OUTBOX_CHANNEL}', ''); return null;`;

/** Events for what follows ingest, written in the transaction that finishes a run. */
export const OutboxEvent = defineEntity({
  name: 'OutboxEvent',
  tableName: 'outbox_events',
  properties: {
    id: p.bigint('string').primary(),
    type: p.string().length(64),
    company: () => p.manyToOne(Company).deleteRule('cascade').ref(),
    payload: p.json<Record<string, unknown>>(),
    createdAt: p.datetime().defaultRaw('now()'),
    dispatchedAt: p.datetime().nullable(),
  },
  indexes: [{ properties: ['dispatchedAt', 'id'] }],
  // Wakes the notification dispatcher (LISTEN stsync_outbox) when events are written.
  triggers: [
    {
      name: 'outbox_events_notify',
      timing: 'after',
      events: ['insert'],
      forEach: 'statement',
      body: outboxNotifyBody,
    },
  ],
});
export type IOutboxEvent = InferEntity<typeof OutboxEvent>;

export const scheduleFrequencies = ['weekly', 'daily', 'monthly', 'hourly', 'cron'] as const;
export type ScheduleFrequency = (typeof scheduleFrequencies)[number];

/** A credential's sync schedule: the source of truth that Temporal Schedules are reconciled to. */
export const schedulePausers = ['auto', 'manual'] as const;
export type SchedulePauser = (typeof schedulePausers)[number];

export const SyncSchedule = defineEntity({
  name: 'SyncSchedule',
  tableName: 'sync_schedules',
  properties: {
    credential: () => p.oneToOne(ServiceTitanCredential).primary().owner().deleteRule('cascade'),
    frequency: p.enum(scheduleFrequencies),
    /** weekly: 0 = Sunday … 6 = Saturday. */
    dayOfWeek: p.integer().nullable(),
    dayOfMonth: p.integer().nullable(),
    hour: p.integer().default(3),
    minute: p.integer().default(0),
    everyHours: p.integer().nullable(),
    cron: p.string().length(128).nullable(),
    jitterSeconds: p.integer().default(900),
    paused: p.boolean().default(false),
    /** Who paused it: an operator, or the product after failed runs in a row (auto-pause). */
    pausedBy: p.enum(schedulePausers).nullable(),
    /** Why, in words the dashboard shows ("Paused after 3 failed runs in a row"). */
    pauseReason: p.text().nullable(),
    pausedAt: p.datetime().nullable(),
    /** Last resume: failed runs before it no longer count towards an auto-pause. */
    resumedAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
});
export type ISyncSchedule = InferEntity<typeof SyncSchedule>;
