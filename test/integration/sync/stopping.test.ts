import { CancelledFailure, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ServiceTitanCredential, SyncRun } from '../../../src/db/entities/index.js';
import { startSync } from '../../../src/sync/start-sync.js';
import { pauseSyncSignal, syncProgressQuery } from '../../../src/workflows/definitions.js';
import type { syncTenantWorkflow } from '../../../src/workflows/index.js';
import { createCompanyWithCredential } from '../../support/fixtures.js';
import { startTestWorker, testInstallationId, truncateAll, uniqueId } from '../../support/integration.js';
import { useSyncHarness } from '../../support/sync-harness.js';

const TENANT = 4_400_001;

describe('every way to stop a run ends it cleanly', () => {
  // One page per chunk, ten pages per stream: a released run takes one more page per stream, no more.
  const h = useSyncHarness(
    {
      rateLimitPerSecond: 0,
      pageSizes: { customers: 10, contacts: 10, invoices: 10 },
      tenants: [{ tenantId: TENANT, customers: 100, invoices: 100 }],
    },
    { chunkMs: 1 },
  );
  beforeEach(() => truncateAll(h.orm));

  const tenant = () => h.sandbox.tenants[0]!;

  async function row(syncRunId: number) {
    return h.orm.em.fork().findOneOrFail(SyncRun, syncRunId);
  }

  async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function start(credentialId: number, taskQueue = h.worker.taskQueue) {
    const started = await startSync(
      { em: h.orm.em.fork(), temporal: h.temporal.client, taskQueue, installationId: testInstallationId },
      { credentialId, trigger: 'manual', mode: 'full' },
    );
    const handle: WorkflowHandle<typeof syncTenantWorkflow> = h.temporal.client.workflow.getHandle(
      started.workflowId,
      undefined,
      { firstExecutionRunId: started.runId },
    );
    return { started, handle };
  }

  /** Ends cancelled as Temporal sees it, with no workflow task that failed on the way. */
  async function expectCancelledCleanly(handle: WorkflowHandle) {
    const failure = await handle.result().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.filter((e) => e.workflowTaskFailedEventAttributes)).toEqual([]);
    expect(events.at(-1)?.workflowExecutionCanceledEventAttributes).toBeTruthy();
  }

  it('when the workflow is cancelled through Temporal while a page is in flight, then it ends Canceled and its row says cancelled', async () => {
    const { credentialId } = await createCompanyWithCredential(h.orm, tenant());
    const hold = h.sandbox.hold({ tenantId: TENANT });
    try {
      const { started, handle } = await start(credentialId);
      await hold.reached();
      await waitFor('row running', async () =>
        (await row(started.syncRunId)).status === 'running' ? true : undefined,
      );

      await handle.cancel();
      await expectCancelledCleanly(handle);
      const run = await row(started.syncRunId);
      expect(run.status).toBe('cancelled');
      expect(run.finishedAt).toBeInstanceOf(Date);
      expect(Object.values(run.counts).reduce((n, c) => n + c.pages, 0)).toBe(0);
    } finally {
      hold.release();
    }
  });

  it('when the workflow is cancelled through Temporal while paused, then it ends Canceled and its row says cancelled', async () => {
    const { credentialId } = await createCompanyWithCredential(h.orm, tenant());
    const hold = h.sandbox.hold({ tenantId: TENANT });
    let released = false;
    try {
      const { started, handle } = await start(credentialId);
      await hold.reached();
      await handle.signal(pauseSyncSignal);
      await waitFor('row paused', async () =>
        (await row(started.syncRunId)).status === 'paused' ? true : undefined,
      );
      hold.release();
      released = true;
      // Each stream finishes its page in hand and then waits: nothing runs but the pause.
      const progress = await waitFor('every stream paused', async () => {
        const p = await handle.query(syncProgressQuery);
        return Object.values(p.streams).every((s) => s.state === 'paused') ? p : undefined;
      });
      expect(progress.paused).toBe(true);

      await handle.cancel();
      await expectCancelledCleanly(handle);
      const run = await row(started.syncRunId);
      expect(run.status).toBe('cancelled');
      expect(run.finishedAt).toBeInstanceOf(Date);
    } finally {
      if (!released) hold.release();
    }
  });

  it('when the row cannot be updated after the workflow started, then the run is not called failed and ends completed', async () => {
    const { credentialId } = await createCompanyWithCredential(h.orm, tenant());
    const hold = h.sandbox.hold({ tenantId: TENANT });
    try {
      const em = h.orm.em.fork();
      const flush = em.flush.bind(em);
      let flushes = 0;
      // The first flush makes the run row; the second (after workflow.start) fails.
      vi.spyOn(em, 'flush').mockImplementation(async () => {
        flushes += 1;
        if (flushes === 2) throw new Error('connection terminated unexpectedly');
        return flush();
      });
      const started = await startSync(
        {
          em,
          temporal: h.temporal.client,
          taskQueue: h.worker.taskQueue,
          installationId: testInstallationId,
        },
        { credentialId, trigger: 'manual', mode: 'full' },
      );
      await hold.reached();
      const during = await row(started.syncRunId);
      expect(during.status).not.toBe('failed');
      expect(during.finishedAt ?? null).toBeNull();
      hold.release();

      const result = await h.temporal.client.workflow.getHandle(started.workflowId).result();
      expect(result.status).toBe('completed');
      const run = await row(started.syncRunId);
      expect(run.status).toBe('completed');
      expect(run.runId).toBe(started.runId);
    } finally {
      hold.release();
    }
  });

  it('when the credential is disabled between the run row and its workflow start, then the run stops before any request', async () => {
    const { credentialId } = await createCompanyWithCredential(h.orm, tenant());
    // No worker on this queue yet: the run is made and its workflow waits to start.
    const taskQueue = uniqueId('late');
    const { started } = await start(credentialId, taskQueue);
    await h.orm.em
      .fork()
      .nativeUpdate(ServiceTitanCredential, { id: credentialId }, { disabledAt: new Date() });
    const requests = h.sandbox.stats().requests;
    const worker = await startTestWorker(h.orm, {
      serviceTitan: { appKey: h.sandbox.appKey, url: h.sandbox.url },
      taskQueue,
    });
    try {
      const result = await h.temporal.client.workflow.getHandle(started.workflowId).result();
      expect(result.status).toBe('cancelled');
      expect(result.warnings.join(' ')).toMatch(/disabled/);
      expect((await row(started.syncRunId)).status).toBe('cancelled');
      expect(h.sandbox.stats().requests).toBe(requests);
    } finally {
      await worker.stop();
    }
  });
});
