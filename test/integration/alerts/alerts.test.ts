import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { ensureFreshnessSchedule } from '../../../src/alerts/freshness-schedule.js';
import type { AlertPolicy } from '../../../src/alerts/policy.js';
import type { EventType } from '../../../src/notifications/events.js';
import { scheduleId, syncWorkflowId } from '../../../src/workflows/definitions.js';
import { scheduledSyncWorkflow } from '../../../src/workflows/index.js';
import { testInstallationId, testLogger, truncateAll, uniqueId } from '../../support/integration.js';
import { type ApiHarness, createCompany, createCredential, startApiHarness } from '../api/support/harness.js';

const PUBLIC_URL = 'https://console.example.test';
const policy: AlertPolicy = {
  autoPauseAfterFailures: 3,
  fullRunMinPercent: 50,
  skippedPercent: 1,
  quietIncrementalRuns: 2,
  freshnessGraceMinutes: 60,
  freshnessCheckMinutes: 15,
  publicUrl: PUBLIC_URL,
};

// One tenant per test: the sandbox's own state (a rotated secret, lost records) outlives a test.
const T = {
  succeeds: 7_100_001,
  rotated: 7_100_002,
  failing: 7_100_003,
  shrinking: 7_100_004,
  corrupt: 7_100_005,
  quiet: 7_100_006,
  stale: 7_100_007,
  unlicensed: 7_100_008,
};

interface OutboxRow {
  id: number;
  type: EventType;
  company_id: number;
  payload: Record<string, unknown> & { message: string };
}

describe('alerts: what runs, credentials and schedules announce', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness({
      worker: true,
      alerts: policy,
      api: { publicUrl: PUBLIC_URL },
      sandbox: {
        tenants: Object.values(T).map((tenantId) => ({
          tenantId,
          customers: 120,
          invoices: 150,
          ...(tenantId === T.unlicensed ? { licensed: { accounting: false } } : {}),
        })),
      },
    });
  });
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(() => truncateAll(h.orm));

  async function outbox(type?: EventType): Promise<OutboxRow[]> {
    const rows = await h.orm.em
      .fork()
      .getConnection()
      .execute<OutboxRow[]>(
        `select id, type, company_id, payload from outbox_events ${type ? 'where type = ?' : ''} order by id`,
        type ? [type] : [],
      );
    return rows.map((r) => ({ ...r, id: Number(r.id) }));
  }

  /** No payload carries a secret, a token, or the client id. */
  async function expectNoSecretsInOutbox(): Promise<void> {
    const text = JSON.stringify(await outbox());
    for (const secret of h.watched) expect(text.includes(secret), 'an event holds a secret').toBe(false);
    for (const t of h.sandbox.tenants) expect(text).not.toContain(t.clientId);
    expect(text).not.toMatch(/access_token|Bearer /i);
  }

  async function connect(tenantId: number, name = `Company ${tenantId}`) {
    const companyId = await createCompany(h, name);
    const res = await createCredential(h, companyId, tenantId, { test: true });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('connected');
    return { companyId, credentialId: res.body.id as number };
  }

  /** Starts a run through the API and waits for its end; the run as the API shows it. */
  async function sync(credentialId: number, mode: 'full' | 'incremental' = 'full') {
    const started = await h.call('post', `/api/credentials/${credentialId}/syncs`, { body: { mode } });
    expect(started.status).toBe(202);
    await h.temporal.workflow
      .getHandle(syncWorkflowId(testInstallationId, credentialId))
      .result()
      .catch(() => undefined);
    const run = await h.call('get', `/api/syncs/${started.body.id}`);
    return run.body as { id: number; status: string; error: string | null; totals: { fetched: number } };
  }

  function rotate(tenantId: number): string {
    const secret = h.sandbox.rotateClientSecret(tenantId);
    h.watched.add(secret);
    return secret;
  }

  it('when a run succeeds, then sync.succeeded carries its counts, trigger, mode, duration and link, beside company_data.updated', async () => {
    const { companyId, credentialId } = await connect(T.succeeds, 'Acme Succeeds');
    const run = await sync(credentialId, 'full');
    expect(run.status).toBe('completed');

    const events = await outbox();
    expect(events.map((e) => e.type)).toEqual(['company_data.updated', 'sync.succeeded']);
    const [downstream, succeeded] = events;
    expect(downstream!.payload).toMatchObject({
      syncRunId: run.id,
      environment: 'integration',
      status: 'completed',
    });
    expect(succeeded!.company_id).toBe(companyId);
    expect(succeeded!.payload).toMatchObject({
      companyId,
      companyName: 'Acme Succeeds',
      credentialId,
      environment: 'integration',
      tenantId: String(T.succeeds),
      syncRunId: run.id,
      link: `${PUBLIC_URL}/runs/${run.id}`,
      status: 'completed',
      trigger: 'manual',
      mode: 'full',
      totals: { fetched: run.totals.fetched },
    });
    expect(run.totals.fetched).toBeGreaterThan(0);
    expect(succeeded!.payload.durationSeconds).toEqual(expect.any(Number));
    expect(succeeded!.payload.message).toContain(`${run.totals.fetched} records fetched`);
    await expectNoSecretsInOutbox();
  });

  it('when a run completes with warnings, then sync.completed_with_warnings carries them and says what to check', async () => {
    const { credentialId } = await connect(T.unlicensed);
    const run = await sync(credentialId, 'full');
    expect(run.status).toBe('completed_with_warnings');
    const events = await outbox();
    expect(events.map((e) => e.type)).toEqual(['company_data.updated', 'sync.completed_with_warnings']);
    expect(events[1]!.payload).toMatchObject({
      syncRunId: run.id,
      status: 'completed_with_warnings',
      warnings: [expect.stringMatching(/^invoices: .*not licensed/)],
    });
    expect(events[1]!.payload.message).toMatch(/completed with warnings \(invoices: .*not licensed/);
  });

  it('when the tenant rotates its client secret, then the sync fails with sync.failed and credential.status_changed (no secret in them), and scheduled runs skip without calling ServiceTitan until a test succeeds', async () => {
    const { companyId, credentialId } = await connect(T.rotated, 'Acme Rotated');
    const original = h.sandbox.tenants.find((t) => t.tenantId === T.rotated)!.clientSecret;
    rotate(T.rotated);

    const run = await sync(credentialId, 'incremental');
    expect(run.status).toBe('failed');

    const changed = await outbox('credential.status_changed');
    expect(changed).toHaveLength(1);
    expect(changed[0]!.payload).toMatchObject({
      companyId,
      companyName: 'Acme Rotated',
      credentialId,
      tenantId: String(T.rotated),
      from: 'connected',
      to: 'invalid_credentials',
      link: `${PUBLIC_URL}/credentials/${credentialId}`,
    });
    expect(changed[0]!.payload.message).toMatch(/test the connection/);
    const failed = await outbox('sync.failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.payload).toMatchObject({
      syncRunId: run.id,
      credentialId,
      status: 'failed',
      trigger: 'manual',
      mode: 'incremental',
      error: run.error,
    });
    expect(run.error).toBeTruthy();
    expect(failed[0]!.payload.message).toContain(run.error!);
    expect(failed[0]!.payload.message).toMatch(/Update the client secret/);
    // The status change is written before the run's end, which reports it.
    expect(changed[0]!.id).toBeLessThan(failed[0]!.id);

    // A scheduled run now skips, before any request to ServiceTitan.
    const before = h.sandbox.stats();
    const skipId = uniqueId('scheduled-after-auth-failure');
    const skipped = await h.temporal.workflow.execute(scheduledSyncWorkflow, {
      workflowId: skipId,
      taskQueue: h.taskQueue,
      args: [{ installationId: testInstallationId, credentialId }],
    });
    expect(skipped).toMatchObject({
      status: 'skipped',
      reason: expect.stringMatching(/invalid_credentials/),
    });
    expect(h.sandbox.stats().requests).toBe(before.requests);
    expect(h.sandbox.stats().tokenRequests).toBe(before.tokenRequests);
    const skippedRun = await h.call('get', `/api/syncs/${(skipped as { syncRunId: number }).syncRunId}`);
    expect(skippedRun.body).toMatchObject({ status: 'skipped', trigger: 'schedule' });
    expect(skippedRun.body.error).toMatch(/test the connection/);

    // The tenant's administrator puts the old secret back; a connection test finds it working,
    // which is announced, and scheduled runs go on.
    h.sandbox.rotateClientSecret(T.rotated, original);
    const test = await h.call('post', `/api/credentials/${credentialId}/test`);
    expect(test.body.status).toBe('connected');
    const again = await outbox('credential.status_changed');
    expect(again.map((e) => [e.payload.from, e.payload.to])).toEqual([
      ['connected', 'invalid_credentials'],
      ['invalid_credentials', 'connected'],
    ]);
    expect(again[1]!.payload.message).toMatch(/works again/);
    const resumedId = uniqueId('scheduled-after-test');
    const resumed = await h.temporal.workflow.execute(scheduledSyncWorkflow, {
      workflowId: resumedId,
      taskQueue: h.taskQueue,
      args: [{ installationId: testInstallationId, credentialId }],
    });
    expect(resumed).toMatchObject({ status: 'completed' });
    // Both paths of the scheduled workflow replay without non-determinism.
    for (const id of [skipId, resumedId])
      await Worker.runReplayHistory(
        { workflowBundle: { codePath: inject('workflowBundlePath') } },
        await h.temporal.workflow.getHandle(id).fetchHistory(),
        id,
      );
    await expectNoSecretsInOutbox();
    h.assertNoLeaks();
  });

  it('when three runs fail in a row, then the schedule is paused (in Temporal too) with schedule.auto_paused, the dashboard says why, and a resume starts the count afresh', async () => {
    const { companyId, credentialId } = await connect(T.failing, 'Acme Failing');
    const put = await h.call('put', `/api/credentials/${credentialId}/schedule`, {
      body: { frequency: 'daily', hour: 3, minute: 0 },
    });
    expect(put.status).toBe(200);
    rotate(T.failing);

    for (let i = 1; i <= 2; i++) expect((await sync(credentialId, 'incremental')).status).toBe('failed');
    expect(await outbox('schedule.auto_paused')).toEqual([]);
    let dashboard = await h.call('get', '/api/dashboard');
    let row = dashboard.body.credentials.find(
      (c: { credentialId: number }) => c.credentialId === credentialId,
    );
    expect(row).toMatchObject({ schedulePaused: false, pause: null, failuresInARow: 2 });

    const third = await sync(credentialId, 'incremental');
    expect(third.status).toBe('failed');
    const paused = await outbox('schedule.auto_paused');
    expect(paused).toHaveLength(1);
    expect(paused[0]!.payload).toMatchObject({
      companyId,
      credentialId,
      syncRunId: third.id,
      failuresInARow: 3,
      threshold: 3,
      lastError: third.error,
      pauseReason: 'Paused after 3 failed runs in a row',
    });
    expect(paused[0]!.payload.message).toMatch(/resume the schedule/);
    // The credential's status changed once, on the first failure only.
    expect(await outbox('credential.status_changed')).toHaveLength(1);
    expect(await outbox('sync.failed')).toHaveLength(3);

    const schedule = await h.call('get', `/api/credentials/${credentialId}/schedule`);
    expect(schedule.body).toMatchObject({
      paused: true,
      pause: { by: 'auto', reason: 'Paused after 3 failed runs in a row', at: expect.any(String) },
    });
    const handle = h.temporal.schedule.getHandle(scheduleId(testInstallationId, credentialId));
    await expect.poll(async () => (await handle.describe()).state.paused, { timeout: 10_000 }).toBe(true);

    dashboard = await h.call('get', '/api/dashboard');
    row = dashboard.body.credentials.find((c: { credentialId: number }) => c.credentialId === credentialId);
    expect(row).toMatchObject({
      schedulePaused: true,
      pause: { by: 'auto', reason: 'Paused after 3 failed runs in a row', at: expect.any(String) },
      failuresInARow: 3,
    });

    // Resuming resets the count: one more failure is far from another pause.
    const unpaused = await h.call('post', `/api/credentials/${credentialId}/schedule/unpause`);
    expect(unpaused.status).toBe(200);
    expect(unpaused.body).toMatchObject({ paused: false, pause: null });
    expect((await handle.describe()).state.paused).toBe(false);
    dashboard = await h.call('get', '/api/dashboard');
    row = dashboard.body.credentials.find((c: { credentialId: number }) => c.credentialId === credentialId);
    expect(row).toMatchObject({ schedulePaused: false, pause: null, failuresInARow: 0 });
    expect((await sync(credentialId, 'incremental')).status).toBe('failed');
    expect((await h.call('get', `/api/credentials/${credentialId}/schedule`)).body.paused).toBe(false);
    expect(await outbox('schedule.auto_paused')).toHaveLength(1);
    await expectNoSecretsInOutbox();
  });

  it('when a tenant loses most of its records between two full runs, then data_quality.anomaly gives the figures', async () => {
    const { credentialId } = await connect(T.shrinking);
    const first = await sync(credentialId, 'full');
    expect(first.status).toBe('completed');
    expect(await outbox('data_quality.anomaly')).toEqual([]);

    h.sandbox.loseRecords(T.shrinking, 0.8);
    const second = await sync(credentialId, 'full');
    expect(second.status).toBe('completed');
    const anomalies = await outbox('data_quality.anomaly');
    expect(anomalies).toHaveLength(1);
    const found = anomalies[0]!.payload.anomalies as {
      kind: string;
      stream: string;
      previousSyncRunId: number;
      percentOfPrevious: number;
    }[];
    expect(found.map((a) => a.stream).sort()).toEqual(['customerContacts', 'customers', 'invoices']);
    for (const a of found) {
      expect(a).toMatchObject({ kind: 'full_run_drop', previousSyncRunId: first.id, thresholdPercent: 50 });
      expect(a.percentOfPrevious).toBeGreaterThan(5);
      expect(a.percentOfPrevious).toBeLessThan(35);
    }
    expect(anomalies[0]!.payload).toMatchObject({ syncRunId: second.id, mode: 'full' });
    expect(anomalies[0]!.payload.message).toMatch(
      /customers: \d+ records where the last successful full run/,
    );
    h.sandbox.loseRecords(T.shrinking, 0);
  });

  it('when more than 1 % of a run’s records are skipped, then data_quality.anomaly gives the ratio; below it, nothing', async () => {
    const { credentialId } = await connect(T.corrupt);
    const clean = await sync(credentialId, 'full');
    expect(clean.status).toBe('completed');
    expect(await outbox('data_quality.anomaly')).toEqual([]);

    h.sandbox.corruptRecords(T.corrupt, 0.1);
    const dirty = await sync(credentialId, 'full');
    expect(dirty.status).toBe('completed');
    const anomalies = await outbox('data_quality.anomaly');
    expect(anomalies).toHaveLength(1);
    const found = anomalies[0]!.payload.anomalies as {
      kind: string;
      skipped: number;
      fetched: number;
      percent: number;
    }[];
    const ratio = found.find((a) => a.kind === 'skipped_ratio')!;
    expect(ratio).toMatchObject({ thresholdPercent: 1, fetched: dirty.totals.fetched });
    expect(ratio.skipped).toBeGreaterThan(0);
    expect(ratio.percent).toBeGreaterThan(5);
    expect(ratio.percent).toBeLessThan(15);
    // The counts stay whole: the full-run comparison does not fire (nothing was lost).
    expect(found.map((a) => a.kind)).toEqual(['skipped_ratio']);
    h.sandbox.corruptRecords(T.corrupt, 0);
  });

  it('when an incremental run finds nothing where the last ones always found changes, then data_quality.anomaly says so', async () => {
    const { credentialId } = await connect(T.quiet);
    expect((await sync(credentialId, 'full')).status).toBe('completed');
    for (let i = 0; i < policy.quietIncrementalRuns; i++) {
      h.sandbox.advanceTime(3 * 3_600_000);
      const run = await sync(credentialId, 'incremental');
      expect(run.totals.fetched).toBeGreaterThan(0);
    }
    expect(await outbox('data_quality.anomaly')).toEqual([]);
    const quiet = await sync(credentialId, 'incremental');
    expect(quiet).toMatchObject({ status: 'completed', totals: { fetched: 0 } });
    const anomalies = await outbox('data_quality.anomaly');
    expect(anomalies).toHaveLength(1);
    expect(anomalies[0]!.payload).toMatchObject({
      syncRunId: quiet.id,
      anomalies: [{ kind: 'incremental_empty', previousRunsWithChanges: policy.quietIncrementalRuns }],
    });
  });

  it('when a credential has had no success for its schedule period plus the grace, then the freshness schedule sends freshness.stale once, not on the next tick, and again only after a success', async () => {
    const { companyId, credentialId } = await connect(T.stale, 'Acme Stale');
    const put = await h.call('put', `/api/credentials/${credentialId}/schedule`, {
      body: { frequency: 'daily', hour: 3, minute: 0 },
    });
    expect(put.status).toBe(200);
    const sql = h.orm.em.fork().getConnection();
    // The schedule has existed for three days, and nothing ever succeeded.
    await sql.execute(
      `update sync_schedules set created_at = now() - interval '3 days' where credential_id = ?`,
      [credentialId],
    );
    const ids = { scheduleId: uniqueId('freshness'), workflowId: uniqueId('freshness-run') };
    await ensureFreshnessSchedule({
      temporal: h.temporal,
      taskQueue: h.taskQueue,
      installationId: testInstallationId,
      policy: { graceMinutes: policy.freshnessGraceMinutes, publicUrl: PUBLIC_URL },
      everyMinutes: 60,
      logger: testLogger,
      ids,
    });
    const handle = h.temporal.schedule.getHandle(ids.scheduleId);
    /** Fires the schedule now and waits for that check's result. */
    const tick = async (n: number) => {
      await handle.trigger();
      await expect
        .poll(async () => (await handle.describe()).info.recentActions.length, { timeout: 30_000 })
        .toBeGreaterThanOrEqual(n);
      const action = (await handle.describe()).info.recentActions[n - 1]!.action;
      return h.temporal.workflow
        .getHandle(action.workflow.workflowId, action.workflow.firstExecutionRunId)
        .result();
    };
    try {
      expect(await tick(1)).toMatchObject({ stale: [credentialId] });
      const stale = await outbox('freshness.stale');
      expect(stale).toHaveLength(1);
      expect(stale[0]!.payload).toMatchObject({
        companyId,
        companyName: 'Acme Stale',
        credentialId,
        lastSuccessAt: null,
        expectedEveryMinutes: 24 * 60,
        graceMinutes: 60,
        link: `${PUBLIC_URL}/credentials/${credentialId}`,
      });
      expect(stale[0]!.payload.message).toMatch(/never been synced successfully/);

      expect(await tick(2)).toMatchObject({ stale: [] });
      expect(await outbox('freshness.stale')).toHaveLength(1);

      // A success ends the breach; data fresh as of now is not stale.
      expect((await sync(credentialId, 'full')).status).toBe('completed');
      expect(await tick(3)).toMatchObject({ stale: [] });
      expect(await outbox('freshness.stale')).toHaveLength(1);
      // A success three days ago (and nothing since): a new breach, announced again.
      await sql.execute(
        `update servicetitan_sync_runs set finished_at = now() - interval '3 days' where credential_id = ?`,
        [credentialId],
      );
      expect(await tick(4)).toMatchObject({ stale: [credentialId] });
      const second = await outbox('freshness.stale');
      expect(second).toHaveLength(2);
      expect(second[1]!.payload.lastSuccessAt).toEqual(expect.any(String));
    } finally {
      await handle.delete();
    }
  });
});
