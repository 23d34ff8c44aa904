/**
 * End-to-end sync benchmark: a real Temporal dev server, PostgreSQL (DATABASE_URL's server, else
 * an embedded throwaway one), one worker in this process, and the sandbox in a child process.
 *
 *   npm run bench:sync -- [--customers 20000] [--invoices 100000] [--latency 0] [--mode full|window]
 *                         [--rate-limit 60] [--windows 8] [--json bench/results/sync-<date>.json]
 *
 * Prints, from one run: records/s end to end against two COPY ceilings measured in the same run
 * (the tables as the migrations define them now, and as bench/baseline-tables.sql froze them
 * before the storage work of issue 13), where the sync's time went by phase, the CPU of the
 * worker, the sandbox and PostgreSQL, requests/s against the rate limit, peak RSS, and the
 * history events of every execution of the run. The second line is the headline scripts read:
 * `<N> records/s end to end (<P> % of the same-run COPY ceiling)`. The same figures go to the
 * JSON file, which `npm run bench:report` draws.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
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
import { createMetrics } from '../src/metrics/index.js';
import { startSync } from '../src/sync/start-sync.js';
import { startWorker } from '../src/temporal/worker.js';
import { oneOf, wholeNumber } from './options.js';
import { startSandboxProcess } from './sandbox-process.js';
import {
  budgetWaitSeconds,
  type Ceiling,
  copyCeilings,
  gitCommit,
  type PhaseSeconds,
  phaseSeconds,
  phases,
  planStepSeconds,
  runExecutions,
  startMachineCpu,
  startPostgresCpu,
  streamTables,
  type Timeline,
} from './sync-measures.js';

const { values } = parseArgs({
  options: {
    customers: { type: 'string', default: '20000' },
    invoices: { type: 'string', default: '100000' },
    latency: { type: 'string', default: '0' },
    mode: { type: 'string', default: 'full' },
    'rate-limit': { type: 'string', default: '60' },
    windows: { type: 'string', default: '8' },
    json: { type: 'string' },
  },
});
const customers = wholeNumber('customers', values.customers);
const invoices = wholeNumber('invoices', values.invoices);
const latencyMs = wholeNumber('latency', values.latency);
const rateLimit = wholeNumber('rate-limit', values['rate-limit']);
const windows = wholeNumber('windows', values.windows, 1);
const benchMode = oneOf('mode', values.mode, ['full', 'window'] as const);
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
  const metrics = createMetrics({ defaultMetrics: false });
  const activities = createActivityDeps({
    orm,
    logger,
    metrics,
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

  const mode = benchMode === 'window' ? { from: '2021-12-01T00:00:00Z', to: '2025-01-02T00:00:00Z' } : 'full';
  const requestsBefore = (await sandbox.stats()).requests;
  const sandboxBefore = await sandbox.usage();
  const postgresCpu = await startPostgresCpu(adminUrl, dbName);
  const machineCpu = await startMachineCpu();
  // The code that runs, not what the checkout holds by the end of a long run.
  const commit = gitCommit();
  const workerCpuBefore = process.cpuUsage();
  // How long a callback that is ready waits for the worker's thread: a busy thread delays every
  // response, database result and timer, which shows as time in the phases and the budget's wait.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const started = performance.now();
  const run = await startSync(
    { em: orm.em.fork(), temporal: client, taskQueue, installationId: await readInstallationId(orm) },
    { credentialId: credential.id, trigger: 'cli', mode: mode as never },
  );
  const handle = client.workflow.getHandle(run.workflowId);
  const result = await handle.result();
  const seconds = (performance.now() - started) / 1000;
  const workerCpu = cpuSeconds(process.cpuUsage(workerCpuBefore));
  loopDelay.disable();
  const machineCpuSeconds = await machineCpu.stop();
  const postgresCpuSeconds = await postgresCpu.stop();
  const sandboxAfter = await sandbox.usage();
  const sandboxCpu = cpuSeconds(sandboxAfter.cpu) - cpuSeconds(sandboxBefore.cpu);
  peakRss = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);
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
  const { executions, timeline } = await runExecutions(client, run.workflowId, run.runId);
  const historyEvents = executions.reduce((n, e) => n + e.events, 0);
  const phase = await phaseSeconds(metrics);
  const planSteps = await planStepSeconds(metrics);
  const budgetWait = await budgetWaitSeconds(metrics);
  // What the run leaves on disk: rows, table + TOAST + indexes (docs/capacity.md uses these).
  const sizes: { table: string; rows: number; bytes: number }[] = [];
  for (const table of streamTables) {
    const [r] = await orm.em
      .getConnection()
      .execute<{ rows: string; bytes: string }[]>(
        `select count(*)::text as rows, pg_total_relation_size('${table}')::text as bytes from ${table}`,
      );
    sizes.push({ table, rows: Number(r?.rows ?? 0), bytes: Number(r?.bytes ?? 0) });
  }
  const ceilings = await copyCeilings(url.toString(), credential.company.id);
  const [version] = await orm.em.getConnection().execute<{ server_version: string }[]>('show server_version');

  const recordsPerSecond = totals.fetched / seconds;
  const share = (ceiling: Ceiling) =>
    ceiling.rowsPerSecond > 0 ? recordsPerSecond / ceiling.rowsPerSecond : 0;
  const pct = (x: number) => `${Math.round(100 * x)} %`;
  const ofWall = (cpu: number) => `${cpu.toFixed(1)} s (${pct(cpu / seconds)} of the run)`;
  const phaseLine = (p: PhaseSeconds) => {
    const sum = phases.reduce((n, k) => n + p[k], 0);
    return `${phases.map((k) => `${k} ${p[k].toFixed(1)} s (${pct(sum > 0 ? p[k] / sum : 0)})`).join(', ')}; ${sum.toFixed(1)} s`;
  };

  out(
    `sync bench: ${customers} customers (+${2 * customers} contacts), ${invoices} invoices; mode ${benchMode}, latency ${latencyMs} ms, server limit ${rateLimit || 'none'} req/s`,
  );
  out(
    `${Math.round(recordsPerSecond)} records/s end to end (${Math.round(100 * share(ceilings.product))} % of the same-run COPY ceiling)`,
  );
  out(`  status            ${result.status}`);
  out(`  duration          ${seconds.toFixed(1)} s`);
  out(
    `  records           ${totals.upserted} upserted of ${totals.fetched} fetched in ${totals.pages} pages`,
  );
  for (const [name, ceiling] of [
    ['tables as defined now', ceilings.product],
    ['baseline tables (bench/baseline-tables.sql)', ceilings.baseline],
  ] as const) {
    out(
      `  COPY ceiling      ${name}: ${ceiling.rows} rows in ${ceiling.seconds.toFixed(1)} s = ${Math.round(ceiling.rowsPerSecond)} rows/s; end to end is ${pct(share(ceiling))} of it`,
    );
    for (const t of ceiling.tables) {
      out(
        `                      ${t.table.padEnd(31)} ${String(t.rows).padStart(8)} rows in ${t.seconds.toFixed(1).padStart(6)} s = ${Math.round(t.rows / t.seconds)} rows/s`,
      );
    }
  }
  out(
    `  phases            ${phaseLine(phase.total)} summed over streams, in a run of ${seconds.toFixed(1)} s`,
  );
  for (const [stream, p] of Object.entries(phase.byStream)) {
    out(`    ${stream.padEnd(18)}${phaseLine(p)}`);
  }
  const at = (s: number | undefined) => (s === undefined ? '-' : `${s.toFixed(1)} s`);
  out(
    `  timeline          planned ${at(timeline.planned)}${planStepsText(planSteps, timeline)}; streams read by ${Object.entries(
      timeline.streams,
    )
      .map(([stream, s]) => `${stream} ${at(s)}`)
      .join(', ')}; finished ${at(timeline.finished)} (from the workflow's start)`,
  );
  const windowPages = new Map(
    (
      await orm.em
        .getConnection()
        .execute<{ position_key: string; pages: number; upserted: number }[]>(
          'select position_key, pages, upserted from sync_run_positions where sync_run_id = ?',
          [run.syncRunId],
        )
    ).map((r) => [r.position_key, r]),
  );
  for (const [key, w] of Object.entries(timeline.windows ?? {})) {
    const p = windowPages.get(key);
    out(
      `    ${key.padEnd(20)}${at(w.from)} → ${at(w.to)}: ${p?.pages ?? 0} pages, ${p?.upserted ?? 0} rows, ${w.chunks} chunk${w.chunks === 1 ? '' : 's'}`,
    );
  }
  out(
    `  CPU               worker ${ofWall(workerCpu)}, sandbox ${ofWall(sandboxCpu)}, PostgreSQL ${
      postgresCpuSeconds === undefined
        ? 'not readable here'
        : `${ofWall(postgresCpuSeconds)} in this database's backends`
    }`,
  );
  if (machineCpuSeconds !== undefined) {
    const cores = os.cpus().length;
    const others = machineCpuSeconds - workerCpu - sandboxCpu - (postgresCpuSeconds ?? 0);
    out(
      `  machine           ${machineCpuSeconds.toFixed(1)} s of CPU: ${(machineCpuSeconds / seconds).toFixed(2)} of its ${cores} cores busy (${pct(
        machineCpuSeconds / seconds / cores,
      )}); ${others.toFixed(1)} s outside the three above (the Temporal server, PostgreSQL's own processes, the kernel${
        postgresCpuSeconds === undefined ? ', and PostgreSQL' : ''
      })`,
    );
  }
  out(
    `  requests          ${requests} (${(requests / seconds).toFixed(1)} req/s${
      rateLimit > 0
        ? `, ${Math.round((100 * requests) / seconds / rateLimit)} % of the ${rateLimit} req/s ceiling`
        : ''
    }; ${stats.rateLimited} answered 429); ${requests > 0 ? Math.round((1000 * budgetWait) / requests) : 0} ms a request waiting for the budget's slot`,
  );
  out(
    `  event loop        the worker's thread delayed ready callbacks by ${ms(loopDelay.mean)} on average, ${ms(
      loopDelay.percentile(99),
    )} at the 99th percentile, ${ms(loopDelay.max)} at most`,
  );
  out(
    `  worker RSS        ${mb(baselineRss)} before the sync, ${mb(peakRss)} peak; sandbox ${mb(sandboxAfter.maxRssBytes)} peak`,
  );
  for (const t of sizes) {
    const { rows, bytes } = t;
    out(
      `  stored            ${t.table}: ${rows} rows, ${(bytes / 2 ** 20).toFixed(1)} MB with TOAST and indexes (${rows ? (bytes / rows / 1024).toFixed(2) : '0'} KB a row)`,
    );
  }
  out(
    `  history events    ${historyEvents} in ${executions.length} execution${executions.length === 1 ? '' : 's'} (largest ${Math.max(...executions.map((e) => e.events))}) for ${totals.pages} pages: ${(historyEvents / Math.max(totals.pages, 1)).toFixed(3)} a page`,
  );

  const report = {
    version: 1,
    date: new Date().toISOString(),
    commit,
    machine: {
      cores: os.cpus().length,
      cpu: os.cpus()[0]?.model,
      memoryBytes: os.totalmem(),
      node: process.version,
      postgres: version?.server_version,
    },
    options: {
      customers,
      invoices,
      latencyMs,
      mode: benchMode,
      rateLimit,
      windows,
    },
    status: result.status,
    seconds,
    records: totals,
    recordsPerSecond,
    ceilings: {
      product: { ...ceilings.product, share: share(ceilings.product) },
      baseline: { ...ceilings.baseline, share: share(ceilings.baseline) },
    },
    phases: phase,
    cpu: {
      workerSeconds: workerCpu,
      sandboxSeconds: sandboxCpu,
      postgresSeconds: postgresCpuSeconds ?? null,
      machineSeconds: machineCpuSeconds ?? null,
      cores: os.cpus().length,
    },
    memory: {
      workerRssBeforeBytes: baselineRss,
      workerRssPeakBytes: peakRss,
      sandboxRssPeakBytes: sandboxAfter.maxRssBytes,
    },
    requests: {
      count: requests,
      perSecond: requests / seconds,
      rateLimit,
      rateLimited: stats.rateLimited,
      budgetWaitSeconds: budgetWait,
    },
    eventLoopDelayMs: {
      mean: loopDelay.mean / 1e6,
      p99: loopDelay.percentile(99) / 1e6,
      max: loopDelay.max / 1e6,
    },
    history: { events: historyEvents, executions },
    timeline: { ...timeline, planSteps },
    stored: sizes,
  };
  const file = path.resolve(
    values.json ??
      fileURLToPath(new URL(`./results/sync-${report.date.replaceAll(':', '-')}.json`, import.meta.url)),
  );
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  out(`  figures           ${path.relative(process.cwd(), file)}`);
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch((e) => console.error(e));
}

function cpuSeconds(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1e6;
}

/**
 * " (token 0.36 s, probes 0.48 s, boundaries 0.94 s; 14 readers, the server 302 ms away)", or
 * nothing when no full load was planned.
 */
function planStepsText(steps: Record<string, number>, plan: Pick<Timeline, 'readers' | 'serverMs'>): string {
  const parts = Object.entries(steps)
    .filter(([, seconds]) => seconds > 0)
    .map(([step, seconds]) => `${step} ${seconds.toFixed(2)} s`);
  const readers =
    plan.readers === undefined
      ? ''
      : `; ${plan.readers} readers${plan.serverMs === undefined ? '' : `, the server ${plan.serverMs} ms away`}`;
  return parts.length > 0 ? ` (${parts.join(', ')}${readers})` : '';
}

/** A duration in nanoseconds (the event loop histogram's unit), in milliseconds. */
function ms(nanoseconds: number): string {
  return `${(nanoseconds / 1e6).toFixed(1)} ms`;
}

function mb(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20)} MB`;
}
