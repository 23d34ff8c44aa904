import { Migration } from '@mikro-orm/migrations';

/** The large columns of the hot tables: each row's source record and an invoice's items. */
const largeColumns = [
  ['members_stream', 'raw'],
  ['invoices_stream', 'raw'],
  ['invoices_stream', 'items'],
] as const;

/**
 * Cheaper ingest (bench:sync): `raw` becomes `json`, and the large columns are compressed with
 * lz4 where the server has it.
 *
 * `raw` is kept for audit and replay, never queried by value: `json` stores the record's text as
 * received (a more faithful copy than jsonb, which reorders keys), and PostgreSQL only validates
 * it instead of building jsonb's binary form, about a third of an invoice's write. The `->` and
 * `->>` operators work on both. lz4 compresses several times faster than the default pglz for
 * about the same size; a server built without it keeps pglz, which is only slower.
 */
export class Migration20261202101IngestStorage extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "members_stream" alter column "raw" type json using "raw"::json;`);
    this.addSql(`alter table "invoices_stream" alter column "raw" type json using "raw"::json;`);
    for (const [table, column] of largeColumns) this.addSql(compression(table, column, 'lz4'));
  }

  override async down(): Promise<void> {
    for (const [table, column] of largeColumns) this.addSql(compression(table, column, 'default'));
    this.addSql(`alter table "invoices_stream" alter column "raw" type jsonb using "raw"::jsonb;`);
    this.addSql(`alter table "members_stream" alter column "raw" type jsonb using "raw"::jsonb;`);
  }
}

/** `set compression`, or nothing where the server was built without that method. */
function compression(table: string, column: string, method: 'lz4' | 'default'): string {
  return `do $$ begin
    alter table "${table}" alter column "${column}" set compression ${method};
  exception when feature_not_supported or invalid_parameter_value then
    raise notice '${table}.${column} keeps the default compression: %', sqlerrm;
  end $$;`;
}
