import { Migration } from '@mikro-orm/migrations';

/**
 * Alerts: why and by whom a schedule was paused (auto-pause after failed runs), when it was last
 * resumed (failures before do not count again), and whether the current staleness of a
 * credential's data was already announced (once per breach).
 */
export class Migration20261201501Alerts extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      'alter table "sync_schedules" add column "paused_by" text null, add column "pause_reason" text null, add column "paused_at" timestamptz null, add column "resumed_at" timestamptz null;',
    );
    this.addSql(
      `alter table "sync_schedules" add constraint "sync_schedules_paused_by_check" check ("paused_by" in ('auto', 'manual'));`,
    );
    this.addSql('alter table "servicetitan_credentials" add column "freshness_alerted_at" timestamptz null;');
  }

  override async down(): Promise<void> {
    this.addSql('alter table "servicetitan_credentials" drop column "freshness_alerted_at";');
    this.addSql('alter table "sync_schedules" drop constraint "sync_schedules_paused_by_check";');
    this.addSql(
      'alter table "sync_schedules" drop column "paused_by", drop column "pause_reason", drop column "paused_at", drop column "resumed_at";',
    );
  }
}
