/**
 * What bench/sync.ts measures besides the run itself: the COPY ceilings, the history of every
 * execution of a run, the PostgreSQL backends' CPU time and the phase counters.
 */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { tsToMs } from '@temporalio/common/lib/time.js';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { Metrics } from '../src/metrics/index.js';
import type { FullLoadPlan } from '../src/workflows/definitions.js';

/** The tables a sync writes, in the order a run fills them. */
export const streamTables = ['members_stream', 'servicetitan_customer_contacts', 'invoices_stream'] as const;

export interface TableCopy {
  table: string;
  rows: number;
  seconds: number;
}

export interface Ceiling {
  tables: TableCopy[];
  rows: number;
  seconds: number;
  rowsPerSecond: number;
}

/**
 * Baseline columns the product's tables no longer have, rebuilt from what they have, so the
 * baseline ceiling writes what today's definition stored. A storage change that drops or
 * renames a column the baseline has adds its expression here (the bench stops and names the
 * column otherwise: a baseline written with less would flatter the change).
 */
const baselineColumnFromProduct: Record<string, Record<string, string>> = {
  invoices_stream: { items: `coalesce(("raw"::jsonb) -> 'items', '[]'::jsonb)` },
};

const BASELINE_SCHEMA = 'bench_baseline';

/**
 * The two ceilings of the same rows (those the run stored for `companyId`): COPYed out of the
 * synced tables, straight into empty tables with their indexes, timed end to end. `product`
 * copies into `LIKE ... INCLUDING ALL` copies of the tables as the migrations define them now;
 * `baseline` into the tables of bench/baseline-tables.sql (the definition before the storage
 * work of issue 13). Per table the two copies run back to back, so both see the same machine.
 */
export async function copyCeilings(
  databaseUrl: string,
  companyId: number,
): Promise<{ product: Ceiling; baseline: Ceiling }> {
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  const product: TableCopy[] = [];
  const baseline: TableCopy[] = [];
  try {
    const ddl = await readFile(new URL('./baseline-tables.sql', import.meta.url), 'utf8');
    await admin.query(`drop schema if exists ${BASELINE_SCHEMA} cascade; create schema ${BASELINE_SCHEMA}`);
    await admin.query(`set search_path to ${BASELINE_SCHEMA}; ${ddl}; reset search_path`);
    const where = `where company_id = ${Number(companyId)}`;
    for (const table of streamTables) {
      const copy = `"${table}_ceiling"`;
      await admin.query(`create table ${copy} (like "${table}" including all)`);
      const columns = (await columnsOf(admin, 'public', table, 'writable')).map((c) => `"${c}"`).join(', ');
      product.push(
        await timedCopy(
          databaseUrl,
          table,
          `select ${columns} from "${table}" ${where}`,
          copy,
          `(${columns})`,
        ),
      );
      await admin.query(`drop table ${copy}`);

      const select = await baselineSelect(admin, table);
      baseline.push(
        await timedCopy(
          databaseUrl,
          table,
          `select ${select.expressions} from "${table}" ${where}`,
          `${BASELINE_SCHEMA}."${table}"`,
          `(${select.columns})`,
        ),
      );
    }
  } finally {
    await admin.query(`drop schema if exists ${BASELINE_SCHEMA} cascade`).catch(() => {});
    await admin.end();
  }
  return { product: summarise(product), baseline: summarise(baseline) };
}

/** A table's columns, or those a COPY can fill (`writable`: a generated column is computed, not copied). */
async function columnsOf(client: pg.Client, schema: string, table: string, which: 'all' | 'writable') {
  const { rows } = await client.query<{ name: string }>(
    `select column_name as name from information_schema.columns
     where table_schema = $1 and table_name = $2 and ($3 or is_generated = 'NEVER')
     order by ordinal_position`,
    [schema, table, which === 'all'],
  );
  return rows.map((r) => r.name);
}

async function baselineSelect(client: pg.Client, table: string) {
  const productColumns = new Set(await columnsOf(client, 'public', table, 'all'));
  const baselineColumns = await columnsOf(client, BASELINE_SCHEMA, table, 'writable');
  const expressions = baselineColumns.map((column) => {
    if (productColumns.has(column)) return `"${column}"`;
    const rebuilt = baselineColumnFromProduct[table]?.[column];
    if (!rebuilt) {
      throw new Error(
        `baseline ceiling: ${table}.${column} is gone from the product's table; add how to rebuild it to baselineColumnFromProduct in bench/sync-measures.ts`,
      );
    }
    return rebuilt;
  });
  return { columns: baselineColumns.map((c) => `"${c}"`).join(', '), expressions: expressions.join(', ') };
}

async function timedCopy(
  databaseUrl: string,
  table: string,
  select: string,
  target: string,
  columns: string,
): Promise<TableCopy> {
  const source = new pg.Client({ connectionString: databaseUrl });
  const sink = new pg.Client({ connectionString: databaseUrl });
  await source.connect();
  await sink.connect();
  try {
    const started = performance.now();
    await pipeline(
      source.query(copyTo(`copy (${select}) to stdout`)),
      sink.query(copyFrom(`copy ${target} ${columns} from stdin`)),
    );
    const seconds = (performance.now() - started) / 1000;
    const { rows } = await sink.query(`select count(*)::int as n from ${target}`);
    return { table, rows: rows[0].n, seconds };
  } finally {
    await source.end();
    await sink.end();
  }
}

function summarise(tables: TableCopy[]): Ceiling {
  const rows = tables.reduce((n, t) => n + t.rows, 0);
  const seconds = tables.reduce((n, t) => n + t.seconds, 0);
  return { tables, rows, seconds, rowsPerSecond: seconds > 0 ? rows / seconds : 0 };
}

export interface Execution {
  workflowId: string;
  runId: string;
  events: number;
}

/**
 * When the run's steps ended, in seconds from the workflow's start (read off the histories):
 * the full load's planning, each stream's last chunk, and the run's finishing step. At a high
 * latency it shows what the run waited for.
 */
export interface Timeline {
  planned?: number;
  /** The readers the full load's plan counted windows for, and the server's distance it measured. */
  readers?: number;
  serverMs?: number;
  streams: Record<string, number>;
  finished?: number;
  /** Each position key's chunks: when its first was scheduled and its last completed, and how many. */
  windows?: Record<string, { from: number; to: number; chunks: number }>;
}

/** Every execution of a run (continued-as-new, children), its history's size, and its timeline. */
export async function runExecutions(
  client: Client,
  workflowId: string,
  runId: string,
): Promise<{ executions: Execution[]; timeline: Timeline }> {
  const executions: Execution[] = [];
  const windows: NonNullable<Timeline['windows']> = {};
  const timeline: Timeline = { streams: {}, windows };
  let startedAt: number | undefined;
  const queue = [{ workflowId, runId }];
  for (let next = queue.shift(); next; next = queue.shift()) {
    const history = await client.workflow.getHandle(next.workflowId, next.runId).fetchHistory();
    const events = history.events ?? [];
    executions.push({ ...next, events: events.length });
    startedAt ??= events[0] ? tsToMs(events[0].eventTime) : undefined;
    const scheduled = new Map<number, { type: string; stream?: string; positionKey?: string }>();
    for (const event of events) {
      const continued = event.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
      if (continued) queue.push({ workflowId: next.workflowId, runId: continued });
      const child = event.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
      if (child?.workflowId && child.runId) queue.push({ workflowId: child.workflowId, runId: child.runId });
      const task = event.activityTaskScheduledEventAttributes;
      if (task) {
        const payload = task.input?.payloads?.[0];
        const input = payload
          ? defaultPayloadConverter.fromPayload<{ stream?: string; positionKey?: string }>(payload)
          : {};
        const type = task.activityType?.name ?? '';
        scheduled.set(Number(event.eventId), {
          type,
          stream: input?.stream,
          positionKey: input?.positionKey,
        });
        if (type === 'syncStreamChunk' && input?.positionKey && startedAt !== undefined) {
          const at = (tsToMs(event.eventTime) - startedAt) / 1000;
          const w = windows[input.positionKey] ?? { from: at, to: at, chunks: 0 };
          w.chunks += 1;
          windows[input.positionKey] = w;
        }
      }
      const done = event.activityTaskCompletedEventAttributes;
      if (done && startedAt !== undefined) {
        const activity = scheduled.get(Number(done.scheduledEventId));
        const at = (tsToMs(event.eventTime) - startedAt) / 1000;
        if (activity?.type === 'planFullLoad') {
          timeline.planned = at;
          const result = done.result?.payloads?.[0];
          const plan = result ? defaultPayloadConverter.fromPayload<FullLoadPlan>(result) : undefined;
          timeline.readers = plan?.readers;
          timeline.serverMs = plan?.serverMs;
        }
        if (activity?.type === 'finishSyncRun') timeline.finished = at;
        if (activity?.type === 'syncStreamChunk' && activity.stream) {
          timeline.streams[activity.stream] = Math.max(timeline.streams[activity.stream] ?? 0, at);
          const w = activity.positionKey ? windows[activity.positionKey] : undefined;
          if (w) w.to = Math.max(w.to, at);
        }
      }
    }
  }
  return { executions, timeline };
}

export type Phase = 'fetch' | 'map' | 'write' | 'commit';
export const phases: readonly Phase[] = ['fetch', 'map', 'write', 'commit'];
export type PhaseSeconds = Record<Phase, number>;

/** stsync_sync_phase_seconds_total, by stream and summed over streams. */
export async function phaseSeconds(metrics: Metrics) {
  const zero = (): PhaseSeconds => ({ fetch: 0, map: 0, write: 0, commit: 0 });
  const byStream: Record<string, PhaseSeconds> = {};
  const total = zero();
  for (const { labels, value } of (await metrics.syncPhaseSeconds.get()).values) {
    const stream = String(labels.stream);
    const phase = labels.phase as Phase;
    if (!phases.includes(phase)) continue;
    byStream[stream] ??= zero();
    byStream[stream][phase] += value;
    total[phase] += value;
  }
  return { byStream, total };
}

/** stsync_full_load_plan_seconds_total by step: where the full load's planning went. */
export async function planStepSeconds(metrics: Metrics): Promise<Record<string, number>> {
  const steps: Record<string, number> = {};
  for (const { labels, value } of (await metrics.fullLoadPlanSeconds.get()).values) {
    steps[String(labels.step)] = (steps[String(labels.step)] ?? 0) + value;
  }
  return steps;
}

/** stsync_servicetitan_budget_wait_seconds_total, summed: how long requests waited for their slots. */
export async function budgetWaitSeconds(metrics: Metrics): Promise<number> {
  return (await metrics.serviceTitanBudgetWait.get()).values.reduce((sum, { value }) => sum + value, 0);
}

/**
 * CPU time of the PostgreSQL backends serving one database (the worker's pool, autovacuum),
 * read from /proc/<pid>/stat: only where the server runs on this machine and its processes are
 * visible; `undefined` otherwise. Backends are listed every 500 ms, so one that comes and goes
 * between two samples is missed, and one that exits keeps its last sample (the worker's pool
 * keeps its connections open; autovacuum's workers come and go).
 */
export async function startPostgresCpu(adminUrl: string, database: string) {
  const ticksPerSecond = clockTicks();
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  let readable = true;
  let started = false;
  const sample = async () => {
    const { rows } = await client.query<{ pid: number }>(
      'select pid from pg_stat_activity where datname = $1',
      [database],
    );
    for (const { pid } of rows) {
      const ticks = await processTicks(pid);
      // Gone since it was listed (an autovacuum worker, say): it keeps its last sample.
      if (ticks === null) continue;
      if (ticks === undefined) {
        readable = false;
        continue;
      }
      // A backend already there at the start counts from then; a later one from its birth.
      if (!first.has(pid)) first.set(pid, started ? 0 : ticks);
      last.set(pid, ticks);
    }
  };
  await sample();
  started = true;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    sample()
      .catch(() => {})
      .finally(() => {
        busy = false;
      });
  }, 500);
  return {
    /** Seconds of CPU since the start, or undefined when the backends' /proc entries cannot be read. */
    async stop(): Promise<number | undefined> {
      clearInterval(timer);
      while (busy) await new Promise((r) => setTimeout(r, 20));
      await sample().catch(() => {});
      await client.end();
      if (!readable || last.size === 0) return undefined;
      let ticks = 0;
      for (const [pid, value] of last) ticks += value - (first.get(pid) ?? 0);
      return ticks / ticksPerSecond;
    },
  };
}

/**
 * The whole machine's CPU, from /proc/stat: every process's, the bench's own and the Temporal
 * server's included, and the kernel's. Tells whether a run is bound by the machine's cores: the
 * three processes the bench measures one by one are not all that runs beside a sync.
 */
export async function startMachineCpu() {
  const ticksPerSecond = clockTicks();
  const busyTicks = async (): Promise<number | undefined> => {
    try {
      const line = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0]!;
      // cpu  user nice system idle iowait irq softirq steal (guest time is counted in user's).
      const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
      const busy = [user, nice, system, irq, softirq, steal].reduce<number>((sum, t) => sum + (t ?? 0), 0);
      return Number.isFinite(busy) ? busy : undefined;
    } catch {
      return undefined;
    }
  };
  const first = await busyTicks();
  return {
    /** Seconds of CPU the machine spent since the start, or undefined where /proc/stat is not readable. */
    async stop(): Promise<number | undefined> {
      const last = await busyTicks();
      return first === undefined || last === undefined ? undefined : (last - first) / ticksPerSecond;
    },
  };
}

/** The process's CPU ticks; null when it has exited, undefined when its entry cannot be read. */
async function processTicks(pid: number): Promise<number | null | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command's closing parenthesis start at field 3; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch (error) {
    // A backend that exits while its entry is read gives ESRCH rather than ENOENT: gone too.
    const code = (error as { code?: string }).code;
    return code === 'ENOENT' || code === 'ESRCH' ? null : undefined;
  }
}

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** The checkout's commit, marked `+changes` when the working tree differs from it. */
export function gitCommit(): string | undefined {
  const cwd = new URL('..', import.meta.url);
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd,
      encoding: 'utf8',
    });
    return dirty.trim() ? `${commit}+changes` : commit;
  } catch {
    return undefined;
  }
}
