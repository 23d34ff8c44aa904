import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { migrateUp } from '../../src/db/migrate.js';
import { createOrm } from '../../src/db/orm.js';
import { type EmbeddedDatabase, startEmbeddedPostgres } from '../../src/infra/embedded-postgres.js';
import { startTemporalDevServer, type TemporalDevServer } from '../../src/infra/temporal-dev-server.js';
import { createLogger } from '../../src/logger.js';
import { bundleWorkflows } from '../../src/temporal/worker.js';
import { createScratchDatabase, dropDatabasesLike } from './database.js';

/**
 * The production build (console/dist and dist/, scripts/build.mjs), once before any test file:
 * the console's browser tests and the production-build test use it, and test files running in
 * parallel must not each start a build of the same folders. A no-op when it is up to date.
 */
function buildProduct(): Promise<void> {
  const root = path.resolve(import.meta.dirname, '../..');
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['scripts/build.mjs'], { cwd: root }, (error, _stdout, stderr) =>
      error ? reject(new Error(`scripts/build.mjs failed:\n${stderr}`)) : resolve(),
    ),
  );
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** A fresh database for this run, migrations applied. */
    databaseUrl: string;
    /** A URL to the same server's maintenance database, for tests that create their own databases. */
    adminDatabaseUrl: string;
    temporalAddress: string;
    workflowBundlePath: string;
  }
}

/**
 * Once per integration run: a fresh PostgreSQL database (on DATABASE_URL's server, or an
 * embedded throwaway cluster when it is unset), a Temporal dev server, the workflow bundle and the
 * production build.
 */
export default async function setup(project: TestProject) {
  const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'warn', name: 'test-setup' });
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'stsync-test-'));
  // As root, embedded-postgres runs the server as a "postgres" user, which must reach the data dir.
  await chmod(tmp, 0o755);
  const cleanups: (() => Promise<void>)[] = [];

  let embedded: EmbeddedDatabase | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    embedded = await startEmbeddedPostgres({
      dataDir: path.join(tmp, 'pg'),
      persistent: false,
      database: 'postgres',
      logger,
    });
    cleanups.push(() => embedded!.stop());
    adminUrl = embedded.url;
  }
  const [database, temporal, bundle] = await Promise.all([
    createScratchDatabase(adminUrl),
    startTemporalDevServer({ logger, readyTimeoutMs: 90_000 }) as Promise<TemporalDevServer>,
    bundleWorkflows(),
    buildProduct(),
  ]);
  cleanups.push(() => temporal.stop());
  cleanups.push(() => database.drop());
  // Each test file's clone of the database (test/support/integration.ts testDatabaseUrl).
  cleanups.push(() => dropDatabasesLike(adminUrl!, `${database.name}_f%`));

  const orm = await createOrm({ url: database.url });
  await migrateUp(orm);
  await orm.close();

  const workflowBundlePath = path.join(tmp, 'workflow-bundle.js');
  await writeFile(workflowBundlePath, bundle.code);

  project.provide('databaseUrl', database.url);
  project.provide('adminDatabaseUrl', adminUrl);
  project.provide('temporalAddress', temporal.address);
  project.provide('workflowBundlePath', workflowBundlePath);

  return async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((err) => console.error(err));
    await rm(tmp, { recursive: true, force: true });
  };
}
