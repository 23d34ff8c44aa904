import type { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrateDown, migrateUp } from '../../../src/db/migrate.js';
import { createOrm } from '../../../src/db/orm.js';
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
});
