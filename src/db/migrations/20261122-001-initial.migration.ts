import { Migration } from '@mikro-orm/migrations';

/** Companies, their ServiceTitan credentials, sync runs and per-stream cursors. */
export class Migration20261122001Initial extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "companies" (
      "id" serial primary key,
      "name" varchar(200) not null,
      "time_zone" varchar(64) not null default 'UTC',
      "sync_enabled" boolean not null default true,
      "created_at" timestamptz not null,
      "updated_at" timestamptz not null);`);

    this.addSql(`create table "servicetitan_credentials" (
      "id" serial primary key,
      "company_id" int not null constraint "servicetitan_credentials_company_id_foreign" references "companies" ("id") on delete cascade,
      "environment" text not null check ("environment" in ('integration', 'production')),
      "tenant_id" varchar(20) not null,
      "client_id_encrypted" text not null,
      "client_secret_encrypted" text not null,
      "access_token_encrypted" text null,
      "access_token_expires_at" timestamptz null,
      "status" text not null default 'untested' check ("status" in ('untested', 'connected', 'awaiting_approval', 'invalid_credentials', 'unreachable', 'disabled')),
      "status_message" text null,
      "last_tested_at" timestamptz null,
      "created_at" timestamptz not null,
      "updated_at" timestamptz not null,
      "disabled_at" timestamptz null,
      constraint "servicetitan_credentials_company_environment_unique" unique ("company_id", "environment"),
      constraint "servicetitan_credentials_environment_tenant_unique" unique ("environment", "tenant_id"));`);

    this.addSql(`create table "servicetitan_sync_runs" (
      "id" serial primary key,
      "credential_id" int not null constraint "servicetitan_sync_runs_credential_id_foreign" references "servicetitan_credentials" ("id") on delete cascade,
      "trigger" text not null check ("trigger" in ('manual', 'schedule', 'cli', 'demo')),
      "streams" text[] not null,
      "mode" jsonb not null,
      "status" text not null default 'pending' check ("status" in ('pending', 'running', 'paused', 'completed', 'completed_with_warnings', 'failed', 'cancelled', 'skipped')),
      "counts" jsonb not null default '{}',
      "error" text null,
      "workflow_id" varchar(200) null,
      "run_id" varchar(64) null,
      "created_at" timestamptz not null,
      "started_at" timestamptz null,
      "finished_at" timestamptz null);`);
    this.addSql(
      `create index "servicetitan_sync_runs_credential_id_created_at_index" on "servicetitan_sync_runs" ("credential_id", "created_at");`,
    );
    this.addSql(`create index "servicetitan_sync_runs_status_index" on "servicetitan_sync_runs" ("status");`);

    this.addSql(`create table "sync_stream_state" (
      "credential_id" int not null constraint "sync_stream_state_credential_id_foreign" references "servicetitan_credentials" ("id") on delete cascade,
      "stream" varchar(64) not null,
      "cursor" text null,
      "high_water_mark" timestamptz null,
      "updated_at" timestamptz not null,
      primary key ("credential_id", "stream"));`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists "sync_stream_state";');
    this.addSql('drop table if exists "servicetitan_sync_runs";');
    this.addSql('drop table if exists "servicetitan_credentials";');
    this.addSql('drop table if exists "companies";');
  }
}
