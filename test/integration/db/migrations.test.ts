import type { MikroORM } from '@mikro-orm/postgresql';
import type { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrateDown, migrateUp } from '../../../src/db/migrate.js';
import { createOrm } from '../../../src/db/orm.js';
import { commitPositionSql, readPositionSql, summariseRunSql } from '../../../src/sync/run-positions.js';
import { createScratchDatabase } from '../../support/database.js';

const productTables = [
  'companies',
  'servicetitan_credentials',
  'servicetitan_sync_runs',
  'sync_stream_state',
];

async function tablesIn(orm: MikroORM): Promise<string[]> {
  const rows = await orm.em
    .getConnection()
    .execute<{ table_name: string }[]>(
      `select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
    );
  return rows.map((r) => r.table_name);
}

describe('migrations', () => {
  let orm: MikroORM;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const db = await createScratchDatabase(inject('adminDatabaseUrl'), 'stsync_migrations');
    drop = db.drop;
    orm = await createOrm({ url: db.url });
  });
  afterAll(async () => {
    await orm?.close();
    await drop?.();
  });

  it('when applied to an empty database, then every table exists; when reverted, none is left; then they apply again', async () => {
    const applied = await migrateUp(orm);
    expect(applied.length).toBeGreaterThan(0);
    expect(await tablesIn(orm)).toEqual(expect.arrayContaining(productTables));
    expect(await migrateUp(orm)).toEqual([]);

    const reverted = await migrateDown(orm, { to: 0 });
    expect(reverted).toEqual([...applied].reverse());
    const left = await tablesIn(orm);
    for (const table of productTables) expect(left).not.toContain(table);

    expect(await migrateUp(orm)).toEqual(applied);
    expect(await tablesIn(orm)).toEqual(expect.arrayContaining(productTables));
  });

  it('when the schema is migrated, then it matches the entity definitions exactly', async () => {
    await migrateUp(orm);
    const diff = await orm.schema.getUpdateSchemaSQL({ wrap: false });
    expect(diff.trim()).toBe('');
  });

  it('when a credential repeats a company+environment or an environment+tenant, then the database refuses it', async () => {
    await migrateUp(orm);
    const sql = orm.em.getConnection();
    const [company] = await sql.execute<{ id: number }[]>(
      `insert into companies (name, created_at, updated_at) values ('Acme', now(), now()) returning id`,
    );
    const insert = (companyId: number, env: string, tenant: string) =>
      sql.execute(
        `insert into servicetitan_credentials (company_id, environment, tenant_id, client_id_encrypted, client_secret_encrypted, created_at, updated_at)
         values (?, ?, ?, 'x', 'y', now(), now())`,
        [companyId, env, tenant],
      );
    await insert(company!.id, 'integration', '111');
    await expect(insert(company!.id, 'integration', '222')).rejects.toThrow(/company_environment_unique/);
    const [other] = await sql.execute<{ id: number }[]>(
      `insert into companies (name, created_at, updated_at) values ('Other', now(), now()) returning id`,
    );
    await expect(insert(other!.id, 'integration', '111')).rejects.toThrow(/environment_tenant_unique/);
    await insert(other!.id, 'production', '111');
    await expect(insert(other!.id, 'staging', '333')).rejects.toThrow(/environment_check/);
  });

  it("when rows synced before environments were keyed are migrated, then each takes its run's environment and what cannot be attributed is re-read", async () => {
    await migrateDown(orm, { to: 0 });
    await orm.migrator.up({ to: 'Migration20261122003UnboundedSourceText' });
    const sql = orm.em.getConnection();
    const one = async <T>(query: string, params: unknown[] = []) =>
      (await sql.execute<T[]>(query, params))[0]!;
    const company = (name: string) =>
      one<{ id: number }>(
        `insert into companies (name, created_at, updated_at) values (?, now(), now()) returning id`,
        [name],
      );
    const credential = (companyId: number, env: string, tenant: string) =>
      one<{ id: number }>(
        `insert into servicetitan_credentials (company_id, environment, tenant_id, client_id_encrypted, client_secret_encrypted, created_at, updated_at)
         values (?, ?, ?, 'x', 'y', now(), now()) returning id`,
        [companyId, env, tenant],
      );
    const run = (credentialId: number) =>
      one<{ id: number }>(
        `insert into servicetitan_sync_runs (credential_id, trigger, mode, streams, status, counts, created_at)
         values (?, 'manual', '"full"', '{}', 'completed', '{}', now()) returning id`,
        [credentialId],
      );
    const member = (companyId: number, externalId: string, runId: number | null) =>
      sql.execute(
        `insert into members_stream (company_id, software, external_id, active, source_modified_on, raw, sync_run_id)
         values (?, 'ServiceTitan', ?, true, now(), '{}', ?)`,
        [companyId, externalId, runId],
      );
    const contact = (companyId: number, externalId: string) =>
      sql.execute(
        `insert into servicetitan_customer_contacts (company_id, external_id, customer_external_id, type, active, source_modified_on)
         values (?, ?, '1', 'Email', true, now())`,
        [companyId, externalId],
      );
    const cursor = (credentialId: number) =>
      sql.execute(
        `insert into sync_stream_state (credential_id, stream, cursor, updated_at) values (?, 'customers', 'c', now())`,
        [credentialId],
      );

    const single = await company('Integration only');
    const singleCredential = await credential(single.id, 'integration', '501');
    await member(single.id, '1', null);
    await contact(single.id, '7');
    await cursor(singleCredential.id);
    const both = await company('Both');
    const production = await credential(both.id, 'production', '502');
    const integration = await credential(both.id, 'integration', '503');
    await member(both.id, '1', (await run(production.id)).id);
    await member(both.id, '2', (await run(integration.id)).id);
    await member(both.id, '3', null);
    await contact(both.id, '7');
    await cursor(production.id);
    await cursor(integration.id);

    await migrateUp(orm);
    const members = await sql.execute<{ company_id: number; external_id: string; environment: string }[]>(
      `select company_id, external_id, environment from members_stream order by company_id, external_id`,
    );
    expect(members).toEqual([
      { company_id: single.id, external_id: '1', environment: 'integration' },
      { company_id: both.id, external_id: '1', environment: 'production' },
      { company_id: both.id, external_id: '2', environment: 'integration' },
    ]);
    const contacts = await sql.execute<{ company_id: number; environment: string }[]>(
      `select company_id, environment from servicetitan_customer_contacts`,
    );
    expect(contacts).toEqual([{ company_id: single.id, environment: 'integration' }]);
    const cursors = await sql.execute<{ credential_id: number }[]>(
      `select credential_id from sync_stream_state`,
    );
    expect(cursors).toEqual([{ credential_id: singleCredential.id }]);
  });

  it('when a run in progress is migrated to per-key positions, then its chunks resume where they were and its counts stay whole, and back down again', async () => {
    await migrateDown(orm, { to: 0 });
    await orm.migrator.up({ to: 'Migration20261202101IngestStorage' });
    const sql = orm.em.getConnection();
    const one = async <T>(query: string, params: unknown[] = []) =>
      (await sql.execute<T[]>(query, params))[0]!;
    const { id: companyId } = await one<{ id: number }>(
      `insert into companies (name, created_at, updated_at) values ('Acme', now(), now()) returning id`,
    );
    const { id: credentialId } = await one<{ id: number }>(
      `insert into servicetitan_credentials (company_id, environment, tenant_id, client_id_encrypted, client_secret_encrypted, created_at, updated_at)
       values (?, 'integration', '601', 'x', 'y', now(), now()) returning id`,
      [companyId],
    );
    const counts = {
      invoices: { pages: 5, fetched: 250, upserted: 248, skipped: 2 },
      customers: { pages: 1, fetched: 10, upserted: 10, skipped: 0 },
    };
    const positions = { 'invoices#0': 'p-0', 'invoices#1': 'p-1', customers: 'c-1' };
    const run = (status: string, finished: boolean) =>
      one<{ id: number }>(
        `insert into servicetitan_sync_runs (credential_id, trigger, mode, streams, status, counts, positions, created_at, finished_at)
         values (?, 'manual', '"full"', '{invoices,customers}', ?, ?, ?, now(), ${finished ? 'now()' : 'null'}) returning id`,
        [credentialId, status, JSON.stringify(counts), JSON.stringify(positions)],
      );
    const running = await run('running', false);
    const finished = await run('completed', true);

    await migrateUp(orm);
    const read = (runId: number, key: string, stream: string) =>
      one<{ position: string | null; counts: Record<string, number> }>(readPositionSql, [
        runId,
        key,
        runId,
        stream,
      ]);
    expect(await read(running.id, 'invoices#1', 'invoices')).toEqual({
      position: 'p-1',
      counts: counts.invoices,
    });
    expect(await read(running.id, 'customers', 'customers')).toEqual({
      position: 'c-1',
      counts: counts.customers,
    });
    // A finished run's row is its record: nothing of it moves.
    expect(await read(finished.id, 'customers', 'customers')).toEqual({
      position: null,
      counts: { pages: 0, fetched: 0, upserted: 0, skipped: 0 },
    });

    // The run goes on: one more page of window 1, then its row is summarised as a finish does.
    const pool = (await sql.getNativeClient()) as unknown as Pool;
    /** One page of `key` moving it from `previous` to `position`: rows it changed (0 or 1). */
    const commitPage = async (key: string, previous: string, position: string, records: number) =>
      (
        await pool.query(commitPositionSql, [
          running.id,
          key,
          'invoices',
          position,
          records,
          records,
          0,
          previous,
        ])
      ).rowCount;
    expect(await commitPage('invoices#1', 'p-1', 'p-2', 50)).toBe(1);
    // A stale attempt that still believes window 1 stands at p-1 commits nothing.
    expect(await commitPage('invoices#1', 'p-1', 'p-2', 50)).toBe(0);
    await sql.execute(summariseRunSql('?'), [running.id]);
    const row = await one<{ counts: typeof counts; positions: Record<string, string> }>(
      `select counts, positions from servicetitan_sync_runs where id = ?`,
      [running.id],
    );
    expect(row.counts).toEqual({
      ...counts,
      invoices: { pages: 6, fetched: 300, upserted: 298, skipped: 2 },
    });
    expect(row.positions).toEqual({ ...positions, 'invoices#1': 'p-2' });

    // Reverted, the run's row keeps the positions' last word.
    await commitPage('invoices#0', 'p-0', 'p-0b', 1);
    // Down to the state before per-key positions (the later migrations with them).
    await orm.migrator.down({ to: 'Migration20261202101IngestStorage' });
    const back = await one<{ counts: typeof counts; positions: Record<string, string> }>(
      `select counts, positions from servicetitan_sync_runs where id = ?`,
      [running.id],
    );
    expect(back.counts.invoices).toEqual({ pages: 7, fetched: 301, upserted: 299, skipped: 2 });
    expect(back.positions).toEqual({ ...positions, 'invoices#0': 'p-0b', 'invoices#1': 'p-2' });
    await migrateUp(orm);
  });
});
