import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/infra/free-port.js';

const root = path.resolve(import.meta.dirname, '../..');

interface Started {
  child: ChildProcess;
  apiUrl: string;
  postgresUrl: string;
  output: () => string;
}

/** Runs the `npm start` composition root with nothing configured but a data directory. */
async function startDev(dataDir: string, uiPort: number): Promise<Started> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    PORT: '0',
    TEMPORAL_UI_PORT: String(uiPort),
    LOG_LEVEL: 'warn',
    SANDBOX_PORT: '0',
  };
  delete env.DATABASE_URL;
  delete env.TEMPORAL_ADDRESS;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main/dev.ts'], { cwd: root, env });
  let out = '';
  child.stdout?.on('data', (c) => {
    out += c;
  });
  child.stderr?.on('data', (c) => {
    out += c;
  });
  const deadline = Date.now() + 120_000;
  while (!/Ctrl-C stops everything/.test(out)) {
    if (child.exitCode !== null) throw new Error(`dev exited early (${child.exitCode}):\n${out}`);
    if (Date.now() > deadline) throw new Error(`dev did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const apiUrl = /API\s+(http:\/\/\S+)/.exec(out)?.[1];
  const postgresUrl = /PostgreSQL\s+(postgresql:\/\/\S+)/.exec(out)?.[1];
  if (!apiUrl || !postgresUrl) throw new Error(`no URLs printed:\n${out}`);
  return { child, apiUrl, postgresUrl: postgresUrl.replace('***', 'stsync'), output: () => out };
}

/** `stsync …` with the same data directory and nothing else configured; resolves to its stdout. */
function runCli(dataDir: string, args: string[]): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  delete env.TEMPORAL_ADDRESS;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], {
      cwd: root,
      env,
    });
    let out = '';
    let err = '';
    child.stdout?.on('data', (c) => {
      out += c;
    });
    child.stderr?.on('data', (c) => {
      err += c;
    });
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`stsync ${args.join(' ')} exited ${code}: ${err}`)),
    );
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGINT');
  });
}

/** Processes whose command line mentions the data directory (postgres, temporal). */
function processesUsing(dataDir: string): string[] {
  const ps = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return ps.split('\n').filter((line) => line.includes(dataDir) && !line.includes('ps -eo'));
}

async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('npm start (embedded everything)', () => {
  let dir: string;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('when started with no configuration, then it is ready; Ctrl-C stops every process; a second start keeps the data', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'stsync-dev-'));
    await chmod(dir, 0o755);
    const dataDir = path.join(dir, 'data');
    const uiPort = await freePort();

    const first = await startDev(dataDir, uiPort);
    try {
      expect(first.output()).toMatch(/Temporal Web UI http:\/\/127\.0\.0\.1:\d+/);
      const ready = await fetch(`${first.apiUrl}/readyz`);
      expect(ready.status).toBe(200);
      expect(first.output()).toMatch(/Demo sync\s+run \d+ of credential \d+ is running/);
      // The CLI beside a running npm start uses its database and Temporal (runtime.json).
      const reconcile = await runCli(dataDir, ['schedules', 'reconcile']);
      expect(reconcile).toMatch(/schedules reconciled: 0 created, 0 updated, 0 deleted, 1 unchanged/);
      expect(processesUsing(dataDir).length).toBeGreaterThanOrEqual(2);
      await query(
        first.postgresUrl,
        `insert into companies (name, created_at, updated_at) values ('Survivor', now(), now())`,
      );
    } finally {
      expect(await stop(first.child)).toBe(0);
    }
    expect(processesUsing(dataDir)).toEqual([]);

    const second = await startDev(dataDir, uiPort);
    try {
      expect((await fetch(`${second.apiUrl}/readyz`)).status).toBe(200);
      const names = await query<{ name: string }>(
        second.postgresUrl,
        'select name from companies order by id',
      );
      expect(names.map((n) => n.name)).toEqual(['Demo Heating & Air (sandbox)', 'Survivor']);
      // The demo syncs once: the second start finds its run and starts no other.
      expect(second.output()).not.toMatch(/Demo sync/);
    } finally {
      expect(await stop(second.child)).toBe(0);
    }
    expect(processesUsing(dataDir)).toEqual([]);
  });
});
