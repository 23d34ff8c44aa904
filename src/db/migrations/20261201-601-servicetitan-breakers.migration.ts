import { Migration } from '@mikro-orm/migrations';

/** The ServiceTitan circuit breakers' last transitions, for the dashboard. */
export class Migration20261201601ServiceTitanBreakers extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "servicetitan_breakers" (
      "environment" varchar(16) not null,
      "state" text check ("state" in ('closed', 'half_open', 'open')) not null,
      "failures" int not null default 0,
      "opened_at" timestamptz null,
      "retry_at" timestamptz null,
      "updated_at" timestamptz not null,
      constraint "servicetitan_breakers_pkey" primary key ("environment"));`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists "servicetitan_breakers";');
  }
}
