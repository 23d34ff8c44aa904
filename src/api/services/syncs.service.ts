import type { FilterQuery } from '@mikro-orm/postgresql';
import {
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
  WorkflowNotFoundError,
} from '@temporalio/client';
import type { Response } from 'express';
import type { z } from 'zod';
import { mayReadPersonalData } from '../../auth/index.js';
import { type ISyncRun, SkippedRecord, SyncRun, type SyncRunStatus } from '../../db/entities/index.js';
import { AppError } from '../../errors.js';
import { startSync } from '../../sync/start-sync.js';
import {
  cancelSyncSignal,
  pauseSyncSignal,
  resumeSyncSignal,
  type SyncMode,
  type SyncProgress,
  type SyncStreamName,
  syncProgressQuery,
} from '../../workflows/definitions.js';
import type { RouteContext } from '../route.js';
import type { skippedQuery, syncListQuery, syncStartSchema } from '../schemas.js';
import { companyFilter, iso, visibleCredential } from './scope.js';

export interface SyncServiceDeps {
  temporal: Client;
  taskQueue: string;
  /** This database's installation (src/db/installation.ts); scopes workflow ids. */
  installationId: string;
  /** Links runs to the Temporal Web UI when set. */
  temporalUi?: { url: string; namespace: string } | undefined;
  /** How often the events stream polls the workflow (default 1 s). */
  progressPollMs?: number;
}

const activeStatuses: readonly SyncRunStatus[] = ['pending', 'running', 'paused'];
const signals = { pause: pauseSyncSignal, resume: resumeSyncSignal, cancel: cancelSyncSignal } as const;

export function createSyncService(deps: SyncServiceDeps) {
  const pollMs = deps.progressPollMs ?? 1_000;

  function toView(run: ISyncRun, progress: SyncProgress | null) {
    const totals = { pages: 0, fetched: 0, upserted: 0, skipped: 0 };
    for (const c of Object.values(run.counts ?? {})) {
      totals.pages += c.pages ?? 0;
      totals.fetched += c.fetched ?? 0;
      totals.upserted += c.upserted ?? 0;
      totals.skipped += c.skipped ?? 0;
    }
    const ui = deps.temporalUi;
    return {
      id: run.id,
      credentialId: run.credential.id,
      companyId: run.credential.company.id,
      trigger: run.trigger,
      streams: run.streams,
      mode: run.mode,
      status: run.status,
      counts: run.counts ?? {},
      totals,
      warnings: run.warnings ?? [],
      flags: run.flags ?? null,
      source: run.source ?? null,
      error: run.error ?? null,
      workflowId: run.workflowId ?? null,
      runId: run.runId ?? null,
      createdAt: run.createdAt.toISOString(),
      startedAt: iso(run.startedAt),
      finishedAt: iso(run.finishedAt),
      progress,
      temporalUrl:
        ui && run.workflowId && run.runId
          ? `${ui.url.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(ui.namespace)}/workflows/${encodeURIComponent(run.workflowId)}/${encodeURIComponent(run.runId)}`
          : null,
    };
  }

  /** The workflow's own view of an active run; null when it cannot answer within 2 s. */
  async function liveProgress(run: ISyncRun): Promise<SyncProgress | null> {
    if (!activeStatuses.includes(run.status) || !run.workflowId) return null;
    try {
      const handle = deps.temporal.workflow.getHandle(run.workflowId);
      const progress = await deps.temporal.withDeadline(Date.now() + 2_000, () =>
        handle.query(syncProgressQuery),
      );
      // The workflow id is the credential's: a newer run may answer for a stale row.
      return progress.syncRunId === run.id ? progress : null;
    } catch {
      return null;
    }
  }

  /**
   * The execution the row's run is now in, or null when that run no longer runs. A row keeps its
   * first execution's run id; continue-as-new keeps the chain (same first run id), while a newer
   * run of the same credential is another chain, so a stale row never reaches it.
   */
  async function currentExecution(run: ISyncRun): Promise<WorkflowHandle | null> {
    if (!run.workflowId || !run.runId) return null;
    let description: WorkflowExecutionDescription;
    try {
      description = await deps.temporal.workflow.getHandle(run.workflowId).describe();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return null;
      throw error;
    }
    const firstRunId = description.raw.workflowExecutionInfo?.firstRunId || description.runId;
    if (description.status.name !== 'RUNNING' || firstRunId !== run.runId) return null;
    return deps.temporal.workflow.getHandle(run.workflowId, description.runId);
  }

  async function visibleRun(ctx: RouteContext, id: number): Promise<ISyncRun> {
    const run = await ctx.em.findOne(SyncRun, id, { populate: ['credential.company'] });
    if (!run) throw new AppError('not_found', `Sync run ${id} does not exist.`);
    if (ctx.principal.companyId !== null && run.credential.company.id !== ctx.principal.companyId)
      throw new AppError('not_found', `Sync run ${id} does not exist.`);
    ctx.audit.companyId = run.credential.company.id;
    return run;
  }

  async function signal(ctx: RouteContext, id: number, name: keyof typeof signals) {
    const run = await visibleRun(ctx, id);
    const notRunning = () =>
      new AppError('sync_not_running', `Sync run ${id} is ${run.status}, not running: nothing to ${name}.`, {
        status: run.status,
      });
    if (!activeStatuses.includes(run.status)) throw notRunning();
    // Bound to one execution: if it continues as new between the look-up and the signal, the
    // signal is refused and the next look-up finds the new execution of the same chain.
    for (let attempt = 1; ; attempt++) {
      const handle = await currentExecution(run);
      if (!handle) throw notRunning();
      try {
        await handle.signal(signals[name], { syncRunId: run.id });
        break;
      } catch (error) {
        if (!(error instanceof WorkflowNotFoundError) || attempt >= 3) {
          if (error instanceof WorkflowNotFoundError) throw notRunning();
          throw error;
        }
      }
    }
    await ctx.em.refresh(run);
    return toView(run, await liveProgress(run));
  }

  return {
    async start(ctx: RouteContext, credentialId: number, input: z.output<typeof syncStartSchema>) {
      await visibleCredential(ctx, credentialId);
      const started = await startSync(
        {
          em: ctx.em,
          temporal: deps.temporal,
          taskQueue: deps.taskQueue,
          installationId: deps.installationId,
        },
        {
          credentialId,
          trigger: 'manual',
          ...(input.mode ? { mode: input.mode as SyncMode } : {}),
          ...(input.streams ? { streams: input.streams as SyncStreamName[] } : {}),
        },
      );
      ctx.audit.targetId = started.syncRunId;
      const run = await ctx.em.findOneOrFail(SyncRun, started.syncRunId, {
        populate: ['credential.company'],
      });
      return toView(run, null);
    },

    async list(ctx: RouteContext, query: z.output<typeof syncListQuery>) {
      const companyId = companyFilter(ctx, query.companyId);
      if (companyId === null) return { items: [], page: query.page, pageSize: query.pageSize, total: 0 };
      const where: FilterQuery<ISyncRun> = {};
      if (companyId !== undefined) where.credential = { company: companyId };
      if (query.credentialId !== undefined)
        where.credential = { ...(where.credential as object), id: query.credentialId };
      if (query.status) where.status = query.status;
      if (query.from || query.to)
        where.createdAt = {
          ...(query.from ? { $gte: new Date(query.from) } : {}),
          ...(query.to ? { $lt: new Date(query.to) } : {}),
        };
      const [rows, total] = await ctx.em.findAndCount(SyncRun, where, {
        populate: ['credential.company'],
        orderBy: { id: 'desc' },
        limit: query.pageSize,
        offset: (query.page - 1) * query.pageSize,
      });
      return { items: rows.map((r) => toView(r, null)), page: query.page, pageSize: query.pageSize, total };
    },

    async get(ctx: RouteContext, id: number) {
      const run = await visibleRun(ctx, id);
      return toView(run, await liveProgress(run));
    },

    pause: (ctx: RouteContext, id: number) => signal(ctx, id, 'pause'),
    resume: (ctx: RouteContext, id: number) => signal(ctx, id, 'resume'),
    cancel: (ctx: RouteContext, id: number) => signal(ctx, id, 'cancel'),

    /** Reasons for every role; the raw payloads (personal data) only for operators and admins. */
    async skipped(ctx: RouteContext, id: number, query: z.output<typeof skippedQuery>) {
      await visibleRun(ctx, id);
      const withPayloads = mayReadPersonalData(ctx.principal);
      const [rows, total] = await ctx.em.findAndCount(
        SkippedRecord,
        { syncRun: id },
        { orderBy: { id: 'asc' }, limit: query.pageSize, offset: (query.page - 1) * query.pageSize },
      );
      return {
        items: rows.map((r) => ({
          id: String(r.id),
          stream: r.stream,
          externalId: r.externalId ?? null,
          reason: r.reason,
          raw: withPayloads ? (r.raw ?? null) : null,
          rawWithheld: !withPayloads && r.raw != null,
          createdAt: r.createdAt.toISOString(),
        })),
        page: query.page,
        pageSize: query.pageSize,
        total,
      };
    },

    /**
     * Server-sent events: the run with live progress about every second while it is active,
     * then one `end` event with the final row, then the stream closes.
     */
    async events(ctx: RouteContext, id: number, res: Response) {
      const first = await visibleRun(ctx, id);
      res.status(200);
      res.setHeader('content-type', 'text/event-stream; charset=utf-8');
      res.setHeader('cache-control', 'no-cache, no-transform');
      res.setHeader('x-accel-buffering', 'no');
      res.flushHeaders();
      const send = (type: 'progress' | 'end', run: ISyncRun, progress: SyncProgress | null) =>
        res.write(`event: ${type}\ndata: ${JSON.stringify({ type, run: toView(run, progress) })}\n\n`);
      let run = first;
      while (!ctx.signal.aborted) {
        if (!activeStatuses.includes(run.status)) {
          send('end', run, null);
          break;
        }
        send('progress', run, await liveProgress(run));
        await new Promise((resolve) => setTimeout(resolve, pollMs));
        if (ctx.signal.aborted) break;
        const em = ctx.em.fork();
        run = await em.findOneOrFail(SyncRun, id, { populate: ['credential.company'] });
      }
      res.end();
    },
  };
}
