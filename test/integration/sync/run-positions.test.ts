import type { MikroORM } from '@mikro-orm/postgresql';
import type { Pool } from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { commitPositionWithCursorSql } from '../../../src/sync/run-positions.js';
import { createCompanyWithCredential } from '../../support/fixtures.js';
import { connectTestOrm, truncateAll } from '../../support/integration.js';

describe("a page's position with its stream's cursor, in one statement", () => {
  let orm: MikroORM;
  let credentialId: number;
  let runId: number;

  beforeAll(async () => {
    orm = await connectTestOrm();
  });
  afterAll(() => orm?.close());
  beforeEach(async () => {
    await truncateAll(orm);
    ({ credentialId } = await createCompanyWithCredential(orm, {
      tenantId: 1,
      clientId: 'id',
      clientSecret: 'secret',
    }));
    const rows = await orm.em
      .fork()
      .getConnection()
      .execute<{ id: number }[]>(
        `insert into servicetitan_sync_runs (credential_id, trigger, streams, mode, status, created_at)
         values (?, 'manual', '{invoices}', '"full"', 'running', now()) returning id`,
        [credentialId],
      );
    runId = rows[0]!.id;
  });

  /** One page's commit as the chunk makes it: rolled back when it changed no position. */
  async function commitPage(previous: string | null, position: string, highWaterMark: string) {
    const pool = (await orm.em.getConnection().getNativeClient()) as unknown as Pool;
    const client = await pool.connect();
    try {
      await client.query('begin');
      const { rowCount } = await client.query(commitPositionWithCursorSql, [
        runId,
        'invoices',
        'invoices',
        position,
        10,
        10,
        0,
        previous,
        credentialId,
        position,
        new Date(highWaterMark),
      ]);
      await client.query(rowCount === 1 ? 'commit' : 'rollback');
      return rowCount;
    } finally {
      client.release();
    }
  }

  const state = async () =>
    (
      await orm.em
        .fork()
        .getConnection()
        .execute<{ cursor: string; position: string; pages: number; hwm: string }[]>(
          `select s.cursor, p.position, p.pages::int as pages,
                  to_char(s.high_water_mark at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as hwm
             from sync_stream_state s, sync_run_positions p
            where s.credential_id = ? and s.stream = 'invoices' and p.sync_run_id = ?`,
          [credentialId, runId],
        )
    )[0];

  it('when pages follow each other, then cursor and position move together and the high-water mark only rises; a stale attempt changes neither', async () => {
    expect(await commitPage(null, 'c-1', '2024-01-02T00:00:00Z')).toBe(1);
    expect(await commitPage('c-1', 'c-2', '2024-01-01T00:00:00Z')).toBe(1);
    const afterTwoPages = { cursor: 'c-2', position: 'c-2', pages: 2, hwm: '2024-01-02T00:00:00Z' };
    expect(await state()).toEqual(afterTwoPages);

    // An attempt that still believes the stream stands at c-1 (it timed out and kept running).
    expect(await commitPage('c-1', 'c-9', '2024-02-01T00:00:00Z')).toBe(0);
    expect(await state()).toEqual(afterTwoPages);
  });
});
