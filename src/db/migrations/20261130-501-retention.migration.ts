import { Migration } from '@mikro-orm/migrations';

/**
 * Retention and company deletion remove runs: each deleted run nulls its rows' sync_run_id, a
 * table scan per run without these indexes. Skipped records are pruned by age.
 */
export class Migration20261130501Retention extends Migration {
  override async up(): Promise<void> {
    this.addSql('create index "members_stream_sync_run_id_index" on "members_stream" ("sync_run_id");');
    this.addSql('create index "invoices_stream_sync_run_id_index" on "invoices_stream" ("sync_run_id");');
    this.addSql('create index "skipped_records_created_at_index" on "skipped_records" ("created_at");');
  }

  override async down(): Promise<void> {
    this.addSql('drop index "skipped_records_created_at_index";');
    this.addSql('drop index "invoices_stream_sync_run_id_index";');
    this.addSql('drop index "members_stream_sync_run_id_index";');
  }
}
