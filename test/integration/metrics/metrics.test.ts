import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../src/infra/free-port.js';
import {
  createMetrics,
  type Metrics,
  type MetricsServer,
  registerDatabaseMetrics,
  startMetricsServer,
} from '../../../src/metrics/index.js';
import { syncWorkflowId } from '../../../src/workflows/definitions.js';
import { testInstallationId, testLogger, truncateAll } from '../../support/integration.js';
import { parsePrometheus, type Sample, sumOf } from '../../support/prometheus.js';
import { type ApiHarness, createCompany, createCredential, startApiHarness } from '../api/support/harness.js';

const TENANT = 4_300_101;
const COOLDOWN_MS = 6_000;
const METRICS_TOKEN = 'metrics-bearer-token-0123456789';

describe('metrics and the circuit breaker', () => {
  let h: ApiHarness;
  let apiMetrics: Metrics;
  let workerMetrics: Metrics;
  let workerServer: MetricsServer;
  let temporalMetricsUrl: string;

  beforeAll(async () => {
    apiMetrics = createMetrics();
    workerMetrics = createMetrics();
    // The SDK's exporter is part of the process's runtime, installed by the first worker: this one.
    const temporalPort = await freePort();
    temporalMetricsUrl = `http://127.0.0.1:${temporalPort}/metrics`;
    h = await startApiHarness({
      worker: {
        metrics: workerMetrics,
        temporalMetricsAddress: `127.0.0.1:${temporalPort}`,
        breaker: { failureThreshold: 3, cooldownMs: COOLDOWN_MS },
      },
      sandbox: {
        latencyMs: 10,
        pageSizes: { customers: 20, contacts: 20, locations: 20, invoices: 20 },
        tenants: [{ tenantId: TENANT, customers: 30, invoices: 30 }],
      },
      app: { metrics: apiMetrics, metricsToken: METRICS_TOKEN },
    });
    registerDatabaseMetrics(apiMetrics, { orm: h.orm, logger: testLogger });
    h.watched.add(METRICS_TOKEN);
    workerServer = await startMetricsServer({
      metrics: workerMetrics,
      port: 0,
      host: '127.0.0.1',
      logger: testLogger,
    });
  });
  afterAll(async () => {
    await workerServer?.close();
    h?.assertNoLeaks();
    await h?.close();
  });
  beforeEach(async () => {
    h.sandbox.clearFaults();
    await truncateAll(h.orm);
  });

  async function scrapeApi(): Promise<{ text: string; samples: Sample[] }> {
    const res = await h.call('get', '/metrics', { token: METRICS_TOKEN, exempt: true });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return { text: res.text, samples: parsePrometheus(res.text) };
  }
  async function scrapeWorker(): Promise<{ text: string; samples: Sample[] }> {
    const res = await fetch(workerServer.url);
    expect(res.status).toBe(200);
    const text = await res.text();
    return { text, samples: parsePrometheus(text) };
  }

  async function credential(): Promise<number> {
    const companyId = await createCompany(h, `Company ${TENANT}`);
    const res = await createCredential(h, companyId, TENANT);
    expect(res.status).toBe(201);
    return res.body.id as number;
  }

  async function runToEnd(credentialId: number, ms = 60_000): Promise<{ id: number; status: string }> {
    const started = await h.call('post', `/api/credentials/${credentialId}/syncs`, {
      body: { mode: 'full' },
    });
    expect(started.status).toBe(202);
    const until = Date.now() + ms;
    for (;;) {
      const res = await h.call('get', `/api/syncs/${started.body.id}`);
      if (!['pending', 'running', 'paused'].includes(res.body.status)) return res.body;
      if (Date.now() > until) throw new Error(`run ${started.body.id} stayed ${res.body.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('when /metrics is asked without the METRICS_TOKEN bearer, then it is 401; with it, the text format', async () => {
    const none = await h.call('get', '/metrics', { token: null, exempt: true });
    expect(none.status).toBe(401);
    const wrong = await h.call('get', '/metrics', {
      token: 'metrics-bearer-token-XXXXXXXXXXXX',
      exempt: true,
    });
    expect(wrong.status).toBe(401);
    const { text } = await scrapeApi();
    expect(text).toContain('# TYPE stsync_http_request_duration_seconds histogram');
    expect(text).toContain('stsync_process_cpu_user_seconds_total');
  });

  it('when a sync runs against the sandbox, then records, requests, runs and credential gauges move, labelled by templates and ids only', async () => {
    const id = await credential();
    const before = (await scrapeWorker()).samples;
    const run = await runToEnd(id);
    expect(run.status).toBe('completed');

    const worker = await scrapeWorker();
    const delta = (name: string, where: Record<string, string>) =>
      sumOf(worker.samples, name, where) - sumOf(before, name, where);
    const env = { environment: 'integration' };
    // Records by stream: what the run stored.
    const stored = await h.orm.em
      .fork()
      .getConnection()
      .execute<{ n: string }[]>(`select count(*) as n from members_stream where sync_run_id = ?`, [run.id]);
    expect(delta('stsync_records_written_total', { stream: 'customers', ...env })).toBe(Number(stored[0]?.n));
    expect(delta('stsync_records_written_total', { stream: 'invoices', ...env })).toBeGreaterThan(0);
    // Requests by endpoint template and status, with their durations.
    const customersExport = { ...env, endpoint: '/crm/v2/tenant/{tenant}/export/customers', status: '200' };
    expect(delta('stsync_servicetitan_requests_total', customersExport)).toBeGreaterThanOrEqual(2);
    expect(delta('stsync_servicetitan_request_duration_seconds_count', customersExport)).toBe(
      delta('stsync_servicetitan_requests_total', customersExport),
    );
    for (const s of worker.samples.filter((x) => x.name === 'stsync_servicetitan_requests_total'))
      expect(s.labels.endpoint).not.toContain(String(TENANT));
    // The time requests waited for their budget's slots: every request reserves one.
    expect(
      delta('stsync_servicetitan_budget_wait_seconds_total', { ...env, endpoint: customersExport.endpoint }),
    ).toBeGreaterThan(0);
    // The run, its trigger and its duration.
    const runLabels = { trigger: 'manual', status: 'completed', ...env };
    expect(delta('stsync_sync_runs_total', runLabels)).toBe(1);
    expect(delta('stsync_sync_run_duration_seconds_count', runLabels)).toBe(1);
    expect(delta('stsync_sync_run_duration_seconds_sum', runLabels)).toBeGreaterThan(0);
    expect(sumOf(worker.samples, 'stsync_servicetitan_breaker_state', env)).toBe(0);
    // The first sync is a full load: its planning's steps, each at least a request's time.
    for (const step of ['token', 'probes'])
      expect(delta('stsync_full_load_plan_seconds_total', { step }), step).toBeGreaterThan(0);
    expect(
      new Set(
        worker.samples
          .filter((s) => s.name === 'stsync_full_load_plan_seconds_total')
          .map((s) => s.labels.step),
      ),
    ).toEqual(new Set(['token', 'probes', 'boundaries']));

    // The API's view, from PostgreSQL: the credential's status and last success.
    const api = await scrapeApi();
    const cred = { credential_id: String(id), environment: 'integration' };
    const [row] = await h.orm.em
      .fork()
      .getConnection()
      .execute<{ status: string }[]>(`select status from servicetitan_credentials where id = ?`, [id]);
    const series = api.samples.filter(
      (s) => s.name === 'stsync_credential_status' && s.labels.credential_id === String(id),
    );
    expect(series).toEqual([
      { name: 'stsync_credential_status', labels: { ...cred, status: row?.status }, value: 1 },
    ]);
    const lastSuccess = sumOf(api.samples, 'stsync_credential_last_success_timestamp_seconds', cred);
    expect(Math.abs(lastSuccess - Date.now() / 1000)).toBeLessThan(120);
    // Admin API durations by route pattern, never the URL with its id.
    const routes = new Set(
      api.samples
        .filter((s) => s.name === 'stsync_http_request_duration_seconds_count')
        .map((s) => s.labels.route),
    );
    expect(routes).toContain('/api/credentials/:id/syncs');
    expect(routes).toContain('/api/syncs/:id');
    for (const route of routes) expect(route).not.toMatch(/\d{3,}/);

    // Nothing secret or personal in either exposition: the tenant's secret, tokens, record values.
    const tenant = h.sandbox.tenants.find((t) => t.tenantId === TENANT)!;
    const forbidden = [tenant.clientSecret, tenant.clientId, METRICS_TOKEN, ...h.watched];
    for (const record of [...h.sandbox.groundTruth(TENANT, 'customers')].slice(0, 10)) {
      for (const key of ['name', 'email', 'phoneNumber']) {
        const v = record[key];
        if (typeof v === 'string' && v.length >= 4) forbidden.push(v);
      }
    }
    const storedValues = await h.orm.em
      .fork()
      .getConnection()
      .execute<{ name: string | null; street: string | null; external_id: string }[]>(
        `select name, street, external_id from members_stream limit 10`,
      );
    for (const r of storedValues)
      for (const v of [r.name, r.street]) if (v && v.length >= 4) forbidden.push(v);
    expect(forbidden.length).toBeGreaterThan(10);
    for (const text of [worker.text, api.text])
      for (const value of forbidden)
        expect(text.includes(value), `exposition holds "${value.slice(0, 6)}…"`).toBe(false);
    const labelValues = [...worker.samples, ...api.samples].flatMap((s) => Object.values(s.labels));
    for (const r of storedValues) expect(labelValues).not.toContain(r.external_id);
  });

  it("when the worker's Temporal SDK exporter is scraped, then it answers with temporal_ metrics", async () => {
    // The first sync of this file made the worker poll and run tasks; the exporter is live at once.
    const res = await fetch(temporalMetricsUrl);
    expect(res.status).toBe(200);
    const samples = parsePrometheus(await res.text());
    const names = new Set(samples.map((s) => s.name));
    expect([...names].some((n) => n.startsWith('temporal_'))).toBe(true);
    expect([...names].some((n) => /^temporal_worker_task_slots_(available|used)/.test(n))).toBe(true);
  });

  it('when ServiceTitan keeps answering 502, then the breaker opens, chunks fail fast for the cool-down, the dashboard says so, and a successful probe closes it', async () => {
    const id = await credential();
    const before = (await scrapeWorker()).samples;
    h.sandbox.injectFault({ kind: 'server-error', tenantId: TENANT, path: '/export/', status: 502 });
    const exportRequestsSoFar = () =>
      Object.entries(h.sandbox.stats().byPath)
        .filter(([path]) => path.includes('/export/'))
        .reduce((n, [, c]) => n + c, 0);
    const earlier = exportRequestsSoFar();
    const exportRequests = () => exportRequestsSoFar() - earlier;

    const started = await h.call('post', `/api/credentials/${id}/syncs`, { body: { mode: 'full' } });
    expect(started.status).toBe(202);

    // The dashboard (API process) learns of the worker's breaker through PostgreSQL.
    const openedBy = Date.now() + 30_000;
    let breaker: { environment: string; state: string; retryAt: string | null } | undefined;
    for (;;) {
      const dash = await h.call('get', '/api/dashboard');
      expect(dash.status).toBe(200);
      breaker = dash.body.breakers.find((b: { environment: string }) => b.environment === 'integration');
      if (breaker?.state === 'open') break;
      if (Date.now() > openedBy) throw new Error(`the breaker did not open: ${JSON.stringify(breaker)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const retryAt = Date.parse(breaker.retryAt!);
    expect(retryAt).toBeGreaterThan(Date.now() + 1_000);
    // Fail fast: once the requests in flight have come back, none is sent while it is open.
    await new Promise((r) => setTimeout(r, 500));
    const sentWhenOpen = exportRequests();
    expect(sentWhenOpen).toBeLessThanOrEqual(3 * 4); // the threshold, plus one in flight per stream at most
    await new Promise((r) => setTimeout(r, Math.max(0, retryAt - 1_500 - Date.now())));
    expect(exportRequests()).toBe(sentWhenOpen);
    // The chunks failed with the breaker's retryable failure, and Temporal schedules their next
    // attempt after the cool-down: no attempt is spent meanwhile.
    const described = await h.temporal.workflow.getHandle(syncWorkflowId(testInstallationId, id)).describe();
    const pending = described.raw.pendingActivities ?? [];
    expect(pending.length).toBeGreaterThan(0);
    for (const activity of pending) {
      expect(activity.lastFailure?.applicationFailureInfo?.type).toBe('servicetitan_circuit_open');
      expect(activity.attempt).toBeLessThanOrEqual(2);
      const next = Number(activity.nextAttemptScheduleTime?.seconds ?? 0) * 1000;
      expect(next).toBeGreaterThanOrEqual(Date.parse(breaker.retryAt!) - 1_000);
    }
    const open = await scrapeWorker();
    expect(sumOf(open.samples, 'stsync_servicetitan_breaker_state', { environment: 'integration' })).toBe(2);
    expect(sumOf(open.samples, 'stsync_servicetitan_breaker_state', { environment: 'production' })).toBe(0);

    // ServiceTitan recovers: after the cool-down Temporal retries the chunks, one probe closes the breaker.
    h.sandbox.clearFaults();
    // Still within the cool-down: the probe to come finds ServiceTitan well again.
    expect(Date.now()).toBeLessThan(retryAt);
    const until = Date.now() + 60_000;
    let run: { status: string; error?: string | null };
    for (;;) {
      run = (await h.call('get', `/api/syncs/${started.body.id}`)).body;
      if (!['pending', 'running', 'paused'].includes(run.status)) break;
      if (Date.now() > until) throw new Error(`run stayed ${run.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(run.status).toBe('completed');
    expect(Date.now()).toBeGreaterThanOrEqual(retryAt);

    const after = await scrapeWorker();
    const delta = (name: string, where: Record<string, string>) =>
      sumOf(after.samples, name, where) - sumOf(before, name, where);
    expect(delta('stsync_servicetitan_breaker_opened_total', { environment: 'integration' })).toBe(1);
    expect(sumOf(after.samples, 'stsync_servicetitan_breaker_state', { environment: 'integration' })).toBe(0);
    expect(delta('stsync_servicetitan_requests_total', { environment: 'integration', status: '502' })).toBe(
      sentWhenOpen,
    );
    expect(
      delta('stsync_servicetitan_retries_total', { environment: 'integration', reason: 'server_error' }),
    ).toBeGreaterThan(0);

    const dash = await h.call('get', '/api/dashboard');
    expect(dash.body.breakers).toEqual([
      expect.objectContaining({ environment: 'integration', state: 'closed', retryAt: null }),
    ]);
  });
});
