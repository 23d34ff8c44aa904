import { randomBytes } from 'node:crypto';
import { Migration } from '@mikro-orm/migrations';

/**
 * The installation id: made once per database, here, so every process that opens the database
 * (worker, API, `npm start`, CLI) reads the same one, and a new or reset database gets a new one.
 */
export class Migration20261130401Installation extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "installation" (
      "singleton" boolean not null default true,
      "installation_id" varchar(32) not null,
      "created_at" timestamptz not null,
      constraint "installation_pkey" primary key ("singleton"),
      constraint "installation_singleton_check" check (singleton),
      constraint "installation_installation_id_unique" unique ("installation_id"));`);
    // 48 random bits: unique among the databases one Temporal could serve, short in the Web UI.
    this.addSql(
      `insert into "installation" ("singleton", "installation_id", "created_at") values (true, '${randomBytes(6).toString('hex')}', now());`,
    );
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists "installation";');
  }
}
