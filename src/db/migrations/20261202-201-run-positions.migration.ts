import { Migration } from '@mikro-orm/migrations';

/**
 * Each position key of a run (a stream, or a window of one) gets its own row for its position
 * and counts, written with every page it commits. They were keys of the run's `positions` and
 * `counts`: parallel windows all updated that one row, each waiting for the others' commits.
 *
 * A run in progress carries on: its positions become rows, and its counts so far one counts-only
 * row per stream (`<stream>@upgrade`, a key no chunk reads). An import's run keeps its counts
 * on the run's row, as before.
 */
export class Migration20261202201RunPositions extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "sync_run_positions" ("sync_run_id" int not null, "position_key" varchar(128) not null, "stream" varchar(64) not null, "position" text null, "pages" bigint not null default 0, "fetched" bigint not null default 0, "upserted" bigint not null default 0, "skipped" bigint not null default 0, primary key ("sync_run_id", "position_key"));`,
    );
    this.addSql(
      `alter table "sync_run_positions" add constraint "sync_run_positions_sync_run_id_foreign" foreign key ("sync_run_id") references "servicetitan_sync_runs" ("id") on delete cascade;`,
    );
    this.addSql(
      `insert into "sync_run_positions" ("sync_run_id", "position_key", "stream", "position")
       select r.id, kv.key, split_part(kv.key, '#', 1), kv.value
         from "servicetitan_sync_runs" r cross join lateral jsonb_each_text(r.positions) kv
        where r.finished_at is null and r.trigger <> 'import';`,
    );
    this.addSql(
      `insert into "sync_run_positions" ("sync_run_id", "position_key", "stream", "pages", "fetched", "upserted", "skipped")
       select r.id, c.key || '@upgrade', c.key,
              coalesce((c.value ->> 'pages')::bigint, 0), coalesce((c.value ->> 'fetched')::bigint, 0),
              coalesce((c.value ->> 'upserted')::bigint, 0), coalesce((c.value ->> 'skipped')::bigint, 0)
         from "servicetitan_sync_runs" r cross join lateral jsonb_each(r.counts) c
        where r.finished_at is null and r.trigger <> 'import';`,
    );
  }

  override async down(): Promise<void> {
    // The run's row takes the rows' last word back before they go.
    this.addSql(
      `update "servicetitan_sync_runs" r set
         counts = r.counts || coalesce((
           select jsonb_object_agg(s.stream, jsonb_build_object('pages', s.pages, 'fetched', s.fetched, 'upserted', s.upserted, 'skipped', s.skipped))
             from (select stream, sum(pages) pages, sum(fetched) fetched, sum(upserted) upserted, sum(skipped) skipped
                     from "sync_run_positions" where sync_run_id = r.id group by stream) s), '{}'),
         positions = r.positions || coalesce((
           select jsonb_object_agg(position_key, position) from "sync_run_positions"
            where sync_run_id = r.id and position is not null), '{}')
       where exists (select 1 from "sync_run_positions" where sync_run_id = r.id);`,
    );
    this.addSql('drop table if exists "sync_run_positions";');
  }
}
