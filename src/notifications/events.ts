import { z } from 'zod';

/**
 * What the product tells the outside world. Every event is a row of `outbox_events`, written in
 * the transaction of the change it reports (a run's end, a status change, a pause), so an event
 * is never lost nor sent for a change that rolled back; the dispatcher delivers the rows to
 * webhooks, email and the downstream processing, and marks them dispatched.
 *
 * Payloads carry ids, names, counts, a link and an actionable message: never a secret, a token
 * or a record's field value.
 */
export const notificationEventTypes = [
  'sync.succeeded',
  'sync.completed_with_warnings',
  'sync.failed',
  'credential.status_changed',
  'schedule.auto_paused',
  'data_quality.anomaly',
  'freshness.stale',
] as const;
export type NotificationEventType = (typeof notificationEventTypes)[number];

/** The downstream processing's event (TR-003), written when a run finishes. */
export const DOWNSTREAM_EVENT = 'company_data.updated';

export const eventTypes = [...notificationEventTypes, DOWNSTREAM_EVENT] as const;
export type EventType = (typeof eventTypes)[number];
export const eventTypeSchema = z.enum(eventTypes);

/** What every notification payload carries, beside what its type adds. */
export interface EventSubject {
  companyId: number;
  companyName: string;
  credentialId?: number;
  environment?: 'integration' | 'production';
  tenantId?: string;
  syncRunId?: number;
  /** The run (or credential) in the console, when the API's public URL is known. */
  link?: string;
  /** One sentence a person can act on: what happened and what to do. */
  message: string;
}

export interface OutboxEventInput {
  type: EventType;
  companyId: number;
  payload: EventSubject & Record<string, unknown>;
}

/** Anything that runs SQL inside the caller's transaction (MikroORM's connection with its context). */
export interface SqlExecutor {
  execute(sql: string, params: unknown[]): Promise<unknown>;
}

/**
 * Adds an event to the outbox in the caller's transaction: pass an executor bound to it, e.g.
 * `{ execute: (sql, params) => tem.getConnection().execute(sql, params, 'run', tem.getTransactionContext()) }`.
 */
export async function emitEvent(sql: SqlExecutor, event: OutboxEventInput): Promise<void> {
  await sql.execute(`insert into outbox_events (type, company_id, payload) values (?, ?, ?::jsonb)`, [
    event.type,
    event.companyId,
    JSON.stringify(event.payload),
  ]);
}
