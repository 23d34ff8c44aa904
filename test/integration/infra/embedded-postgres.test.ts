import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { migrateUp } from '../../../src/db/migrate.js';
import { createOrm } from '../../../src/db/orm.js';
import { startEmbeddedPostgres } from '../../../src/infra/embedded-postgres.js';
import { testLogger } from '../../support/integration.js';

async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Traversable by the "postgres" user the package runs the server as when we are root. */
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'stsync-embedded-'));
  await chmod(dir, 0o755);
  dirs.push(dir);
  return dir;
}

const dirs: string[] = [];

describe('embedded PostgreSQL (the default without DATABASE_URL)', () => {
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("when a process that loaded the library ends with a failure code, then it exits with that code (the library's exit hook does not turn it into 0)", () => {
    // What a test run without DATABASE_URL does: the library is loaded, tests fail, exitCode is
    // set and the event loop drains. async-exit-hook answered beforeExit with process.exit(0).
    const script = `
      const { loadEmbeddedPostgres } = await import('./src/infra/embedded-postgres.ts');
      await loadEmbeddedPostgres();
      process.exitCode = 3;`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: path.resolve(import.meta.dirname, '../../..'),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(3);
  });

  it('when started twice on the same data directory, then migrations and rows are kept', async () => {
    const dir = await tempDir();
    const dataDir = path.join(dir, 'postgres');

    const first = await startEmbeddedPostgres({ dataDir, logger: testLogger });
    try {
      const orm = await createOrm({ url: first.url });
      await migrateUp(orm);
      await orm.em
        .getConnection()
        .execute(`insert into companies (name, created_at, updated_at) values ('Kept Co', now(), now())`);
      await orm.close();
    } finally {
      await first.stop();
    }
    expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);

    const second = await startEmbeddedPostgres({ dataDir, logger: testLogger });
    try {
      const orm = await createOrm({ url: second.url });
      expect(await migrateUp(orm)).toEqual([]);
      await orm.close();
      expect(await query<{ name: string }>(second.url, 'select name from companies')).toEqual([
        { name: 'Kept Co' },
      ]);
    } finally {
      await second.stop();
    }
  });

  it('when started as throwaway, then its data directory is gone after stop', async () => {
    const dir = await tempDir();
    const dataDir = path.join(dir, 'pg');
    const db = await startEmbeddedPostgres({ dataDir, persistent: false, logger: testLogger });
    expect(await query<{ one: number }>(db.url, 'select 1 as one')).toEqual([{ one: 1 }]);
    await db.stop();
    expect(existsSync(dataDir)).toBe(false);
  });
});
