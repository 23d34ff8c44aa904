import type { EntityManager } from '@mikro-orm/postgresql';
import { Context } from '@temporalio/activity';
import { authFailureStatuses } from '../alerts/credential-status.js';
import { defaultAlertPolicy } from '../alerts/policy.js';
import { alertRunFinished } from '../alerts/run-alerts.js';
import { linkTo, txSql } from '../alerts/sql.js';
import { type ISyncRun, ServiceTitanCredential, SyncRun } from '../db/entities/index.js';
import { readInstallationId } from '../db/installation.js';
import { createSyncRun } from '../db/repositories/sync-run.repository.js';
import { deriveMemberContacts, refreshDerivationStatistics } from '../ingest/upsert.js';
import { DOWNSTREAM_EVENT, emitEvent } from '../notifications/events.js';
import { pauseTemporalSchedule } from '../schedules/index.js';
import { summariseRunSql } from '../sync/run-positions.js';
import type { SyncStreamName, SyncTenantResult } from '../workflows/definitions.js';
import type { ActivityDeps } from './deps.js';
import { toActivityFailure } from './failures.js';

export interface FinishSyncRunInput {
  syncRunId: number;
  status: SyncTenantResult['status'];
  error: string | null;
  warnings: string[];
  /**
   * The run's members got their email and phone from its contacts already
   * (`deriveRunMemberContacts`, once both streams were stored): the finish leaves them.
   */
  membersDerived?: boolean;
}

/** The run row's lifecycle, so progress and outcome are visible from the database too. */
export function createSyncRunActivities({ orm, logger, alerts, metrics }: ActivityDeps) {
  const em = (): EntityManager => orm.em.fork() as EntityManager;
  const log = logger.child({ activities: 'sync-runs' });
  const policy = alerts ?? defaultAlertPolicy;
  let installationId: Promise<string> | undefined;

  /** Runs an activity body; a database error leaves it only as a value-free failure. */
  const safely = async <T>(body: () => Promise<T>): Promise<T> => {
    try {
      return await body();
    } catch (error) {
      throw toActivityFailure(error, log);
    }
  };

  /**
   * Members' email and phone from the contacts the run brought (src/ingest/upsert.ts). An import's
   * members carry the report's own email and phone.
   */
  async function deriveForRun(run: ISyncRun, tem: EntityManager): Promise<void> {
    if (!run.startedAt || run.trigger === 'import') return;
    const { credential } = run;
    await deriveMemberContacts(
      tem,
      { companyId: credential.company.id, environment: credential.environment },
      run.id,
      run.startedAt,
    );
  }

  /**
   * Before a derivation: a large first load leaves the joined tables' statistics stale, and the
   * derivation's plan with them.
   */
  const refreshStatistics = () =>
    refreshDerivationStatistics(em()).catch((error: unknown) =>
      log.warn({ err: error }, 'planner statistics not refreshed'),
    );

  /** Pauses the Temporal Schedule of a run's credential when the product paused its row. */
  async function followAutoPause(syncRunId: number): Promise<void> {
    const rows = await safely(() =>
      em()
        .getConnection()
        .execute<{ credential_id: number; pause_reason: string | null }[]>(
          `select s.credential_id, s.pause_reason from sync_schedules s
             join servicetitan_sync_runs r on r.credential_id = s.credential_id
            where r.id = ? and s.paused and s.paused_by = 'auto'`,
          [syncRunId],
        ),
    );
    const row = rows[0];
    if (!row) return;
    installationId ??= readInstallationId(orm).catch((error: unknown) => {
      installationId = undefined;
      throw error;
    });
    const outcome = await pauseTemporalSchedule(
      Context.current().client,
      await installationId,
      row.credential_id,
      row.pause_reason ?? 'auto-paused',
    );
    if (outcome === 'paused')
      log.warn({ credentialId: row.credential_id }, 'schedule auto-paused after failed runs in a row');
    else if (outcome === 'missing')
      log.warn(
        { credentialId: row.credential_id },
        'auto-paused schedule not in Temporal; reconcile applies it',
      );
  }

  return {
    /**
     * Marks the run started; false when its credential was disabled (or its company's sync switched
     * off) after the row was made: the run must then not sync.
     */
    async markSyncRunStarted(syncRunId: number): Promise<boolean> {
      const { workflowExecution } = Context.current().info;
      const run = await safely(() =>
        em().findOneOrFail(SyncRun, syncRunId, { populate: ['credential.company'] }),
      );
      if (run.credential.disabledAt || !run.credential.company.syncEnabled) return false;
      await safely(() =>
        em().nativeUpdate(
          SyncRun,
          { id: syncRunId },
          {
            status: 'running',
            startedAt: new Date(),
            workflowId: workflowExecution?.workflowId ?? null,
            runId: workflowExecution?.runId ?? null,
          },
        ),
      );
      return true;
    },

    async markSyncRunPaused(syncRunId: number, paused: boolean): Promise<void> {
      await safely(() =>
        em().nativeUpdate(
          SyncRun,
          { id: syncRunId, status: { $in: ['running', 'paused'] } },
          { status: paused ? 'paused' : 'running' },
        ),
      );
    },

    /**
     * Derives the run's members' email and phone while its other streams still read, once its
     * customers and contacts are stored (the workflow calls it then): the finish, which would
     * otherwise do it, no longer waits for it (~2 s after a first load of 20,000 customers).
     */
    async deriveRunMemberContacts(syncRunId: number): Promise<void> {
      await refreshStatistics();
      await safely(() =>
        em().transactional(async (tem) => {
          const run = await tem.findOneOrFail(SyncRun, syncRunId, { populate: ['credential'] });
          if (!run.finishedAt) await deriveForRun(run, tem);
        }),
      );
    },

    /**
     * Ends the run: derives members' email/phone from the contacts it brought (unless
     * `deriveRunMemberContacts` did), records the outcome, and leaves its events in the outbox
     * (`company_data.updated` for the processing that follows ingest, the outcome, data-quality
     * findings, an auto-pause: src/alerts), all in one transaction. Then Temporal's schedule
     * follows an auto-pause.
     */
    async finishSyncRun(input: FinishSyncRunInput): Promise<void> {
      if (!input.membersDerived) await refreshStatistics();
      const outcome = await safely(() =>
        em().transactional(async (tem) => {
          // The run's counts and positions exactly as its chunks committed them.
          await txSql(tem).run(summariseRunSql('?'), [input.syncRunId]);
          const run = await tem.findOneOrFail(SyncRun, input.syncRunId, {
            populate: ['credential', 'credential.company'],
          });
          // A retried finish: already done (its Temporal pause, if any, is ensured below again).
          if (run.finishedAt) return { autoPaused: false, retried: true };
          const credential = run.credential;
          const company = credential.company;
          const companyId = company.id;
          const environment = credential.environment;
          if (!input.membersDerived) await deriveForRun(run, tem);
          run.status = input.status;
          run.error = input.error;
          run.warnings = input.warnings;
          run.finishedAt = new Date();
          await tem.flush();
          const sql = txSql(tem);
          await emitEvent(sql, {
            type: DOWNSTREAM_EVENT,
            companyId,
            payload: {
              companyId,
              companyName: company.name,
              syncRunId: run.id,
              credentialId: credential.id,
              // Downstream takes one environment's rows (production alone, say) by this field.
              environment,
              tenantId: credential.tenantId,
              ...linkTo(policy.publicUrl, `/runs/${run.id}`),
              message: `Sync run ${run.id} of ${company.name} finished (${run.status}): process its changes.`,
              status: run.status,
              counts: run.counts,
              finishedAt: run.finishedAt.toISOString(),
            },
          });
          // Loaded in this transaction: the status as the run's chunks left it (an auth failure sets it).
          const alerted = await alertRunFinished(
            sql,
            {
              id: run.id,
              credentialId: credential.id,
              credentialStatus: credential.status,
              companyId,
              companyName: company.name,
              environment,
              tenantId: credential.tenantId,
              trigger: run.trigger,
              mode: run.mode,
              status: run.status,
              error: run.error ?? null,
              warnings: run.warnings,
              counts: run.counts,
              createdAt: run.createdAt,
              startedAt: run.startedAt ?? null,
              finishedAt: run.finishedAt,
            },
            policy,
          );
          return {
            ...alerted,
            retried: false,
            labels: { trigger: run.trigger, status: run.status, environment },
            seconds: run.startedAt ? (run.finishedAt.getTime() - run.startedAt.getTime()) / 1000 : null,
          };
        }),
      );
      // Counted once committed: a finish rolled back and retried counts once.
      if ('labels' in outcome && metrics) {
        metrics.syncRuns.inc(outcome.labels);
        if (outcome.seconds !== null) metrics.syncRunDuration.observe(outcome.labels, outcome.seconds);
      }
      // Temporal's copy of the schedule follows the row paused in the transaction above; a
      // retried finish makes sure of it once more (an earlier attempt may have failed here).
      if (outcome.autoPaused || outcome.retried) await followAutoPause(input.syncRunId);
    },

    /**
     * A schedule fired: a run row for it, or null when the credential or its company is not
     * syncing (disabled). Returns ids and choices only.
     */
    async createScheduledSyncRun(
      credentialId: number,
    ): Promise<{ syncRunId: number; streams: SyncStreamName[]; skipReason?: string } | null> {
      return safely(async () => {
        const fork = em();
        const created = await createSyncRun(fork, { credentialId, trigger: 'schedule', mode: 'incremental' });
        // Refused by a flag: the run row says skipped and why; the workflow sees "not syncing".
        if (!created || 'refused' in created) return null;
        // After an authentication failure, ServiceTitan is not called again on a schedule until a
        // connection test succeeds (the test sets the status back to connected).
        const credential = await fork.findOneOrFail(ServiceTitanCredential, credentialId);
        if (authFailureStatuses.includes(credential.status))
          return {
            ...created,
            skipReason: `the credential is ${credential.status}: test the connection to resume scheduled syncs`,
          };
        return created;
      });
    },

    async markSyncRunSkipped(syncRunId: number, reason: string): Promise<void> {
      // A retried call finds the row skipped already: it changes nothing and counts nothing.
      const changed = await safely(() =>
        em().nativeUpdate(
          SyncRun,
          { id: syncRunId, status: { $ne: 'skipped' } },
          { status: 'skipped', error: reason, finishedAt: new Date() },
        ),
      );
      if (changed && metrics) {
        const rows = await safely(() =>
          em()
            .getConnection()
            .execute<{ trigger: string; environment: string }[]>(
              `select r.trigger, c.environment from servicetitan_sync_runs r
               join servicetitan_credentials c on c.id = r.credential_id where r.id = ?`,
              [syncRunId],
            ),
        );
        const row = rows[0];
        if (row)
          metrics.syncRuns.inc({ trigger: row.trigger, status: 'skipped', environment: row.environment });
      }
    },
  };
}
