import type {
  CredentialStatus,
  StreamCounts,
  SyncMode,
  SyncRunStatus,
  SyncTrigger,
} from '../db/entities/index.js';
import { type EventSubject, emitEvent } from '../notifications/events.js';
import type { AlertPolicy } from './policy.js';
import { linkTo, type TxSql } from './sql.js';

/** A run as it is being finished: ids, names and counts only. */
export interface FinishedRun {
  id: number;
  credentialId: number;
  credentialStatus: CredentialStatus;
  companyId: number;
  companyName: string;
  environment: 'integration' | 'production';
  tenantId: string;
  trigger: SyncTrigger;
  mode: SyncMode;
  status: SyncRunStatus;
  error: string | null;
  warnings: string[];
  counts: Record<string, StreamCounts>;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date;
}

export interface RunAlertOutcome {
  /** The credential's schedule was paused in this transaction: Temporal's copy must follow. */
  autoPaused: boolean;
}

export type Anomaly =
  | {
      kind: 'full_run_drop';
      stream: string;
      fetched: number;
      previousFetched: number;
      previousSyncRunId: number;
      percentOfPrevious: number;
      thresholdPercent: number;
    }
  | { kind: 'incremental_empty'; previousRunsWithChanges: number }
  | { kind: 'skipped_ratio'; skipped: number; fetched: number; percent: number; thresholdPercent: number };

const successful: SyncRunStatus[] = ['completed', 'completed_with_warnings'];

function totalsOf(counts: Record<string, StreamCounts>): StreamCounts {
  const t = { pages: 0, fetched: 0, upserted: 0, skipped: 0 };
  for (const c of Object.values(counts)) {
    t.pages += Number(c.pages ?? 0);
    t.fetched += Number(c.fetched ?? 0);
    t.upserted += Number(c.upserted ?? 0);
    t.skipped += Number(c.skipped ?? 0);
  }
  return t;
}

const modeWords = (mode: SyncMode) =>
  typeof mode === 'object' ? `backfill ${mode.from} – ${mode.to}` : mode;
const round1 = (n: number) => Math.round(n * 10) / 10;

function durationWords(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${round1(seconds / 3600)} h`;
}

/**
 * Everything a finished run announces, in the transaction that finishes it: its outcome, data
 * quality findings on a success, freshness reset on a success, and the auto-pause of its
 * credential's schedule after failures in a row.
 */
export async function alertRunFinished(
  sql: TxSql,
  run: FinishedRun,
  policy: AlertPolicy,
): Promise<RunAlertOutcome> {
  const target = `${run.companyName}'s ${run.environment} tenant ${run.tenantId}`;
  const subject = (message: string): EventSubject => ({
    companyId: run.companyId,
    companyName: run.companyName,
    credentialId: run.credentialId,
    environment: run.environment,
    tenantId: run.tenantId,
    syncRunId: run.id,
    ...linkTo(policy.publicUrl, `/runs/${run.id}`),
    message,
  });
  const totals = totalsOf(run.counts);
  const durationSeconds = Math.max(
    0,
    (run.finishedAt.getTime() - (run.startedAt ?? run.createdAt).getTime()) / 1000,
  );
  const figures = {
    status: run.status,
    trigger: run.trigger,
    mode: run.mode,
    counts: run.counts,
    totals,
    durationSeconds: round1(durationSeconds),
    startedAt: run.startedAt?.toISOString() ?? null,
    finishedAt: run.finishedAt.toISOString(),
  };
  const summary = `${totals.fetched} records fetched, ${totals.upserted} written, ${totals.skipped} skipped in ${durationWords(durationSeconds)}`;
  const how = `${run.trigger} ${modeWords(run.mode)} sync run ${run.id} of ${target}`;

  if (run.status === 'completed') {
    await emitEvent(sql, {
      type: 'sync.succeeded',
      companyId: run.companyId,
      payload: { ...subject(`The ${how} completed: ${summary}. Nothing to do.`), ...figures },
    });
  } else if (run.status === 'completed_with_warnings') {
    await emitEvent(sql, {
      type: 'sync.completed_with_warnings',
      companyId: run.companyId,
      payload: {
        ...subject(
          `The ${how} completed with warnings (${run.warnings.join('; ')}): ${summary}. Check the warnings: a stream the tenant is not licensed for stays empty until the license or the stream selection changes.`,
        ),
        ...figures,
        warnings: run.warnings,
      },
    });
  } else if (run.status === 'failed') {
    const hint =
      run.credentialStatus === 'invalid_credentials'
        ? 'Update the client secret in the console and test the connection; scheduled runs are skipped until a test succeeds.'
        : run.credentialStatus === 'awaiting_approval'
          ? "Ask the tenant's administrator to approve the application, then test the connection; scheduled runs are skipped until a test succeeds."
          : 'Look at the run in the console; the next scheduled run tries again.';
    await emitEvent(sql, {
      type: 'sync.failed',
      companyId: run.companyId,
      payload: {
        ...subject(`The ${how} failed: ${run.error ?? 'no reason was recorded'}. ${hint}`),
        ...figures,
        error: run.error,
      },
    });
  }

  if (successful.includes(run.status)) {
    // A success ends the staleness breach: the next one is announced again.
    await sql.run(`update servicetitan_credentials set freshness_alerted_at = null where id = ?`, [
      run.credentialId,
    ]);
    const anomalies = await findAnomalies(sql, run, totals, policy);
    if (anomalies.length > 0) {
      await emitEvent(sql, {
        type: 'data_quality.anomaly',
        companyId: run.companyId,
        payload: {
          ...subject(
            `The ${how} looks wrong: ${anomalies.map(describeAnomaly).join('; ')}. Check the tenant in ServiceTitan (deleted or hidden records, a permission change) and the run's skipped records.`,
          ),
          ...figures,
          anomalies,
        },
      });
    }
    return { autoPaused: false };
  }
  if (run.status === 'failed') return { autoPaused: await autoPauseAfterFailures(sql, run, policy, subject) };
  return { autoPaused: false };
}

function describeAnomaly(a: Anomaly): string {
  switch (a.kind) {
    case 'full_run_drop':
      return `${a.stream}: ${a.fetched} records where the last successful full run (${a.previousSyncRunId}) had ${a.previousFetched} (${a.percentOfPrevious} %, below ${a.thresholdPercent} %)`;
    case 'incremental_empty':
      return `no change found, where each of the last ${a.previousRunsWithChanges} incremental runs found some`;
    case 'skipped_ratio':
      return `${a.skipped} of ${a.fetched} records skipped (${a.percent} %, above ${a.thresholdPercent} %)`;
  }
}

/** Compares the run with the credential's history (see README "Alerts" for the definitions). */
export async function findAnomalies(
  sql: TxSql,
  run: FinishedRun,
  totals: StreamCounts,
  policy: AlertPolicy,
): Promise<Anomaly[]> {
  const anomalies: Anomaly[] = [];
  if (run.mode === 'full') {
    const [previous] = await sql.all<{ id: number; counts: Record<string, StreamCounts> }>(
      `select id, counts from servicetitan_sync_runs
        where credential_id = ? and id <> ? and mode = '"full"'::jsonb and status in ('completed', 'completed_with_warnings')
        order by created_at desc, id desc limit 1`,
      [run.credentialId, run.id],
    );
    if (previous) {
      for (const [stream, c] of Object.entries(run.counts)) {
        const before = Number(previous.counts[stream]?.fetched ?? 0);
        const now = Number(c.fetched ?? 0);
        if (before > 0 && (now / before) * 100 < policy.fullRunMinPercent)
          anomalies.push({
            kind: 'full_run_drop',
            stream,
            fetched: now,
            previousFetched: before,
            previousSyncRunId: previous.id,
            percentOfPrevious: round1((now / before) * 100),
            thresholdPercent: policy.fullRunMinPercent,
          });
      }
    }
  }
  if (run.mode === 'incremental' && totals.fetched === 0 && policy.quietIncrementalRuns > 0) {
    const recent = await sql.all<{ counts: Record<string, StreamCounts> }>(
      `select counts from servicetitan_sync_runs
        where credential_id = ? and id <> ? and mode = '"incremental"'::jsonb and status in ('completed', 'completed_with_warnings')
          and created_at <= ?
        order by created_at desc, id desc limit ?`,
      [run.credentialId, run.id, run.createdAt, policy.quietIncrementalRuns],
    );
    if (recent.length === policy.quietIncrementalRuns && recent.every((r) => totalsOf(r.counts).fetched > 0))
      anomalies.push({ kind: 'incremental_empty', previousRunsWithChanges: recent.length });
  }
  if (totals.fetched > 0) {
    const percent = (totals.skipped / totals.fetched) * 100;
    if (percent > policy.skippedPercent)
      anomalies.push({
        kind: 'skipped_ratio',
        skipped: totals.skipped,
        fetched: totals.fetched,
        percent: round1(percent),
        thresholdPercent: policy.skippedPercent,
      });
  }
  return anomalies;
}

/**
 * Failed runs in a row: the credential's failed runs since the later of its last successful run
 * and its schedule's last resume. Cancelled and skipped runs neither count nor break the streak.
 */
export const failuresInARowSql = `(select count(*) from servicetitan_sync_runs f
    where f.credential_id = c.id and f.status = 'failed'
      and f.created_at > greatest(
        coalesce((select max(o.created_at) from servicetitan_sync_runs o
                   where o.credential_id = c.id and o.status in ('completed', 'completed_with_warnings')), '-infinity'::timestamptz),
        coalesce(s.resumed_at, '-infinity'::timestamptz)))`;

async function autoPauseAfterFailures(
  sql: TxSql,
  run: FinishedRun,
  policy: AlertPolicy,
  subject: (message: string) => EventSubject,
): Promise<boolean> {
  if (policy.autoPauseAfterFailures <= 0) return false;
  const [row] = await sql.all<{ paused: boolean; failures: string | number }>(
    `select s.paused, ${failuresInARowSql} as failures
       from sync_schedules s join servicetitan_credentials c on c.id = s.credential_id
      where s.credential_id = ? for update of s`,
    [run.credentialId],
  );
  if (!row || row.paused) return false;
  const failures = Number(row.failures);
  if (failures < policy.autoPauseAfterFailures) return false;
  const reason = `Paused after ${failures} failed runs in a row`;
  await sql.run(
    `update sync_schedules set paused = true, paused_by = 'auto', pause_reason = ?, paused_at = now(), updated_at = now()
      where credential_id = ?`,
    [reason, run.credentialId],
  );
  await emitEvent(sql, {
    type: 'schedule.auto_paused',
    companyId: run.companyId,
    payload: {
      ...subject(
        `The sync schedule of ${run.companyName}'s ${run.environment} tenant ${run.tenantId} was paused after ${failures} failed runs in a row (last error: ${run.error ?? 'unknown'}). Fix the cause (test the connection), then resume the schedule.`,
      ),
      failuresInARow: failures,
      threshold: policy.autoPauseAfterFailures,
      lastError: run.error,
      pauseReason: reason,
    },
  });
  return true;
}
