import { Migration } from '@mikro-orm/migrations';
import { outboxNotifyBody } from '../entities/ingest.entities.js';

/**
 * Notifications (issue 10): webhook subscriptions (secret encrypted), per-company email
 * recipients, one delivery row per (event, subscriber) whose unique key makes the dispatcher's
 * fan-out happen once even when it is repeated after a crash, and a trigger that wakes the
 * dispatcher (LISTEN stsync_outbox) whenever an outbox row is written.
 */
export class Migration20261201401Notifications extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "webhook_subscriptions" (
      "id" serial primary key,
      "company_id" int null constraint "webhook_subscriptions_company_id_foreign" references "companies" ("id") on delete cascade,
      "url" varchar(2048) not null,
      "events" jsonb not null,
      "description" varchar(500) null,
      "secret_encrypted" text not null,
      "enabled" boolean not null default true,
      "created_at" timestamptz not null,
      "updated_at" timestamptz not null);`);
    this.addSql(
      'create index "webhook_subscriptions_company_id_index" on "webhook_subscriptions" ("company_id");',
    );
    this.addSql(`create table "webhook_deliveries" (
      "id" bigserial primary key,
      "webhook_id" int not null constraint "webhook_deliveries_webhook_id_foreign" references "webhook_subscriptions" ("id") on delete cascade,
      "outbox_event_id" bigint null,
      "event_type" varchar(64) not null,
      "message_id" varchar(64) not null,
      "body" text not null,
      "status" text check ("status" in ('pending', 'succeeded', 'failed', 'cancelled')) not null default 'pending',
      "attempts" int not null default 0,
      "last_response_code" int null,
      "last_error" varchar(500) null,
      "next_attempt_at" timestamptz null,
      "workflow_started_at" timestamptz null,
      "created_at" timestamptz not null,
      "delivered_at" timestamptz null,
      constraint "webhook_deliveries_outbox_event_id_webhook_id_unique" unique ("outbox_event_id", "webhook_id"));`);
    this.addSql(
      'create index "webhook_deliveries_webhook_id_id_index" on "webhook_deliveries" ("webhook_id", "id");',
    );
    this.addSql(
      'create index "webhook_deliveries_status_created_at_index" on "webhook_deliveries" ("status", "created_at");',
    );
    this.addSql(`create table "notification_recipients" (
      "id" serial primary key,
      "company_id" int not null constraint "notification_recipients_company_id_foreign" references "companies" ("id") on delete cascade,
      "email" varchar(320) not null,
      "events" jsonb not null,
      "created_at" timestamptz not null,
      constraint "notification_recipients_company_id_email_unique" unique ("company_id", "email"));`);
    this.addSql(`create table "email_deliveries" (
      "id" bigserial primary key,
      "outbox_event_id" bigint null,
      "company_id" int null constraint "email_deliveries_company_id_foreign" references "companies" ("id") on delete cascade,
      "recipient" varchar(320) not null,
      "event_type" varchar(64) not null,
      "subject" varchar(300) not null,
      "text" text not null,
      "status" text check ("status" in ('pending', 'succeeded', 'failed', 'cancelled')) not null default 'pending',
      "attempts" int not null default 0,
      "last_error" varchar(500) null,
      "next_attempt_at" timestamptz null,
      "workflow_started_at" timestamptz null,
      "created_at" timestamptz not null,
      "delivered_at" timestamptz null,
      constraint "email_deliveries_outbox_event_id_recipient_unique" unique ("outbox_event_id", "recipient"));`);
    this.addSql(
      'create index "email_deliveries_status_created_at_index" on "email_deliveries" ("status", "created_at");',
    );
    // Wakes the dispatcher at once (it also polls, so a missed notification only delays). Named
    // as MikroORM names an entity's trigger function (OutboxEvent declares the trigger).
    this.addSql(
      `create or replace function "outbox_events_outbox_events_notify_fn"() returns trigger as $$ begin ${outboxNotifyBody} end; $$ language plpgsql;`,
    );
    this.addSql(
      'create trigger "outbox_events_notify" AFTER INSERT on "outbox_events" for each STATEMENT execute function "outbox_events_outbox_events_notify_fn"();',
    );
  }

  override async down(): Promise<void> {
    this.addSql('drop trigger if exists "outbox_events_notify" on "outbox_events";');
    this.addSql('drop function if exists "outbox_events_outbox_events_notify_fn"();');
    this.addSql('drop table if exists "email_deliveries";');
    this.addSql('drop table if exists "notification_recipients";');
    this.addSql('drop table if exists "webhook_deliveries";');
    this.addSql('drop table if exists "webhook_subscriptions";');
  }
}
