import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { createApp } from '../../../src/api/app.js';
import { createScheduleService } from '../../../src/schedules/index.js';
import { testInstallationId, testLogger, truncateAll } from '../../support/integration.js';
import {
  ADMIN_TOKEN,
  type ApiHarness,
  createCompany,
  createCredential,
  startApiHarness,
} from './support/harness.js';

type GrpcInterceptor = NonNullable<ConnectionOptions['interceptors']>[number];

describe('schedules and dashboard API', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness();
  });
  afterAll(async () => {
    h?.assertNoLeaks();
    await h?.close();
  });
  beforeEach(() => truncateAll(h.orm));

  it('when a schedule is set, paused, unpaused and removed, then each answer shows its state and next runs', async () => {
    const companyId = await createCompany(h);
    const id = (await createCredential(h, companyId, 1_000_001)).body.id;
    expect((await h.call('get', `/api/credentials/${id}/schedule`)).status).toBe(404);

    const put = await h.call('put', `/api/credentials/${id}/schedule`, {
      body: { frequency: 'weekly', dayOfWeek: 2, hour: 4, minute: 30 },
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ credentialId: id, paused: false, timeZone: 'America/Chicago' });
    expect(put.body.config).toMatchObject({ frequency: 'weekly', dayOfWeek: 2, hour: 4, minute: 30 });
    expect(put.body.nextRunTimes.length).toBeGreaterThan(0);

    const paused = await h.call('post', `/api/credentials/${id}/schedule/pause`);
    expect(paused.body).toMatchObject({
      paused: true,
      pause: { by: 'manual', reason: 'Paused by an operator' },
      nextRunTimes: [],
    });
    const unpaused = await h.call('post', `/api/credentials/${id}/schedule/unpause`);
    expect(unpaused.body.paused).toBe(false);

    // Next run times come from Temporal's schedule listing, which trails a change by a moment.
    const dashboard = await vi.waitFor(
      async () => {
        const res = await h.call('get', '/api/dashboard');
        expect(res.body.credentials[0].nextRunAt).toBe(unpaused.body.nextRunTimes[0]);
        return res;
      },
      { timeout: 20_000, interval: 100 },
    );
    expect(dashboard.status).toBe(200);
    expect(dashboard.body.credentials[0]).toMatchObject({
      credentialId: id,
      companyId,
      lastRun: null,
      failuresInARow: 0,
      schedulePaused: false,
      dataFreshAt: null,
    });
    expect(dashboard.body.totals).toMatchObject({
      credentials: 1,
      neverSynced: 1,
      byStatus: { untested: 1 },
    });

    expect((await h.call('delete', `/api/credentials/${id}/schedule`)).status).toBe(204);
    expect((await h.call('get', `/api/credentials/${id}/schedule`)).status).toBe(404);
    expect((await h.call('post', `/api/credentials/${id}/schedule/pause`)).status).toBe(404);
  });

  it('when a cron or frequency is invalid, then 400 says what is wrong and nothing is stored', async () => {
    const companyId = await createCompany(h);
    const id = (await createCredential(h, companyId, 1_000_001)).body.id;
    const cron = await h.call('put', `/api/credentials/${id}/schedule`, {
      body: { frequency: 'cron', cron: '61 * * * *' },
    });
    expect(cron.status).toBe(400);
    expect(cron.body.message).toMatch(/minute value 61/);
    const freq = await h.call('put', `/api/credentials/${id}/schedule`, {
      body: { frequency: 'fortnightly' },
    });
    expect(freq.status).toBe(400);
    expect(freq.body.message).toMatch(/frequency/);
    expect(await h.count('sync_schedules')).toBe(0);
    expect(
      (await h.call('put', '/api/credentials/999/schedule', { body: { frequency: 'daily' } })).status,
    ).toBe(404);
  });

  it('when runs failed after the last success, then the dashboard counts failures in a row and data freshness', async () => {
    const companyId = await createCompany(h);
    const id = (await createCredential(h, companyId, 1_000_001)).body.id;
    const conn = h.orm.em.fork().getConnection();
    await conn.execute(
      `insert into servicetitan_sync_runs (credential_id, trigger, streams, mode, status, counts, created_at, finished_at) values
       (?, 'manual', '{customers}', '"full"', 'completed', '{"customers":{"pages":1,"fetched":5,"upserted":5,"skipped":0}}', now() - interval '3 hours', now() - interval '3 hours'),
       (?, 'schedule', '{customers}', '"incremental"', 'failed', '{}', now() - interval '2 hours', now() - interval '2 hours'),
       (?, 'schedule', '{customers}', '"incremental"', 'failed', '{"customers":{"pages":1,"fetched":2,"upserted":1,"skipped":1}}', now() - interval '1 hours', now() - interval '1 hours')`,
      [id, id, id],
    );
    const res = await h.call('get', '/api/dashboard');
    const row = res.body.credentials[0];
    expect(row.failuresInARow).toBe(2);
    expect(row.lastRun).toMatchObject({ status: 'failed', totals: { fetched: 2, upserted: 1, skipped: 1 } });
    expect(row.dataFreshAt).not.toBeNull();
    expect(res.body.totals).toMatchObject({ failing: 1, neverSynced: 0 });
  });

  it('when credentials are added, then the dashboard still makes the same few Temporal calls and shows each next run', async () => {
    // A client whose every gRPC call is recorded, serving the dashboard alone.
    const calls: string[] = [];
    const counting: GrpcInterceptor = (options, next) => {
      calls.push(options.method_definition.path);
      return next(options) as ReturnType<GrpcInterceptor>;
    };
    const connection = await Connection.connect({
      address: inject('temporalAddress'),
      interceptors: [counting],
    });
    const temporal = new Client({ connection });
    const app = createApp({
      orm: h.orm,
      temporal,
      logger: testLogger,
      api: {
        taskQueue: h.taskQueue,
        installationId: testInstallationId,
        schedules: createScheduleService({
          orm: h.orm,
          temporal,
          taskQueue: h.taskQueue,
          installationId: testInstallationId,
          logger: testLogger,
        }),
        adminToken: ADMIN_TOKEN,
      },
    });
    const dashboardCalls = async () => {
      calls.length = 0;
      const res = await request(app).get('/api/dashboard').set('authorization', `Bearer ${ADMIN_TOKEN}`);
      expect(res.status).toBe(200);
      return { body: res.body, calls: calls.length };
    };
    const addScheduled = async (companyId: number, tenantId: number) => {
      const id = (await createCredential(h, companyId, tenantId)).body.id as number;
      const put = await h.call('put', `/api/credentials/${id}/schedule`, {
        body: { frequency: 'daily', hour: (id % 20) + 1, minute: 15 },
      });
      expect(put.status).toBe(200);
      return id;
    };
    /** Waits for the listing to show every schedule, then checks each against its own describe. */
    const settled = async (ids: number[]) =>
      vi.waitFor(
        async () => {
          const { body } = await dashboardCalls();
          for (const id of ids) {
            const row = body.credentials.find((c: { credentialId: number }) => c.credentialId === id);
            const view = (await h.call('get', `/api/credentials/${id}/schedule`)).body;
            expect(row).toMatchObject({
              schedulePaused: view.paused,
              nextRunAt: view.nextRunTimes[0] ?? null,
            });
          }
          return dashboardCalls();
        },
        { timeout: 30_000, interval: 200 },
      );

    try {
      const first = await createCompany(h, 'One');
      const one = await settled([await addScheduled(first, 1_000_001)]);
      expect(one.calls).toBeGreaterThan(0);
      expect(one.calls).toBeLessThanOrEqual(1);

      // Tenants are unique across companies, and a company has one per environment.
      const ids = [
        await addScheduled(first, 1_000_004),
        await addScheduled(await createCompany(h, 'Two'), 1_000_002),
        await addScheduled(await createCompany(h, 'Three'), 1_000_003),
      ];
      expect((await h.call('post', `/api/credentials/${ids[0]}/schedule/pause`)).status).toBe(200);
      const many = await settled(ids);
      expect(many.body.credentials).toHaveLength(4);
      expect(many.body.credentials.filter((c: { nextRunAt: unknown }) => c.nextRunAt !== null)).toHaveLength(
        3,
      );
      expect(many.calls).toBe(one.calls);
    } finally {
      await connection.close();
    }
  });
});
