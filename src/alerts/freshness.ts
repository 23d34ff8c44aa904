import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { ScheduleFrequency } from '../db/entities/index.js';
import type { Logger } from '../logger.js';
import { emitEvent } from '../notifications/events.js';
import type { FreshnessPolicy } from './policy.js';
import { linkTo, txSql } from './sql.js';

interface Candidate {
  credential_id: number;
  company_id: number;
  company_name: string;
  environment: 'integration' | 'production';
  tenant_id: string;
  frequency: ScheduleFrequency;
  every_hours: number | null;
  last_success_at: Date | string | null;
  since: Date | string;
}

/**
 * Credentials whose data should be fresh and whose staleness was not announced yet: an active
 * schedule (not paused: a paused one says so itself), an enabled credential and company. `since`
 * is when freshness started to be owed: the last success, or else the schedule's creation or
 * last resume, whichever is latest.
 */
const candidatesSql = `
select c.id as credential_id, c.company_id, co.name as company_name, c.environment, c.tenant_id,
  s.frequency, s.every_hours, ok.finished_at as last_success_at,
  greatest(coalesce(ok.finished_at, '-infinity'::timestamptz), s.created_at,
           coalesce(s.resumed_at, '-infinity'::timestamptz)) as since
from sync_schedules s
join servicetitan_credentials c on c.id = s.credential_id
join companies co on co.id = c.company_id
left join lateral (
  select r.finished_at from servicetitan_sync_runs r
   where r.credential_id = c.id and r.status in ('completed', 'completed_with_warnings')
   order by r.finished_at desc nulls last limit 1) ok on true
where not s.paused and c.disabled_at is null and co.sync_enabled and c.freshness_alerted_at is null
order by c.id`;

const HOUR = 3_600_000;

/**
 * The longest a schedule leaves between two runs. A cron expression counts as daily: its true
 * period would need Temporal's calendar arithmetic, and a daily expectation is what most are.
 */
export function schedulePeriodMs(frequency: ScheduleFrequency, everyHours: number | null): number {
  switch (frequency) {
    case 'hourly':
      return (everyHours ?? 1) * HOUR;
    case 'daily':
    case 'cron':
      return 24 * HOUR;
    case 'weekly':
      return 7 * 24 * HOUR;
    case 'monthly':
      return 31 * 24 * HOUR;
  }
}

/**
 * Announces each credential whose data is older than its schedule's period plus the grace, once
 * per breach: the flag set with the event is cleared by the next successful run.
 */
export async function checkFreshness(
  deps: { orm: MikroORM; logger: Logger; now?: () => Date },
  policy: FreshnessPolicy,
): Promise<{ checked: number; stale: number[] }> {
  const now = (deps.now ?? (() => new Date()))().getTime();
  const em = deps.orm.em.fork() as EntityManager;
  const candidates = await em.getConnection().execute<Candidate[]>(candidatesSql, []);
  const stale: number[] = [];
  for (const c of candidates) {
    const periodMs = schedulePeriodMs(c.frequency, c.every_hours);
    const deadline = new Date(c.since).getTime() + periodMs + policy.graceMinutes * 60_000;
    if (deadline >= now) continue;
    const sent = await em.transactional(async (tem) => {
      const sql = txSql(tem as EntityManager);
      // Set-if-unset: two checks at once (two workers) announce the breach once.
      const claimed = await sql.run(
        `update servicetitan_credentials set freshness_alerted_at = now() where id = ? and freshness_alerted_at is null`,
        [c.credential_id],
      );
      if (claimed === 0) return false;
      const lastSuccessAt = c.last_success_at ? new Date(c.last_success_at).toISOString() : null;
      const overdueMinutes = Math.round((now - new Date(c.since).getTime() - periodMs) / 60_000);
      await emitEvent(sql, {
        type: 'freshness.stale',
        companyId: c.company_id,
        payload: {
          companyId: c.company_id,
          companyName: c.company_name,
          credentialId: c.credential_id,
          environment: c.environment,
          tenantId: c.tenant_id,
          ...linkTo(policy.publicUrl, `/credentials/${c.credential_id}`),
          message: `${c.company_name}'s ${c.environment} tenant ${c.tenant_id} has ${
            lastSuccessAt ? `had no successful sync since ${lastSuccessAt}` : 'never been synced successfully'
          }, ${overdueMinutes} minutes past its ${c.frequency} schedule. Check its latest runs and its connection (test it), and its schedule.`,
          lastSuccessAt,
          expectedEveryMinutes: Math.round(periodMs / 60_000),
          graceMinutes: policy.graceMinutes,
          overdueMinutes,
        },
      });
      return true;
    });
    if (sent) stale.push(c.credential_id);
  }
  if (stale.length) deps.logger.warn({ stale }, 'credentials with stale data announced');
  return { checked: candidates.length, stale };
}
