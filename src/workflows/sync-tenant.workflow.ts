import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { ChunkStart } from '../activities/sync-stream.activities.js';
import {
  cancelSyncSignal,
  type FullLoadPlan,
  openWindowEnd,
  pauseSyncSignal,
  resumeSyncSignal,
  type StreamProgress,
  type SyncProgress,
  type SyncSignalTarget,
  type SyncStreamName,
  type SyncTenantInput,
  type SyncTenantResult,
  splitWindow,
  syncProgressQuery,
} from './definitions.js';

const runs = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', backoffCoefficient: 2 },
});

/**
 * Steps the run can go on without: a few attempts, then the run falls back (planning: the streams
 * read in one piece; the early member derivation: the finish derives them). Planning sends a few
 * dozen requests through the tenant's rate budget, retried by the client on 429/5xx; the
 * derivation runs beside the other streams' writes, on a machine they keep busy.
 */
const fewAttempts = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '30 seconds',
    backoffCoefficient: 2,
    maximumAttempts: 3,
  },
});

const chunks = proxyActivities<Activities>({
  // A failed run waits for its other chunks to stop before it records its totals.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  // A chunk pulls pages for ~30 s; the rest is room for slow pages and the last commit.
  startToCloseTimeout: '10 minutes',
  // The chunk heartbeats every 5 s; a worker that dies is noticed within 20 s.
  heartbeatTimeout: '20 seconds',
  retry: {
    initialInterval: '2 seconds',
    maximumInterval: '2 minutes',
    backoffCoefficient: 2,
    maximumAttempts: 25,
    nonRetryableErrorTypes: ['servicetitan_invalid_credentials', 'servicetitan_app_not_approved'],
  },
});

function newProgress(): StreamProgress {
  return { state: 'pending', pages: 0, fetched: 0, upserted: 0, skipped: 0, position: null, chunks: 0 };
}

function failureMessage(error: unknown): string {
  let e: unknown = error;
  while (e instanceof ActivityFailure && e.cause) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}

/**
 * One sync of one ServiceTitan credential. Each stream is a loop of chunk activities that
 * return counts and positions only; streams run concurrently and share the tenant's rate budget
 * in the worker. Signals pause, resume or cancel (the chunk in hand finishes first).
 */
export async function syncTenantWorkflow(input: SyncTenantInput): Promise<SyncTenantResult> {
  let paused = input.carriedControl?.paused ?? false;
  let cancelRequested = input.carriedControl?.cancelRequested ?? false;
  const warnings: string[] = [...(input.carriedControl?.warnings ?? [])];
  const progress: Record<string, StreamProgress> = {};
  for (const stream of input.streams) progress[stream] = input.carried?.[stream] ?? newProgress();

  // A signal naming another run (a stale row's) never steers this one.
  const forThisRun = (target?: SyncSignalTarget) =>
    target?.syncRunId === undefined || target.syncRunId === input.syncRunId;
  setHandler(pauseSyncSignal, (target) => {
    if (forThisRun(target)) paused = true;
  });
  setHandler(resumeSyncSignal, (target) => {
    if (forThisRun(target)) paused = false;
  });
  setHandler(cancelSyncSignal, (target) => {
    if (forThisRun(target)) cancelRequested = true;
  });
  setHandler(
    syncProgressQuery,
    (): SyncProgress => ({ syncRunId: input.syncRunId, paused, cancelRequested, streams: progress }),
  );

  let membersDerived = input.carriedControl?.membersDerived ?? false;
  let continueSuggested = false;
  const stop = () => cancelRequested || continueSuggested;
  /** Windows read to their end: a continued run does not read them again. */
  const windowsDone = new Set(input.carriedWindowsDone ?? []);
  let plan: FullLoadPlan | undefined = input.carriedPlan;

  /**
   * Each stream's chunks in flight and loops held by a pause. A stream's windows stop one by one
   * (each finishes the chunk in hand), so the stream reads as paused only once none is fetching.
   */
  const activity: Record<string, { inFlight: number; held: number }> = {};
  for (const stream of input.streams) activity[stream] = { inFlight: 0, held: 0 };

  /** Runs chunks from `start` until done, a stop is requested, or the history grows long. */
  async function runChunks(
    stream: SyncStreamName,
    positionKey: string,
    start: ChunkStart,
    highWaterMark?: string,
  ): Promise<boolean> {
    const p = progress[stream]!;
    const a = activity[stream]!;
    for (;;) {
      if (paused) {
        a.held += 1;
        if (a.inFlight === 0) p.state = 'paused';
        await condition(() => !paused || cancelRequested);
        a.held -= 1;
      }
      if (stop()) return false;
      p.state = 'running';
      a.inFlight += 1;
      const result = await chunks
        .syncStreamChunk({
          syncRunId: input.syncRunId,
          credentialId: input.credentialId,
          stream,
          positionKey,
          start,
          ...(highWaterMark ? { highWaterMark } : {}),
        })
        .finally(() => {
          a.inFlight -= 1;
          // The last chunk in flight has stopped while the stream's other loops wait out the pause.
          if (paused && a.inFlight === 0 && a.held > 0 && p.state === 'running') p.state = 'paused';
        });
      Object.assign(p, result.counts);
      p.position = result.position;
      // ISO instants of one format: later sorts higher.
      if (result.newestModifiedOn && !(p.newestModifiedOn && p.newestModifiedOn >= result.newestModifiedOn))
        p.newestModifiedOn = result.newestModifiedOn;
      p.chunks += 1;
      if (result.warning) {
        warnings.push(`${stream}: ${result.warning}`);
        p.state = 'skipped';
        return true;
      }
      if (result.done) {
        if (start.kind === 'window') windowsDone.add(positionKey);
        return true;
      }
      if (workflowInfo().continueAsNewSuggested) continueSuggested = true;
    }
  }

  /** Reads `start` under `positionKey` unless an earlier execution of this run read it to its end. */
  const runWindow = (stream: SyncStreamName, positionKey: string, start: ChunkStart) =>
    windowsDone.has(positionKey) ? Promise.resolve(true) : runChunks(stream, positionKey, start);

  /**
   * A full load split at `boundaries` t_1 < … < t_{n-1} (modifiedOn): windows [beginning, t_1),
   * [t_1, t_2), … read at once, each from the export feed started at its first instant until a
   * page lies wholly past its end, and the last, [t_{n-1}, …), read to the feed's end. Only then
   * does an export chunk take over the last window's position: it commits the stream's cursor, so
   * the cursor moves only once every window is stored, and a run that fails part-way leaves it
   * where it was (the next sync reads again rather than skipping what a window had left).
   *
   * Nothing is skipped. A record left untouched during the run lies in one window's range at one
   * feed position, and that window reads it (a window reads its whole range: the feed is ordered
   * by modifiedOn, ties straddling pages, so a page wholly past the end closes it). A record
   * changed during the run moves to the feed's end with a modifiedOn no earlier than the change,
   * hence past t_{n-1} (no boundary is later than the newest modifiedOn at planning time:
   * src/sync/full-load-plan.ts); the last window does not filter by date and reads on to the
   * feed's end, and the export chunk that follows reads from where it stopped, so the change is
   * read by one of them or, made after the export chunk caught up, by the next incremental sync
   * from the cursor it committed. Its earlier version, if a window read it first, is overwritten
   * (the upsert keeps the newer modifiedOn).
   */
  async function runWindowedLoad(stream: SyncStreamName, boundaries: string[]): Promise<boolean> {
    const p = progress[stream]!;
    const key = (i: number) => `${stream}#${i}`;
    // '' reads the export feed from its beginning: the first window needs no oldest date.
    const starts = ['', ...boundaries];
    const read = await Promise.all(
      starts.map((from, i) =>
        runWindow(stream, key(i), { kind: 'window', from, to: boundaries[i] ?? openWindowEnd }),
      ),
    );
    if (!read.every(Boolean)) return false;
    if ((p.state as string) === 'skipped') return true;
    return runChunks(
      stream,
      key(boundaries.length),
      { kind: 'export', from: 'beginning' },
      p.newestModifiedOn,
    );
  }

  async function runStream(stream: SyncStreamName): Promise<void> {
    const p = progress[stream]!;
    if (p.state === 'done' || p.state === 'skipped') return;
    p.state = 'running';
    const mode = input.mode;
    let finished: boolean;
    if (typeof mode === 'object') {
      const windows = splitWindow(mode.from, mode.to, input.windowConcurrency ?? 4);
      const results = await Promise.all(
        windows.map((w, i) =>
          runWindow(stream, `${stream}#${i}`, { kind: 'window', from: w.from, to: w.to }),
        ),
      );
      finished = results.every(Boolean);
    } else if (mode === 'full' && plan?.streams[stream]?.boundaries.length) {
      finished = await runWindowedLoad(stream, plan.streams[stream].boundaries);
    } else {
      finished = await runChunks(stream, stream, {
        kind: 'export',
        from: mode === 'full' ? 'beginning' : 'stored-cursor',
      });
    }
    if (finished && (p.state as string) !== 'skipped') p.state = 'done';
    else if (!finished && cancelRequested) p.state = 'cancelled';
  }

  /**
   * Members' email and phone come from their contacts (finishSyncRun derives them otherwise). Once
   * both streams are stored while another (invoices, the longest as a rule) still reads, they are
   * derived at once, so the finishing step does not wait for it. Settles, never rejects.
   */
  async function deriveMembersEarly(running: Map<SyncStreamName, Promise<void>>): Promise<void> {
    const customers = running.get('customers');
    const contacts = running.get('customerContacts');
    if (!customers || !contacts || membersDerived || !patched('members-derived-early')) return;
    const stored = (s: SyncStreamName) => ['done', 'skipped'].includes(progress[s]!.state);
    try {
      await Promise.all([customers, contacts]);
    } catch {
      return;
    }
    if (stop() || !stored('customers') || !stored('customerContacts') || input.streams.every(stored)) return;
    try {
      await fewAttempts.deriveRunMemberContacts(input.syncRunId);
      membersDerived = true;
    } catch (e) {
      if (!isCancellation(e))
        log.warn('members not derived early: the finish derives them', { error: failureMessage(e) });
    }
  }
  let derivation: Promise<void> = Promise.resolve();

  let status: SyncTenantResult['status'] | undefined;
  let error: string | undefined;
  let cancellation: unknown;
  let streamsDone = false;
  let reportPauses: Promise<void> = Promise.resolve();
  try {
    // A run whose credential was disabled before its workflow started does nothing.
    const started = input.carried ? true : await runs.markSyncRunStarted(input.syncRunId);
    if (started === false) {
      status = 'cancelled';
      warnings.push('the credential was disabled before the run started');
    } else {
      // The run row follows pause/resume, so the database shows a paused run as paused. Outside
      // the cancellable scope: a workflow cancellation must not reject this loop's wait (left
      // unobserved, that rejection fails the workflow task again and again); it ends with the streams.
      reportPauses = CancellationScope.nonCancellable(async () => {
        let reported = false;
        for (;;) {
          await condition(() => paused !== reported || streamsDone);
          if (streamsDone) return;
          reported = paused;
          await runs.markSyncRunPaused(input.syncRunId, reported);
        }
      });
      // A full load plans its windows once; a continued execution carries the plan (a run begun
      // before windows existed has no plan and carries on reading its feed in one piece).
      if (input.mode === 'full' && !input.carried && patched('full-load-windows')) {
        plan = await fewAttempts
          .planFullLoad({ credentialId: input.credentialId, streams: input.streams })
          .catch((e: unknown) => {
            if (isCancellation(e)) throw e;
            log.warn('full load planning failed: streams read in one piece', { error: failureMessage(e) });
            return undefined;
          });
      }
      // On a failure, the other streams' chunks in flight are cancelled rather than left running,
      // and the run waits until every one has stopped: it then records final totals, and does not
      // complete while a chunk's cancellation is still on its way (the server would refuse that
      // completion, a failed workflow task).
      const streamsScope = new CancellationScope();
      const settled = await streamsScope.run(() => {
        const running = new Map(
          input.streams.map((s) => [
            s,
            runStream(s).catch((e) => {
              streamsScope.cancel();
              throw e;
            }),
          ]),
        );
        derivation = deriveMembersEarly(running);
        return Promise.allSettled(running.values());
      });
      const rejected = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      // The stream that failed, rather than the others it had cancelled.
      const first = rejected.find((e) => !isCancellation(e)) ?? rejected[0];
      if (first !== undefined) throw first;
    }
  } catch (e) {
    if (isCancellation(e)) {
      // Cancelled from Temporal itself (Web UI, CLI, handle.cancel(), a disabled credential).
      status = 'cancelled';
      cancellation = e;
      for (const s of input.streams)
        if (!['done', 'skipped'].includes(progress[s]!.state)) progress[s]!.state = 'cancelled';
    } else {
      status = 'failed';
      error = failureMessage(e);
      for (const s of input.streams) if (progress[s]!.state === 'running') progress[s]!.state = 'failed';
    }
  } finally {
    streamsDone = true;
  }
  await reportPauses.catch((e) => log.warn('pause reporting stopped', { error: failureMessage(e) }));
  await derivation;

  if (
    status === undefined &&
    !cancelRequested &&
    continueSuggested &&
    input.streams.some((s) => !['done', 'skipped'].includes(progress[s]!.state))
  ) {
    log.info('continuing as new', { syncRunId: input.syncRunId });
    return await continueAsNew<typeof syncTenantWorkflow>({
      ...input,
      carried: progress,
      carriedControl: { paused, cancelRequested, warnings, ...(membersDerived ? { membersDerived } : {}) },
      ...(plan ? { carriedPlan: plan } : {}),
      ...(windowsDone.size > 0 ? { carriedWindowsDone: [...windowsDone] } : {}),
    });
  }
  status ??= cancelRequested ? 'cancelled' : warnings.length ? 'completed_with_warnings' : 'completed';

  // Runs even when the workflow itself is being cancelled: the row must say how it ended.
  await CancellationScope.nonCancellable(() =>
    runs.finishSyncRun({
      syncRunId: input.syncRunId,
      status,
      error: error ?? null,
      warnings,
      ...(membersDerived ? { membersDerived } : {}),
    }),
  );
  // Temporal then shows the execution as Canceled, as the one who cancelled it expects.
  if (cancellation) throw cancellation;
  if (status === 'failed') throw ApplicationFailure.nonRetryable(error ?? 'sync failed', 'SyncFailed');
  return { syncRunId: input.syncRunId, status, warnings, ...(error ? { error } : {}) };
}
