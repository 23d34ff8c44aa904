/**
 * A run's `counts` and `positions` as a summary of its `sync_run_positions` rows, which chunks
 * write with every page they commit. `param` is the placeholder of the run's id (`$1` for pg,
 * `?` for the ORM). Streams without rows (an import's, say) keep what the run's row holds.
 */
export function summariseRunSql(param: string): string {
  return `update servicetitan_sync_runs r set
    counts = r.counts || coalesce((
      select jsonb_object_agg(s.stream, jsonb_build_object(
               'pages', s.pages, 'fetched', s.fetched, 'upserted', s.upserted, 'skipped', s.skipped))
        from (select stream, sum(pages) pages, sum(fetched) fetched, sum(upserted) upserted, sum(skipped) skipped
                from sync_run_positions where sync_run_id = r.id group by stream) s), '{}'),
    positions = r.positions || coalesce((
      select jsonb_object_agg(position_key, position) from sync_run_positions
       where sync_run_id = r.id and position is not null), '{}')
  where r.id = ${param}`;
}

/**
 * Commits one page's position and counts for a position key, in the page's transaction: it
 * changes nothing (no row) unless the key's committed position is still `previous` — another
 * attempt of the same chunk that got further must not be counted twice or moved back.
 * Parameters: run id, key, stream, position, fetched, upserted, skipped, previous.
 */
export const commitPositionSql = `insert into sync_run_positions as p
    (sync_run_id, position_key, stream, position, pages, fetched, upserted, skipped)
  values ($1, $2, $3, $4, 1, $5, $6, $7)
  on conflict (sync_run_id, position_key) do update set
    position = excluded.position, pages = p.pages + 1, fetched = p.fetched + excluded.fetched,
    upserted = p.upserted + excluded.upserted, skipped = p.skipped + excluded.skipped
  where p.position is not distinct from $8::text`;

/** A key's committed position and its stream's counts over every key. Parameters: run id, key, stream. */
export const readPositionSql = `select
    (select position from sync_run_positions where sync_run_id = ? and position_key = ?) as position,
    (select jsonb_build_object('pages', coalesce(sum(pages), 0), 'fetched', coalesce(sum(fetched), 0),
                               'upserted', coalesce(sum(upserted), 0), 'skipped', coalesce(sum(skipped), 0))
       from sync_run_positions where sync_run_id = ? and stream = ?) as counts`;

/**
 * `commitPositionSql` and, in the same statement, the stream's export cursor and high-water mark
 * (sync_stream_state), which a superseded attempt's rollback takes back with the rest of its page.
 * Parameters: those of `commitPositionSql`, then credential id, cursor, high-water mark.
 */
export const commitPositionWithCursorSql = `with cursor_state as (
    insert into sync_stream_state (credential_id, stream, cursor, high_water_mark, updated_at)
    values ($9, $3, $10, $11, now())
    on conflict (credential_id, stream) do update set cursor = excluded.cursor,
      high_water_mark = greatest(sync_stream_state.high_water_mark, excluded.high_water_mark), updated_at = now()
  )
  ${commitPositionSql}`;
