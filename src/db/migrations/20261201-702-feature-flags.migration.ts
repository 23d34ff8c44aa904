import { Migration } from '@mikro-orm/migrations';

/** Feature flags (src/flags) and the flags each run was started with. */
export class Migration20261201702FeatureFlags extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "feature_flags" (
      "id" serial primary key,
      "key" varchar(64) not null,
      "scope" varchar(32) not null,
      "company_id" int null constraint "feature_flags_company_id_foreign" references "companies" ("id") on delete cascade,
      "value" jsonb not null,
      "updated_by" varchar(200) null,
      "updated_at" timestamptz not null,
      constraint "feature_flags_key_scope_unique" unique ("key", "scope"));`);
    this.addSql(`alter table "servicetitan_sync_runs" add column "flags" jsonb null;`);
  }

  override async down(): Promise<void> {
    this.addSql('alter table "servicetitan_sync_runs" drop column if exists "flags";');
    this.addSql('drop table if exists "feature_flags";');
  }
}
