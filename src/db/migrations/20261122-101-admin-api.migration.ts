import { Migration } from '@mikro-orm/migrations';

/** The admin API's bearer tokens (hashed) and its audit trail. */
export class Migration20261122101AdminApi extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "api_tokens" (
      "id" serial primary key,
      "name" varchar(200) not null,
      "role" text not null check ("role" in ('admin', 'operator', 'viewer')),
      "company_id" int null constraint "api_tokens_company_id_foreign" references "companies" ("id") on delete cascade,
      "token_hash" varchar(64) not null constraint "api_tokens_token_hash_unique" unique,
      "created_at" timestamptz not null,
      "revoked_at" timestamptz null);`);
    this.addSql(`create table "audit_events" (
      "id" bigserial primary key,
      "at" timestamptz not null default now(),
      "actor_token_id" int null,
      "actor_name" varchar(200) not null,
      "actor_role" varchar(16) not null,
      "action" varchar(64) not null,
      "target_type" varchar(32) not null,
      "target_id" varchar(64) null,
      "company_id" int null,
      "ip" varchar(64) null,
      "request_id" varchar(64) null,
      "outcome" text not null check ("outcome" in ('success', 'denied', 'failed')),
      "details" jsonb not null default '{}');`);
    this.addSql('create index "audit_events_at_index" on "audit_events" ("at");');
    this.addSql('create index "audit_events_company_id_at_index" on "audit_events" ("company_id", "at");');
    this.addSql('create index "audit_events_action_at_index" on "audit_events" ("action", "at");');
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists "audit_events";');
    this.addSql('drop table if exists "api_tokens";');
  }
}
