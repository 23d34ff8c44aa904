import type { EntityManager } from '@mikro-orm/postgresql';
import { Context } from '@temporalio/activity';
import { SyncRun } from '../db/entities/index.js';
import { createSyncRun } from '../db/repositories/sync-run.repository.js';
import { deriveMemberContacts } from '../ingest/upsert.js';
import type { SyncStreamName, SyncTenantResult } from '../workflows/definitions.js';
import type { ActivityDeps } from './deps.js';
import { toActivityFailure } from './failures.js';

export interface FinishSyncRunInput {
  syncRunId: number;
  status: SyncTenantResult['status'];
  error: string | null;
  warnings: string[];
}

/** The run row's lifecycle, so progress and outcome are visible from the database too. */
export function createSyncRunActivities({ orm, logger, metrics }: ActivityDeps) {
  const em = (): EntityManager => orm.em.fork() as EntityManager;
  const log = logger.child({ activities: 'sync-runs' });

  /** Runs an activity body; a database error leaves it only as a value-free failure. */
  const safely = async <T>(body: () => Promise<T>): Promise<T> => {
    try {
      return await body();
    } catch (error) {
      throw toActivityFailure(error, log);
    }
  };

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
     * Ends the run: derives members' email/phone from the contacts it brought, records the
     * outcome, and leaves the `company_data.updated` outbox event for the processing that
     * follows ingest, all in one transaction.
     */
    async finishSyncRun(input: FinishSyncRunInput): Promise<void> {
      const finished = await safely(() =>
        em().transactional(async (tem) => {
          const run = await tem.findOneOrFail(SyncRun, input.syncRunId, { populate: ['credential'] });
          if (run.finishedAt) return null; // a retried finish: already done, already counted
          const companyId = run.credential.company.id;
          const environment = run.credential.environment;
          if (run.startedAt) {
            await deriveMemberContacts(tem, { companyId, environment }, run.id, run.startedAt);
          }
          run.status = input.status;
          run.error = input.error;
          run.warnings = input.warnings;
          run.finishedAt = new Date();
          await tem.flush();
          await tem.getConnection().execute(
            `insert into outbox_events (type, company_id, payload) values ('company_data.updated', ?, ?::jsonb)`,
            [
              companyId,
              JSON.stringify({
                syncRunId: run.id,
                credentialId: run.credential.id,
                // Downstream takes one environment's rows (production alone, say) by this field.
                environment,
                tenantId: run.credential.tenantId,
                status: run.status,
                counts: run.counts,
                finishedAt: run.finishedAt.toISOString(),
              }),
            ],
            'run',
            tem.getTransactionContext(),
          );
          return {
            labels: { trigger: run.trigger, status: run.status, environment },
            seconds: run.startedAt ? (run.finishedAt.getTime() - run.startedAt.getTime()) / 1000 : null,
          };
        }),
      );
      // Counted once committed: a finish rolled back and retried counts once.
      if (finished && metrics) {
        metrics.syncRuns.inc(finished.labels);
        if (finished.seconds !== null) metrics.syncRunDuration.observe(finished.labels, finished.seconds);
      }
    },

    /**
     * A schedule fired: a run row for it, or null when the credential or its company is not
     * syncing (disabled). Returns ids and choices only.
     */
    async createScheduledSyncRun(
      credentialId: number,
    ): Promise<{ syncRunId: number; streams: SyncStreamName[] } | null> {
      return safely(async () => {
        const created = await createSyncRun(em(), { credentialId, trigger: 'schedule', mode: 'incremental' });
        // Refused by a flag: the run row says skipped and why; the workflow sees "not syncing".
        return created && 'refused' in created ? null : created;
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
