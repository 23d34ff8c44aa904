import type {
  CredentialStatus,
  ServiceTitanEnvironmentName,
  StreamCounts,
  SyncRunStatus,
} from '../../db/entities/index.js';
import type { ScheduleService } from '../../schedules/index.js';
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
}

/** One query for every credential's state, then each schedule's next run from Temporal. */
const sql = `
select c.id as credential_id, c.company_id, co.name as company_name, c.environment, c.tenant_id, c.status,
  lr.id as last_run_id, lr.status as last_run_status, lr.created_at as last_run_created_at,
  lr.finished_at as last_run_finished_at, lr.counts as last_run_counts,
  ok.finished_at as fresh_at,
  (select count(*) from servicetitan_sync_runs f
    where f.credential_id = c.id and f.status = 'failed'
      and f.created_at > coalesce(ok.created_at, '-infinity'::timestamptz)) as failures_in_a_row
from servicetitan_credentials c
join companies co on co.id = c.company_id
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

export function createDashboardService(deps: { schedules: ScheduleService | undefined }) {
  return {
    async get(ctx: RouteContext) {
      const scope = ctx.principal.companyId;
      const rows = await ctx.em.getConnection().execute<Row[]>(sql, [scope, scope]);
      const credentials = await Promise.all(
        rows.map(async (r) => {
          const schedule = await deps.schedules?.get(r.credential_id).catch(() => null);
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
            nextRunAt: schedule?.nextRunTimes[0] ?? null,
            schedulePaused: schedule ? schedule.paused : null,
            dataFreshAt: iso(toDate(r.fresh_at)),
            failuresInARow: Number(r.failures_in_a_row),
          };
        }),
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
      };
    },
  };
}
