import { failuresInARowSql } from '../../alerts/run-alerts.js';
import type {
  CredentialStatus,
  ServiceTitanEnvironmentName,
  StreamCounts,
  SyncRunStatus,
} from '../../db/entities/index.js';
import type { Logger } from '../../logger.js';
import { scheduleId } from '../../workflows/definitions.js';
import type { RouteContext } from '../route.js';
import { iso } from './scope.js';

interface Row {
  credential_id: number;
  company_id: number;
  company_name: string;
  environment: ServiceTitanEnvironmentName;
  tenant_id: string;
  status: CredentialStatus;
  last_run_id: number | null;
  last_run_status: SyncRunStatus | null;
  last_run_created_at: Date | null;
  last_run_finished_at: Date | null;
  last_run_counts: Record<string, StreamCounts> | null;
  fresh_at: Date | null;
  failures_in_a_row: string | number;
  /** Null when the credential has no schedule. */
  schedule_paused: boolean | null;
  pause_reason: string | null;
  paused_by: 'auto' | 'manual' | null;
  paused_at: Date | string | null;
}

interface BreakerRow {
  environment: ServiceTitanEnvironmentName;
  state: 'closed' | 'half_open' | 'open';
  failures: number;
  opened_at: Date | null;
  retry_at: Date | null;
  updated_at: Date;
}

/**
 * What the dashboard reads from Temporal: one listing of every schedule (a page per thousand),
 * whatever the number of credentials.
 */
export interface ScheduleLister {
  list(options?: {
    pageSize?: number;
  }): AsyncIterable<{ scheduleId: string; info: { nextActionTimes: Date[] } }>;
}

/** One query for every credential's state (its schedule's paused flag from the database, the source of truth). */
const sql = `
select c.id as credential_id, c.company_id, co.name as company_name, c.environment, c.tenant_id, c.status,
  lr.id as last_run_id, lr.status as last_run_status, lr.created_at as last_run_created_at,
  lr.finished_at as last_run_finished_at, lr.counts as last_run_counts,
  ok.finished_at as fresh_at, s.paused as schedule_paused,
  s.pause_reason, s.paused_by, s.paused_at,
  ${failuresInARowSql} as failures_in_a_row
from servicetitan_credentials c
join companies co on co.id = c.company_id
left join sync_schedules s on s.credential_id = c.id
left join lateral (
  select r.id, r.status, r.created_at, r.finished_at, r.counts from servicetitan_sync_runs r
  where r.credential_id = c.id and r.status <> 'skipped' order by r.created_at desc, r.id desc limit 1) lr on true
left join lateral (
  select r.created_at, r.finished_at from servicetitan_sync_runs r
  where r.credential_id = c.id and r.status in ('completed', 'completed_with_warnings')
  order by r.created_at desc, r.id desc limit 1) ok on true
where (?::int is null or c.company_id = ?::int)
order by c.id`;

const toDate = (v: Date | string | null): Date | null => (v === null ? null : new Date(v));

/**
 * Next run times of the wanted schedules, from a single listing of the visibility store (which
 * can trail a change by a moment). Temporal being down leaves them unknown, not the dashboard.
 */
async function nextRuns(
  lister: ScheduleLister,
  wanted: Map<string, number>,
  log: Logger,
): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  if (wanted.size === 0) return found;
  const now = Date.now();
  try {
    for await (const summary of lister.list({ pageSize: 1000 })) {
      const credentialId = wanted.get(summary.scheduleId);
      if (credentialId === undefined) continue;
      // The listing is as of the schedule's last action: skip a time it has just passed.
      const next = summary.info.nextActionTimes.find((t) => t.getTime() > now);
      if (next) found.set(credentialId, next.toISOString());
    }
  } catch (error) {
    log.warn({ err: error }, 'schedules could not be listed; the dashboard shows no next run times');
  }
  return found;
}

export function createDashboardService(deps: {
  schedules: ScheduleLister | undefined;
  installationId: string;
}) {
  return {
    async get(ctx: RouteContext) {
      const scope = ctx.principal.companyId;
      const rows = await ctx.em.getConnection().execute<Row[]>(sql, [scope, scope]);
      const wanted = new Map(
        rows
          .filter((r) => r.schedule_paused === false)
          .map((r) => [scheduleId(deps.installationId, r.credential_id), r.credential_id]),
      );
      const next = deps.schedules
        ? await nextRuns(deps.schedules, wanted, ctx.log)
        : new Map<number, string>();
      const credentials = rows.map((r) => {
        const totals = { pages: 0, fetched: 0, upserted: 0, skipped: 0 };
        for (const c of Object.values(r.last_run_counts ?? {})) {
          totals.pages += c.pages ?? 0;
          totals.fetched += c.fetched ?? 0;
          totals.upserted += c.upserted ?? 0;
          totals.skipped += c.skipped ?? 0;
        }
        return {
          credentialId: r.credential_id,
          companyId: r.company_id,
          companyName: r.company_name,
          environment: r.environment,
          tenantId: r.tenant_id,
          status: r.status,
          lastRun:
            r.last_run_id !== null && r.last_run_status && r.last_run_created_at
              ? {
                  id: r.last_run_id,
                  status: r.last_run_status,
                  createdAt: toDate(r.last_run_created_at)!.toISOString(),
                  finishedAt: iso(toDate(r.last_run_finished_at)),
                  totals,
                }
              : null,
          nextRunAt: next.get(r.credential_id) ?? null,
          schedulePaused: r.schedule_paused,
          // Why it is paused (an operator, or an auto-pause after failed runs), while it is.
          pause: r.schedule_paused
            ? {
                by: r.paused_by ?? 'manual',
                reason: r.pause_reason ?? 'Paused',
                at: iso(toDate(r.paused_at)),
              }
            : null,
          dataFreshAt: iso(toDate(r.fresh_at)),
          failuresInARow: Number(r.failures_in_a_row),
        };
      });
      const breakers = await ctx.em
        .getConnection()
        .execute<BreakerRow[]>(
          `select environment, state, failures, opened_at, retry_at, updated_at from servicetitan_breakers order by environment`,
        );
      const byStatus: Record<string, number> = {};
      for (const c of credentials) byStatus[c.status] = (byStatus[c.status] ?? 0) + 1;
      return {
        credentials,
        totals: {
          credentials: credentials.length,
          byStatus,
          running: credentials.filter(
            (c) => c.lastRun && ['pending', 'running', 'paused'].includes(c.lastRun.status),
          ).length,
          failing: credentials.filter((c) => c.failuresInARow > 0).length,
          neverSynced: credentials.filter((c) => c.dataFreshAt === null).length,
        },
        breakers: breakers.map((b) => ({
          environment: b.environment,
          state: b.state,
          failures: b.failures,
          openedAt: iso(toDate(b.opened_at)),
          retryAt: iso(toDate(b.retry_at)),
          updatedAt: toDate(b.updated_at)!.toISOString(),
        })),
      };
    },
  };
}
