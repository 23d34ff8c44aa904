import { Migration } from '@mikro-orm/migrations';

/**
 * Report imports (the manual path, src/ingest/import): a run triggered by an import, and where
 * its records came from, so file-sourced rows (through their sync_run_id) say so.
 */
export class Migration20261201801Imports extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "servicetitan_sync_runs" drop constraint if exists "servicetitan_sync_runs_trigger_check";`,
    );
    this.addSql(
      `alter table "servicetitan_sync_runs" add constraint "servicetitan_sync_runs_trigger_check" check ("trigger" in ('manual', 'schedule', 'cli', 'demo', 'import'));`,
    );
    this.addSql(`alter table "servicetitan_sync_runs" add column "source" text null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`delete from "servicetitan_sync_runs" where "trigger" = 'import';`);
    this.addSql('alter table "servicetitan_sync_runs" drop column if exists "source";');
    this.addSql(
      `alter table "servicetitan_sync_runs" drop constraint if exists "servicetitan_sync_runs_trigger_check";`,
    );
    this.addSql(
      `alter table "servicetitan_sync_runs" add constraint "servicetitan_sync_runs_trigger_check" check ("trigger" in ('manual', 'schedule', 'cli', 'demo'));`,
    );
  }
}
