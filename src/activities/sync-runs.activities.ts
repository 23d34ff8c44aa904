import type { EntityManager } from '@mikro-orm/postgresql';
import { Context } from '@temporalio/activity';
import { SyncRun } from '../db/entities/index.js';
import type { SyncTenantResult } from '../workflows/definitions.js';
import type { ActivityDeps } from './index.js';

/** The run row's lifecycle, so progress and outcome are visible from the database too. */
export function createSyncRunActivities({ orm }: ActivityDeps) {
  const em = (): EntityManager => orm.em.fork() as EntityManager;

  return {
    async markSyncRunStarted(syncRunId: number): Promise<void> {
      const { workflowExecution } = Context.current().info;
      await em().nativeUpdate(
        SyncRun,
        { id: syncRunId },
        {
          status: 'running',
          startedAt: new Date(),
          workflowId: workflowExecution?.workflowId ?? null,
          runId: workflowExecution?.runId ?? null,
        },
      );
    },

    async markSyncRunFinished(
      syncRunId: number,
      status: SyncTenantResult['status'],
      error: string | null,
    ): Promise<void> {
      await em().nativeUpdate(SyncRun, { id: syncRunId }, { status, error, finishedAt: new Date() });
    },
  };
}
