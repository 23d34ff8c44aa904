import { Migration } from '@mikro-orm/migrations';

/** Reconciliations of report exports against the stored rows (src/reconcile), and their differences. */
export class Migration20261201901Reconciliations extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "reconciliations" ("id" serial primary key, "credential_id" int not null, "company_id" int not null, "environment" varchar(16) not null, "started_by" varchar(200) not null, "started_at" timestamptz not null, "finished_at" timestamptz not null, "status" text not null, "sources" jsonb not null, "summary" jsonb not null);`,
    );
    this.addSql(
      `create index "reconciliations_credential_id_id_index" on "reconciliations" ("credential_id", "id");`,
    );
    this.addSql(
      `create table "reconciliation_differences" ("id" bigserial primary key, "reconciliation_id" int not null, "stream" varchar(16) not null, "kind" varchar(32) not null, "external_id" varchar(64) null, "group_key" text null, "field" varchar(64) null, "report_value" text null, "stored_value" text null, "line" int null);`,
    );
    this.addSql(
      `create index "reconciliation_differences_reconciliation_id_id_index" on "reconciliation_differences" ("reconciliation_id", "id");`,
    );
    this.addSql(
      `alter table "reconciliations" add constraint "reconciliations_credential_id_foreign" foreign key ("credential_id") references "servicetitan_credentials" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "reconciliations" add constraint "reconciliations_company_id_foreign" foreign key ("company_id") references "companies" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "reconciliations" add constraint "reconciliations_status_check" check ("status" in ('matched', 'differs'));`,
    );
    this.addSql(
      `alter table "reconciliation_differences" add constraint "reconciliation_differences_reconciliation_id_foreign" foreign key ("reconciliation_id") references "reconciliations" ("id") on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists "reconciliation_differences";');
    this.addSql('drop table if exists "reconciliations";');
  }
}
