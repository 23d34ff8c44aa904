import type { EntityManager } from '@mikro-orm/postgresql';
import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { SyncRun } from '../db/entities/index.js';
import { createSyncRun } from '../db/repositories/sync-run.repository.js';
import { AppError } from '../errors.js';
import { searchAttributesFor } from '../temporal/search-attributes.js';
import {
  type SyncMode,
  type SyncStreamName,
  type SyncTrigger,
  syncWorkflowId,
} from '../workflows/definitions.js';
import { syncTenantWorkflow } from '../workflows/index.js';

export class SyncConflictError extends AppError {
  constructor(credentialId: number) {
    super(
      'sync_in_progress',
      `A sync of credential ${credentialId} is already running; wait for it or cancel it.`,
      {
        credentialId,
      },
    );
  }
}

export class SyncNotAllowedError extends AppError {
  constructor(credentialId: number) {
    super(
      'sync_not_allowed',
      `Credential ${credentialId} cannot sync: it does not exist, is disabled, or its company's sync is switched off.`,
      { credentialId },
    );
  }
}

export interface StartSyncDeps {
  em: EntityManager;
  temporal: Client;
  taskQueue: string;
  /** This database's installation (src/db/installation.ts); scopes the workflow id. */
  installationId: string;
}

export interface StartSyncInput {
  credentialId: number;
  trigger: SyncTrigger;
  mode?: SyncMode;
  streams?: SyncStreamName[];
}

/**
 * Starts a sync now (API, CLI, demo). Temporal refuses a second run under the credential's
 * workflow id; the run row made for the refused attempt is kept as `skipped` and the caller gets
 * a SyncConflictError.
 */
export async function startSync(deps: StartSyncDeps, input: StartSyncInput) {
  const mode = input.mode ?? 'incremental';
  const created = await createSyncRun(deps.em, {
    credentialId: input.credentialId,
    trigger: input.trigger,
    mode,
    ...(input.streams ? { streams: input.streams } : {}),
  });
  if (!created) throw new SyncNotAllowedError(input.credentialId);
  if ('refused' in created)
    throw new AppError(
      'sync_not_allowed',
      `Credential ${input.credentialId} cannot sync: ${created.refused}.`,
      {
        credentialId: input.credentialId,
      },
    );
  const run = await deps.em.findOneOrFail(SyncRun, created.syncRunId, { populate: ['credential.company'] });
  const workflowId = syncWorkflowId(deps.installationId, input.credentialId);
  let firstExecutionRunId: string;
  try {
    const handle = await deps.temporal.workflow.start(syncTenantWorkflow, {
      taskQueue: deps.taskQueue,
      workflowId,
      args: [
        {
          syncRunId: created.syncRunId,
          credentialId: input.credentialId,
          streams: created.streams,
          mode,
          trigger: input.trigger,
        },
      ],
      typedSearchAttributes: searchAttributesFor(run.credential, input.trigger),
    });
    firstExecutionRunId = handle.firstExecutionRunId;
  } catch (error) {
    const conflict = error instanceof WorkflowExecutionAlreadyStartedError;
    // The row must not stay `pending` for ever when the start itself failed.
    run.status = conflict ? 'skipped' : 'failed';
    run.error = conflict
      ? 'another sync of this credential was already running'
      : 'the sync could not be started';
    run.finishedAt = new Date();
    await deps.em.flush();
    throw conflict ? new SyncConflictError(input.credentialId) : error;
  }
  // From here on the workflow runs: whatever fails below must not call the run failed. The
  // workflow's first activity records these same ids, so a failed write here loses nothing.
  run.workflowId = workflowId;
  run.runId = firstExecutionRunId;
  await deps.em.flush().catch(() => {});
  return { syncRunId: created.syncRunId, workflowId, runId: firstExecutionRunId };
}
