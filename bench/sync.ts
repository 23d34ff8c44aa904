/**
 * End-to-end sync benchmark: a real Temporal dev server, PostgreSQL (DATABASE_URL's server, else
 * an embedded throwaway one), one worker in this process, and the sandbox in a child process.
 *
 *   npm run bench:sync -- [--customers 20000] [--invoices 100000] [--latency 0] [--mode full|window]
 *                         [--rate-limit 60] [--windows 8]
 *
 * Prints records/s end to end, requests/s and the share of the 60 req/s ceiling, the worker's
 * peak RSS and the workflow history length.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { createSecretBox } from '../src/crypto/secret-box.js';
import { Company, ServiceTitanCredential, SyncRun } from '../src/db/entities/index.js';
import { readInstallationId } from '../src/db/installation.js';
import { migrateUp } from '../src/db/migrate.js';
import { createOrm } from '../src/db/orm.js';
import { secretPurpose } from '../src/db/repositories/credential.repository.js';
import { startEmbeddedPostgres } from '../src/infra/embedded-postgres.js';
import { startTemporalDevServer } from '../src/infra/temporal-dev-server.js';
import { createLogger } from '../src/logger.js';
import { createActivityDeps } from '../src/main/activity-deps.js';
import { startSync } from '../src/sync/start-sync.js';
import { startWorker } from '../src/temporal/worker.js';
import { startSandboxProcess } from './sandbox-process.js';

const { values } = parseArgs({
  options: {
    customers: { type: 'string', default: '20000' },
    invoices: { type: 'string', default: '100000' },
    latency: { type: 'string', default: '0' },
    mode: { type: 'string', default: 'full' },
    'rate-limit': { type: 'string', default: '60' },
    windows: { type: 'string', default: '8' },
  },
});
const customers = Number(values.customers);
const invoices = Number(values.invoices);
const latencyMs = Number(values.latency);
const rateLimit = Number(values['rate-limit']);
const out = (line: string) => process.stdout.write(`${line}\n`);

const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'silent', name: 'bench' });
const cleanups: (() => Promise<void>)[] = [];

try {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'stsync-bench-'));
  await chmod(tmp, 0o755);
  cleanups.push(() => rm(tmp, { recursive: true, force: true }));

  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const db = await startEmbeddedPostgres({
      dataDir: path.join(tmp, 'pg'),
      persistent: false,
      database: 'postgres',
      logger,
    });
    cleanups.push(() => db.stop());
    adminUrl = db.url;
  }
  const dbName = `stsync_bench_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database "${dbName}"`);
  await admin.end();
  cleanups.push(async () => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    await c.query(`drop database if exists "${dbName}" with (force)`);
    await c.end();
  });
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;

  const temporalServer = await startTemporalDevServer({ logger, readyTimeoutMs: 90_000 });
  cleanups.push(() => temporalServer.stop());

  const sandbox = await startSandboxProcess({
    rateLimitPerSecond: rateLimit,
    latencyMs,
    tenants: [{ tenantId: 9_000_001, customers, invoices }],
  });
  cleanups.push(() => sandbox.close());

  const orm = await createOrm({ url: url.toString() });
  cleanups.push(() => orm.close());
  await migrateUp(orm);

  const keys = [{ version: 'bench', key: randomBytes(32) }];
  const endpoints = { authUrl: sandbox.url, apiUrl: sandbox.url };
  const activities = createActivityDeps({
    orm,
    logger,
    keys,
    serviceTitan: {
      appKey: sandbox.appKey,
      environments: { integration: endpoints, production: endpoints },
      rateLimitPerSecond: rateLimit > 0 ? rateLimit : 10_000,
    },
  });
  const taskQueue = `bench-${Date.now()}`;
  const worker = await startWorker({
    address: temporalServer.address,
    namespace: 'default',
    taskQueue,
    logger,
    activities,
  });
  cleanups.push(async () => {
    await worker.stop();
    activities.close();
  });

  const tenant = sandbox.tenants[0]!;
  const secrets = createSecretBox(keys);
  const em = orm.em.fork();
  const company = em.create(Company, { name: 'Bench Co' });
  const credential = em.create(ServiceTitanCredential, {
    company,
    environment: 'integration',
    tenantId: String(tenant.tenantId),
    clientIdEncrypted: secrets.encrypt(tenant.clientId, secretPurpose.clientId),
    clientSecretEncrypted: secrets.encrypt(tenant.clientSecret, secretPurpose.clientSecret),
  });
  await em.flush();

  const connection = await Connection.connect({ address: temporalServer.address });
  cleanups.push(() => connection.close());
  const client = new Client({ connection });

  const baselineRss = process.memoryUsage.rss();
  let peakRss = baselineRss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 100);
  cleanups.push(async () => clearInterval(sampler));

  const mode =
    values.mode === 'window' ? { from: '2021-12-01T00:00:00Z', to: '2025-01-02T00:00:00Z' } : 'full';
  const requestsBefore = (await sandbox.stats()).requests;
  const started = Date.now();
  const run = await startSync(
    { em: orm.em.fork(), temporal: client, taskQueue, installationId: await readInstallationId(orm) },
    { credentialId: credential.id, trigger: 'cli', mode: mode as never },
  );
  const handle = client.workflow.getHandle(run.workflowId);
  const result = await handle.result();
  const seconds = (Date.now() - started) / 1000;
  const stats = await sandbox.stats();
  const requests = stats.requests - requestsBefore;
  const row = await orm.em.fork().findOneOrFail(SyncRun, run.syncRunId);
  const totals = Object.values(row.counts).reduce(
    (t, c) => ({
      pages: t.pages + c.pages,
      upserted: t.upserted + c.upserted,
      fetched: t.fetched + c.fetched,
    }),
    { pages: 0, upserted: 0, fetched: 0 },
  );
  const history = await handle.fetchHistory();
  // What the run leaves on disk: rows, table + TOAST + indexes (docs/capacity.md uses these).
  const sizes: { table: string; rows: number; bytes: number }[] = [];
  for (const table of ['members_stream', 'servicetitan_customer_contacts', 'invoices_stream']) {
    const [r] = await orm.em
      .getConnection()
      .execute<{ rows: string; bytes: string }[]>(
        `select count(*)::text as rows, pg_total_relation_size('${table}')::text as bytes from ${table}`,
      );
    sizes.push({ table, rows: Number(r?.rows ?? 0), bytes: Number(r?.bytes ?? 0) });
  }
  const ceiling = await copyCeiling(url.toString(), credential.company.id);

  out(
    `sync bench: ${customers} customers (+${2 * customers} contacts), ${invoices} invoices; mode ${values.mode}, latency ${latencyMs} ms, server limit ${rateLimit || 'none'} req/s`,
  );
  out(`  status            ${result.status}`);
  out(`  duration          ${seconds.toFixed(1)} s`);
  out(
    `  records           ${totals.upserted} upserted of ${totals.fetched} fetched in ${totals.pages} pages`,
  );
  out(`  throughput        ${Math.round(totals.fetched / seconds)} records/s end to end`);
  out(
    `  requests          ${requests} (${(requests / seconds).toFixed(1)} req/s${
      rateLimit > 0
        ? `, ${Math.round((100 * requests) / seconds / rateLimit)} % of the ${rateLimit} req/s ceiling`
        : ''
    }; ${stats.rateLimited} answered 429)`,
  );
  out(
    `  worker RSS        ${Math.round(baselineRss / 2 ** 20)} MB before the sync, ${Math.round(peakRss / 2 ** 20)} MB peak`,
  );
  for (const c of ceiling) {
    out(
      `  COPY ceiling      ${c.table}: ${c.rows} rows in ${c.seconds.toFixed(1)} s = ${Math.round(c.rows / c.seconds)} rows/s (a plain COPY of the same rows into a copy of the table)`,
    );
  }
  for (const t of sizes) {
    const { rows, bytes } = t;
    out(
      `  stored            ${t.table}: ${rows} rows, ${(bytes / 2 ** 20).toFixed(1)} MB with TOAST and indexes (${rows ? (bytes / rows / 1024).toFixed(2) : '0'} KB a row)`,
    );
  }
  out(`  history events    ${history.events?.length ?? 0} for ${totals.pages} pages`);
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch((e) => console.error(e));
}

/**
 * The ceiling: the same rows COPYed (out of the synced table, straight into an empty table of the
 * same definition, indexes included), timed end to end.
 */
async function copyCeiling(databaseUrl: string, companyId: number) {
  const results: { table: string; rows: number; seconds: number }[] = [];
  for (const table of ['members_stream', 'invoices_stream']) {
    const source = new pg.Client({ connectionString: databaseUrl });
    const target = new pg.Client({ connectionString: databaseUrl });
    await source.connect();
    await target.connect();
    try {
      await target.query(`create table "${table}_ceiling" (like "${table}" including all)`);
      const started = Date.now();
      await pipeline(
        source.query(
          copyTo(`copy (select * from "${table}" where company_id = ${Number(companyId)}) to stdout`),
        ),
        target.query(copyFrom(`copy "${table}_ceiling" from stdin`)),
      );
      const seconds = (Date.now() - started) / 1000;
      const { rows } = await target.query(`select count(*)::int as n from "${table}_ceiling"`);
      results.push({ table, rows: rows[0].n, seconds });
      await target.query(`drop table "${table}_ceiling"`);
    } finally {
      await source.end();
      await target.end();
    }
  }
  return results;
}
