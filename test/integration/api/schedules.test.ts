import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { truncateAll } from '../../support/integration.js';
import { type ApiHarness, createCompany, createCredential, startApiHarness } from './support/harness.js';

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
    expect(paused.body).toMatchObject({ paused: true, nextRunTimes: [] });
    const unpaused = await h.call('post', `/api/credentials/${id}/schedule/unpause`);
    expect(unpaused.body.paused).toBe(false);

    const dashboard = await h.call('get', '/api/dashboard');
    expect(dashboard.status).toBe(200);
    expect(dashboard.body.credentials[0]).toMatchObject({
      credentialId: id,
      companyId,
      lastRun: null,
      failuresInARow: 0,
      schedulePaused: false,
      dataFreshAt: null,
    });
    expect(dashboard.body.credentials[0].nextRunAt).toBe(unpaused.body.nextRunTimes[0]);
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
});
