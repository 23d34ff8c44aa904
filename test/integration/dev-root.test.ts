import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { readInstallationId } from '../../src/db/installation.js';
import { migrateUp } from '../../src/db/migrate.js';
import { createOrm } from '../../src/db/orm.js';
import { freePort } from '../../src/infra/free-port.js';
import { syncWorkflowId } from '../../src/workflows/definitions.js';
import { createScratchDatabase } from '../support/database.js';
import { connectTestTemporal, uniqueId } from '../support/integration.js';

const root = path.resolve(import.meta.dirname, '../..');
/** A cold start of everything takes ~30 s on two busy cores; these tests start it twice. */
const twoStarts = 300_000;

/** Every dev root a test started, so none outlives a failed or timed-out test. */
const started: ChildProcess[] = [];

interface Started {
  child: ChildProcess;
  apiUrl: string;
  postgresUrl: string;
  output: () => string;
}

/**
 * Runs the `npm start` composition root with nothing configured but a data directory (and what
 * `extraEnv` adds). In its own process group, as a terminal runs it, so that Ctrl-C can be sent
 * to the whole group.
 */
async function startDev(dataDir: string, uiPort: number, extraEnv: NodeJS.ProcessEnv = {}): Promise<Started> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    PORT: '0',
    TEMPORAL_UI_PORT: String(uiPort),
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    SANDBOX_PORT: '0',
  };
  delete env.DATABASE_URL;
  delete env.TEMPORAL_ADDRESS;
  Object.assign(env, extraEnv);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main/dev.ts'], {
    cwd: root,
    env,
    detached: true,
  });
  started.push(child);
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
  const postgresUrl = extraEnv.DATABASE_URL ?? /PostgreSQL\s+(postgresql:\/\/\S+)/.exec(out)?.[1];
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

/** Ctrl-C in a terminal: SIGINT to every process of the foreground group. */
function ctrlC(child: ChildProcess, withinMs: number): Promise<{ code: number | null; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      process.kill(-child.pid!, 'SIGKILL');
      reject(new Error(`still running ${withinMs} ms after Ctrl-C`));
    }, withinMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, ms: Date.now() - started });
    });
    process.kill(-child.pid!, 'SIGINT');
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
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
  const dirs: string[] = [];
  afterAll(async () => {
    for (const child of started) {
      // SIGKILL to the group: the embedded servers' watchdogs then stop them too.
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    }
    for (const d of [dir, ...dirs].filter(Boolean)) {
      await waitFor('the servers to stop', async () => (processesUsing(d).length ? undefined : true), 30_000);
    }
    if (dir) await rm(dir, { recursive: true, force: true });
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  async function dataDirectory(): Promise<string> {
    const d = await mkdtemp(path.join(os.tmpdir(), 'stsync-dev-'));
    await chmod(d, 0o755);
    dirs.push(d);
    return path.join(d, 'data');
  }

  it(
    'when Ctrl-C reaches the whole process group while the demo sync runs, then the worker drains before Temporal and PostgreSQL stop, it exits 0 with nothing left running, and the next start finishes the run',
    async () => {
      const dataDir = await dataDirectory();
      const uiPort = await freePort();
      // Every sandbox answer takes 300 ms: a page request is in flight whenever the sync runs.
      const first = await startDev(dataDir, uiPort, { SANDBOX_LATENCY_MS: '300' });
      const runId = Number(/Demo sync\s+run (\d+)/.exec(first.output())?.[1]);
      expect(runId).toBeGreaterThan(0);
      const status = (url: string) =>
        query<{ status: string }>(url, `select status from servicetitan_sync_runs where id = ${runId}`).then(
          (rows) => rows[0]?.status,
        );
      const pages = () =>
        query<{ pages: string }>(
          first.postgresUrl,
          `select coalesce(sum((c->>'pages')::int), 0) as pages
             from servicetitan_sync_runs, jsonb_each(counts) as e(k, c) where id = ${runId}`,
        ).then((rows) => Number(rows[0]?.pages ?? 0));
      // Running with pages committed: a chunk activity is mid-way, and needs Temporal and
      // PostgreSQL to finish (heartbeats, commits, its completion).
      await waitFor(
        'the demo sync to commit pages',
        async () =>
          (await status(first.postgresUrl)) === 'running' && (await pages()) >= 2 ? true : undefined,
        90_000,
      );

      const { code } = await ctrlC(first.child, 60_000);
      expect(code, first.output()).toBe(0);
      // Before, Temporal and PostgreSQL got the same SIGINT and died under the draining worker.
      expect(first.output()).not.toMatch(/tcp connect error|respond_activity_task_failed/);
      expect(processesUsing(dataDir)).toEqual([]);

      // Left open in Temporal, the run resumes: the next start's worker finishes it.
      const second = await startDev(dataDir, uiPort);
      try {
        const done = await waitFor(
          'the interrupted run to finish',
          async () => {
            const s = await status(second.postgresUrl);
            return s && !['pending', 'running'].includes(s) ? s : undefined;
          },
          120_000,
        );
        expect(done).toBe('completed');
      } finally {
        expect((await ctrlC(second.child, 60_000)).code).toBe(0);
      }
      expect(processesUsing(dataDir)).toEqual([]);
    },
    twoStarts,
  );

  it(
    'when the demo sync cannot start (a run of its id is already open), then npm start warns and runs without it',
    async () => {
      const db = await createScratchDatabase(inject('adminDatabaseUrl'), 'stsync_dev');
      const orm = await createOrm({ url: db.url });
      await migrateUp(orm);
      const installationId = await readInstallationId(orm);
      await orm.close();
      const temporal = await connectTestTemporal();
      // What an interrupted earlier start leaves: an open sync under the id the demo's would take
      // (its credential is the database's first, id 1), on a queue no worker polls.
      const blocker = await temporal.client.workflow.start('syncTenantWorkflow', {
        taskQueue: uniqueId('nobody'),
        workflowId: syncWorkflowId(installationId, 1),
        args: [],
      });
      try {
        const dev = await startDev(await dataDirectory(), await freePort(), {
          DATABASE_URL: db.url,
          TEMPORAL_ADDRESS: inject('temporalAddress'),
          ENCRYPTION_KEYS: `t1:${Buffer.alloc(32, 9).toString('base64')}`,
        });
        try {
          expect(dev.output()).toMatch(
            /demo tenant could not be set up \(A sync of credential 1 is already running/,
          );
          expect(dev.output()).not.toMatch(/Demo sync/);
          expect((await fetch(`${dev.apiUrl}/readyz`)).status).toBe(200);
        } finally {
          expect((await ctrlC(dev.child, 60_000)).code).toBe(0);
        }
      } finally {
        await blocker.terminate().catch(() => {});
        await temporal.close();
        await db.drop();
      }
    },
    twoStarts,
  );

  it(
    'when started with no configuration, then it is ready; Ctrl-C stops every process; a second start keeps the data',
    async () => {
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
        // Metrics: the API's /metrics, the embedded worker's port and the Temporal SDK's, all printed.
        const printed = /Metrics\s+(\S+), worker (\S+), Temporal SDK (\S+)/.exec(first.output());
        expect(printed, 'the metrics line is printed').not.toBeNull();
        const [, apiMetrics, workerMetrics, sdkMetrics] = printed as unknown as [
          string,
          string,
          string,
          string,
        ];
        expect(apiMetrics).toBe(`${first.apiUrl}/metrics`);
        const scrape = async (url: string, want: RegExp) => {
          const text = await (await fetch(url)).text();
          return want.test(text) ? text : undefined;
        };
        await waitFor('the API metrics', () => scrape(apiMetrics, /^stsync_credential_status\{/m), 30_000);
        await waitFor(
          'the worker metrics',
          () => scrape(workerMetrics, /^stsync_servicetitan_breaker_state\{/m),
          30_000,
        );
        await waitFor('the Temporal SDK metrics', () => scrape(sdkMetrics, /^temporal_\w+/m), 30_000);
        // The printed console link signs a browser in, once.
        const link = /Console\s+(http:\/\/127\.0\.0\.1:\d+\/signin\?code=[\w-]+)/.exec(first.output())?.[1];
        expect(link, 'a sign-in link is printed').toBeDefined();
        const signedIn = await fetch(link!, { redirect: 'manual' });
        expect(signedIn.status).toBe(303);
        expect(signedIn.headers.get('location')).toBe('/');
        const cookie = signedIn.headers.get('set-cookie')?.split(';')[0];
        expect(cookie).toMatch(/^stsync_session=/);
        const session = await fetch(`${first.apiUrl}/api/session`, { headers: { cookie: cookie! } });
        expect(session.status).toBe(200);
        expect(((await session.json()) as { principal: { role: string } }).principal.role).toBe('admin');
        // The console's wizard learns of the embedded sandbox and its demo tenants.
        const sandbox = await fetch(`${first.apiUrl}/api/sandbox`, { headers: { cookie: cookie! } });
        expect(sandbox.status).toBe(200);
        const described = (await sandbox.json()) as {
          approvalsUrl: string;
          tenants: { tenantId: string; approved: boolean }[];
        };
        expect(described.tenants.find((t) => t.tenantId === '1000002')?.approved).toBe(false);
        expect((await fetch(described.approvalsUrl)).status).toBe(200);
        expect((await fetch(link!, { redirect: 'manual' })).status).toBe(401);
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
    },
    twoStarts,
  );
});
