import { ScheduleNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SkippedRecord, SyncRun } from '../../../src/db/entities/index.js';
import { syncWorkflowId } from '../../../src/workflows/definitions.js';
import { scheduledSyncWorkflow } from '../../../src/workflows/index.js';
import { testInstallationId, truncateAll } from '../../support/integration.js';
import { type ApiHarness, createCompany, createCredential, startApiHarness } from './support/harness.js';

const SMALL = 4_300_001;

describe('syncs API', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness({
      worker: true,
      sandbox: {
        latencyMs: 25,
        pageSizes: { customers: 50, contacts: 50, invoices: 50 },
        tenants: [{ tenantId: SMALL, customers: 40, invoices: 40 }],
      },
    });
  });
  afterAll(async () => {
    h?.assertNoLeaks();
    await h?.close();
  });
  beforeEach(() => truncateAll(h.orm));

  async function credential(tenantId: number): Promise<number> {
    const companyId = await createCompany(h, `Company ${tenantId}`);
    const res = await createCredential(h, companyId, tenantId);
    expect(res.status).toBe(201);
    return res.body.id;
  }

  async function waitFor(id: number, done: (status: string) => boolean, ms = 30_000) {
    const until = Date.now() + ms;
    for (;;) {
      const res = await h.call('get', `/api/syncs/${id}`);
      if (done(res.body.status)) return res;
      if (Date.now() > until) throw new Error(`run ${id} stayed ${res.body.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('when a sync is started, then 202 returns the run, and once it ends the run has final counts and a Temporal UI link', async () => {
    const id = await credential(SMALL);
    const started = await h.call('post', `/api/credentials/${id}/syncs`, { body: { mode: 'full' } });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ credentialId: id, trigger: 'manual', mode: 'full' });
    expect(started.body.workflowId).toBe(syncWorkflowId(testInstallationId, id));

    const done = await waitFor(started.body.id, (s) => !['pending', 'running', 'paused'].includes(s));
    expect(done.body.status).toMatch(/^completed/);
    expect(done.body.totals.upserted).toBeGreaterThan(0);
    expect(done.body.progress).toBeNull();
    expect(done.body.temporalUrl).toBe(
      `http://temporal-ui.test:8233/namespaces/default/workflows/${syncWorkflowId(testInstallationId, id)}/${done.body.runId}`,
    );

    const list = await h.call('get', `/api/syncs?credentialId=${id}&status=${done.body.status}`);
    expect(list.body.items.map((r: { id: number }) => r.id)).toEqual([started.body.id]);
    const none = await h.call('get', '/api/syncs?from=2001-01-01&to=2001-01-02');
    expect(none.body.total).toBe(0);
  });

  it('when a sync runs, then a second start is 409, pause/resume/cancel signal it with live progress, and a finished run is 409', async () => {
    const id = await credential(SMALL);
    // The sandbox holds the run's requests: it stays in flight until the test lets it go.
    const hold = h.sandbox.hold({ tenantId: SMALL });
    try {
      const started = await h.call('post', `/api/credentials/${id}/syncs`, {
        body: {
          streams: ['customers', 'invoices'],
          mode: { from: '2020-01-01', to: '2026-01-01T00:00:00Z' },
        },
      });
      expect(started.status).toBe(202);
      const runId = started.body.id;
      await hold.reached();
      await waitFor(runId, (s) => s === 'running');

      const again = await h.call('post', `/api/credentials/${id}/syncs`, { body: {} });
      expect(again.status).toBe(409);
      expect(again.body.error).toBe('sync_in_progress');

      const live = await h.call('get', `/api/syncs/${runId}`);
      expect(live.body.progress).toMatchObject({ syncRunId: runId });

      expect((await h.call('post', `/api/syncs/${runId}/pause`)).status).toBe(200);
      const paused = await waitFor(runId, (s) => s === 'paused');
      expect(paused.body.progress?.paused).toBe(true);
      expect((await h.call('post', `/api/syncs/${runId}/resume`)).status).toBe(200);
      await waitFor(runId, (s) => s === 'running');
      expect((await h.call('post', `/api/syncs/${runId}/cancel`)).status).toBe(200);
      // The chunk in hand finishes first; then the run stops, cancelled.
      hold.release();
      const cancelled = await waitFor(runId, (s) => s === 'cancelled');
      expect(cancelled.body.finishedAt).not.toBeNull();

      const late = await h.call('post', `/api/syncs/${runId}/pause`);
      expect(late.status).toBe(409);
      expect(late.body.error).toBe('sync_not_running');
    } finally {
      hold.release();
    }
  });

  it('when a stale row still says running, then its signals do not reach the newer run of the same credential', async () => {
    const id = await credential(SMALL);
    const first = await h.call('post', `/api/credentials/${id}/syncs`, { body: {} });
    await waitFor(first.body.id, (s) => !['pending', 'running', 'paused'].includes(s));
    // A row left saying "running" (a restored database, a lost update): it must steer nothing.
    await h.orm.em
      .fork()
      .nativeUpdate(SyncRun, { id: first.body.id }, { status: 'running', finishedAt: null });

    const hold = h.sandbox.hold({ tenantId: SMALL });
    try {
      const second = await h.call('post', `/api/credentials/${id}/syncs`, { body: {} });
      expect(second.status).toBe(202);
      await hold.reached();
      await waitFor(second.body.id, (s) => s === 'running');

      for (const action of ['pause', 'cancel'] as const) {
        const stale = await h.call('post', `/api/syncs/${first.body.id}/${action}`);
        expect(stale.status).toBe(409);
        expect(stale.body.error).toBe('sync_not_running');
      }
      // Nor does the stale row show the newer run's progress as its own.
      expect((await h.call('get', `/api/syncs/${first.body.id}`)).body.progress).toBeNull();
      const live = await h.call('get', `/api/syncs/${second.body.id}`);
      expect(live.body.progress).toMatchObject({
        syncRunId: second.body.id,
        paused: false,
        cancelRequested: false,
      });

      // The newer run's own row still steers it.
      expect((await h.call('post', `/api/syncs/${second.body.id}/pause`)).status).toBe(200);
      await waitFor(second.body.id, (s) => s === 'paused');
      expect((await h.call('post', `/api/syncs/${second.body.id}/cancel`)).status).toBe(200);
      hold.release();
      await waitFor(second.body.id, (s) => s === 'cancelled');
    } finally {
      hold.release();
    }
  });

  it('when a credential with a running sync and a schedule is disabled, then the run is cancelled, the schedule removed, no sync starts again, and the answer says so', async () => {
    const id = await credential(SMALL);
    expect(
      (
        await h.call('put', `/api/credentials/${id}/schedule`, {
          body: { frequency: 'daily', hour: 3, minute: 0 },
        })
      ).status,
    ).toBe(200);
    const hold = h.sandbox.hold({ tenantId: SMALL });
    try {
      const started = await h.call('post', `/api/credentials/${id}/syncs`, { body: {} });
      await hold.reached();
      await waitFor(started.body.id, (s) => s === 'running');

      const disabled = await h.call('delete', `/api/credentials/${id}`);
      expect(disabled.status).toBe(200);
      expect(disabled.body).toMatchObject({
        status: 'disabled',
        cancelledSyncRunId: started.body.id,
        scheduleRemoved: true,
      });
      // Still held: the run ends because it was cancelled, not because its pages came.
      const cancelled = await waitFor(started.body.id, (s) => s === 'cancelled');
      expect(cancelled.body.totals.pages).toBe(0);
      expect((await h.call('get', `/api/credentials/${id}/schedule`)).status).toBe(404);
      // The visibility store may still list a schedule just deleted; Temporal itself must not have it.
      for await (const s of h.temporal.schedule.list()) {
        if (!s.scheduleId.endsWith(`-${id}`)) continue;
        await expect(h.temporal.schedule.getHandle(s.scheduleId).describe()).rejects.toThrow(
          ScheduleNotFoundError,
        );
      }

      const manual = await h.call('post', `/api/credentials/${id}/syncs`, { body: {} });
      expect(manual.status).toBe(409);
      expect(manual.body.error).toBe('sync_not_allowed');
      // What a schedule would start, had it fired in the meantime.
      const scheduled = await h.temporal.workflow.execute(scheduledSyncWorkflow, {
        taskQueue: h.taskQueue,
        workflowId: `scheduled-after-disable-${id}-${Date.now()}`,
        args: [{ credentialId: id, installationId: testInstallationId }],
      });
      expect(scheduled.status).toBe('skipped');

      const again = await h.call('delete', `/api/credentials/${id}`);
      expect(again.body).toMatchObject({ cancelledSyncRunId: null, scheduleRemoved: false });
    } finally {
      hold.release();
    }
  });

  it('when the events stream is read, then it sends progress while the run is active and a final end event', async () => {
    const id = await credential(SMALL);
    const started = await h.call('post', `/api/credentials/${id}/syncs`, { body: {} });
    const res = await h.call('get', `/api/syncs/${started.body.id}/events`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/event-stream/);
    const events = res.text
      .split('\n\n')
      .filter(Boolean)
      .map((block) =>
        JSON.parse(
          block
            .split('\n')
            .find((l) => l.startsWith('data: '))!
            .slice(6),
        ),
      );
    expect(events.at(-1).type).toBe('end');
    expect(events.at(-1).run.status).toMatch(/^completed/);
    expect(events.slice(0, -1).every((e) => e.type === 'progress')).toBe(true);
  });

  it('when a run has skipped records, then they are listed with paging; unknown runs are 404', async () => {
    const id = await credential(SMALL);
    const em = h.orm.em.fork();
    const run = em.create(SyncRun, {
      credential: id,
      trigger: 'manual',
      streams: ['customers'],
      mode: 'full',
      status: 'completed',
    });
    await em.flush();
    for (let i = 0; i < 3; i++)
      em.create(SkippedRecord, {
        syncRun: run.id,
        stream: 'customers',
        externalId: String(i),
        reason: 'no name',
        raw: { id: i },
      });
    await em.flush();
    const page = await h.call('get', `/api/syncs/${run.id}/skipped?pageSize=2&page=2`);
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ total: 3, page: 2, items: [{ externalId: '2', reason: 'no name' }] });
    expect((await h.call('get', '/api/syncs/9999')).status).toBe(404);
    expect((await h.call('get', '/api/syncs/9999/skipped')).status).toBe(404);
    expect((await h.call('post', '/api/syncs/9999/cancel')).status).toBe(404);
    expect((await h.call('post', '/api/credentials/9999/syncs', { body: {} })).status).toBe(404);
  });

  it('when a credential is disabled or the window is backwards, then a start is refused', async () => {
    const id = await credential(SMALL);
    const backwards = await h.call('post', `/api/credentials/${id}/syncs`, {
      body: { mode: { from: '2025-02-01', to: '2025-01-01' } },
    });
    expect(backwards.status).toBe(400);
    expect(backwards.body.message).toMatch(/from must be before to/);
    await h.call('delete', `/api/credentials/${id}`);
    const refused = await h.call('post', `/api/credentials/${id}/syncs`, { body: {} });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toBe('sync_not_allowed');
  });
});
