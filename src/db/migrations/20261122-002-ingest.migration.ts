import { Migration } from '@mikro-orm/migrations';

/**
 * What a sync writes: members_stream and invoices_stream (one row per source record, unique on
 * company + software + external id), customer contacts, skipped records, the outbox, and each
 * credential's schedule.
 */
export class Migration20261122002Ingest extends Migration {
  override async up(): Promise<void> {
    // Where each stream (or window) of a run stands, committed with its data: a retried chunk resumes here.
    this.addSql(
      `alter table "servicetitan_sync_runs" add column "positions" jsonb not null default '{}', add column "warnings" jsonb not null default '[]';`,
    );
    this.addSql(
      'create table "servicetitan_customer_contacts" ("id" bigserial primary key, "company_id" int not null, "external_id" varchar(32) not null, "customer_external_id" varchar(32) not null, "type" varchar(16) not null, "value" text null, "active" boolean not null, "source_modified_on" timestamptz not null, "last_synced_at" timestamptz not null default now());',
    );
    this.addSql(
      'create index "servicetitan_customer_contacts_company_id_customer_dd966_index" on "servicetitan_customer_contacts" ("company_id", "customer_external_id");',
    );
    this.addSql(
      'alter table "servicetitan_customer_contacts" add constraint "servicetitan_customer_contacts_source_unique" unique ("company_id", "external_id");',
    );
    this.addSql(
      'create table "outbox_events" ("id" bigserial primary key, "type" varchar(64) not null, "company_id" int not null, "payload" jsonb not null, "created_at" timestamptz not null default now(), "dispatched_at" timestamptz null);',
    );
    this.addSql(
      'create index "outbox_events_dispatched_at_id_index" on "outbox_events" ("dispatched_at", "id");',
    );
    this.addSql(
      'create table "skipped_records" ("id" bigserial primary key, "sync_run_id" int not null, "stream" varchar(64) not null, "external_id" varchar(64) null, "reason" text not null, "raw" jsonb null, "created_at" timestamptz not null default now());',
    );
    this.addSql('create index "skipped_records_sync_run_id_index" on "skipped_records" ("sync_run_id");');
    this.addSql(
      'create table "members_stream" ("id" bigserial primary key, "company_id" int not null, "software" varchar(32) not null, "external_id" varchar(32) not null, "active" boolean not null, "source_created_on" timestamptz null, "source_modified_on" timestamptz not null, "first_seen_at" timestamptz not null default now(), "last_synced_at" timestamptz not null default now(), "sync_run_id" int null, "raw" jsonb not null, "name" text null, "first_name" text null, "last_name" text null, "customer_type" varchar(32) null, "email" text null, "phone" varchar(40) null, "street" text null, "unit" text null, "city" text null, "state" varchar(64) null, "zip" varchar(32) null, "country" varchar(64) null, "balance" numeric null, "do_not_mail" boolean null, "do_not_service" boolean null, "merged_to_external_id" varchar(32) null);',
    );
    this.addSql(
      'alter table "members_stream" add constraint "members_stream_source_unique" unique ("company_id", "software", "external_id");',
    );
    this.addSql(
      'create table "invoices_stream" ("id" bigserial primary key, "company_id" int not null, "software" varchar(32) not null, "external_id" varchar(32) not null, "active" boolean not null, "source_created_on" timestamptz null, "source_modified_on" timestamptz not null, "first_seen_at" timestamptz not null default now(), "last_synced_at" timestamptz not null default now(), "sync_run_id" int null, "raw" jsonb not null, "invoice_number" varchar(64) null, "invoice_date" date null, "due_date" date null, "customer_external_id" varchar(32) null, "customer_name" text null, "location_external_id" varchar(32) null, "business_unit" text null, "job_number" varchar(64) null, "job_type" text null, "subtotal" numeric null, "sales_tax" numeric null, "total" numeric null, "balance" numeric null, "item_count" int not null default 0, "items" jsonb not null);',
    );
    this.addSql(
      'create index "invoices_stream_company_id_customer_external_id_index" on "invoices_stream" ("company_id", "customer_external_id");',
    );
    this.addSql(
      'alter table "invoices_stream" add constraint "invoices_stream_source_unique" unique ("company_id", "software", "external_id");',
    );
    this.addSql(
      'create table "sync_schedules" ("credential_id" int not null, "frequency" text not null, "day_of_week" int null, "day_of_month" int null, "hour" int not null default 3, "minute" int not null default 0, "every_hours" int null, "cron" varchar(128) null, "jitter_seconds" int not null default 900, "paused" boolean not null default false, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("credential_id"));',
    );
    this.addSql(
      'alter table "servicetitan_customer_contacts" add constraint "servicetitan_customer_contacts_company_id_foreign" foreign key ("company_id") references "companies" ("id") on delete cascade;',
    );
    this.addSql(
      'alter table "outbox_events" add constraint "outbox_events_company_id_foreign" foreign key ("company_id") references "companies" ("id") on delete cascade;',
    );
    this.addSql(
      'alter table "skipped_records" add constraint "skipped_records_sync_run_id_foreign" foreign key ("sync_run_id") references "servicetitan_sync_runs" ("id") on delete cascade;',
    );
    this.addSql(
      'alter table "members_stream" add constraint "members_stream_company_id_foreign" foreign key ("company_id") references "companies" ("id") on delete cascade;',
    );
    this.addSql(
      'alter table "members_stream" add constraint "members_stream_sync_run_id_foreign" foreign key ("sync_run_id") references "servicetitan_sync_runs" ("id") on delete set null;',
    );
    this.addSql(
      'alter table "invoices_stream" add constraint "invoices_stream_company_id_foreign" foreign key ("company_id") references "companies" ("id") on delete cascade;',
    );
    this.addSql(
      'alter table "invoices_stream" add constraint "invoices_stream_sync_run_id_foreign" foreign key ("sync_run_id") references "servicetitan_sync_runs" ("id") on delete set null;',
    );
    this.addSql(
      'alter table "sync_schedules" add constraint "sync_schedules_credential_id_foreign" foreign key ("credential_id") references "servicetitan_credentials" ("id") on update cascade on delete cascade;',
    );
    this.addSql(
      "alter table \"sync_schedules\" add constraint \"sync_schedules_frequency_check\" check (\"frequency\" in ('weekly', 'daily', 'monthly', 'hourly', 'cron'));",
    );
  }

  override async down(): Promise<void> {
    this.addSql('alter table "servicetitan_sync_runs" drop column "positions", drop column "warnings";');
    this.addSql('drop table if exists "sync_schedules";');
    this.addSql('drop table if exists "invoices_stream";');
    this.addSql('drop table if exists "members_stream";');
    this.addSql('drop table if exists "skipped_records";');
    this.addSql('drop table if exists "outbox_events";');
    this.addSql('drop table if exists "servicetitan_customer_contacts";');
  }
}
