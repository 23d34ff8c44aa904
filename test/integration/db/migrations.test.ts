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
});
