import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, createCredential, startApiHarness } from './support/harness.js';

/**
 * POST /api/schedules/preview computes next run times without Temporal; these tests hold it to
 * what Temporal itself computes for the same configuration, through the real API.
 */
describe('schedule preview', () => {
  let h: ApiHarness;
  const made: number[] = [];

  beforeAll(async () => {
    const tenants = [1, 2, 3, 4, 5, 6].map((n) => ({ tenantId: 7_300_000 + n, customers: 5, invoices: 5 }));
    h = await startApiHarness({ sandbox: { tenants } });
  });
  afterAll(async () => {
    for (const id of made) await h.call('delete', `/api/credentials/${id}/schedule`, { exempt: true });
    await h?.close();
  });

  async function credentialIn(timeZone: string): Promise<number> {
    const company = await h.call('post', '/api/companies', {
      body: { name: `Preview ${timeZone}`, timeZone },
    });
    expect(company.status).toBe(201);
    const created = await createCredential(h, company.body.id, 7_300_001 + made.length);
    expect(created.status).toBe(201);
    made.push(created.body.id);
    return created.body.id;
  }

  it.each([
    ['America/Chicago', { frequency: 'weekly', jitterSeconds: 0 }],
    ['Asia/Kolkata', { frequency: 'daily', hour: 23, minute: 45, jitterSeconds: 0 }],
    ['Europe/Berlin', { frequency: 'monthly', dayOfMonth: 28, hour: 4, minute: 10, jitterSeconds: 0 }],
    ['Australia/Adelaide', { frequency: 'hourly', everyHours: 5, jitterSeconds: 0 }],
    ['America/New_York', { frequency: 'cron', cron: '30 2 1-7 * MON', jitterSeconds: 0 }],
    ['UTC', { frequency: 'cron', cron: '0 9 * JAN-JUN SUN,7', jitterSeconds: 0 }],
  ])(
    'when a schedule in %s is previewed and then set, then the preview lists the times Temporal gives',
    async (timeZone, config) => {
      const id = await credentialIn(timeZone);
      const before = await h.call('post', '/api/schedules/preview', { body: { config, timeZone } });
      expect(before.status).toBe(200);
      const set = await h.call('put', `/api/credentials/${id}/schedule`, { body: config });
      expect(set.status).toBe(200);
      const after = await h.call('post', '/api/schedules/preview', { body: { config, timeZone } });
      expect(before.body.nextRunTimes).toHaveLength(5);
      expect(set.body.nextRunTimes.length).toBeGreaterThanOrEqual(3);
      // A run time passing between the two calls shifts the list by one: one preview matches.
      const temporal = set.body.nextRunTimes as string[];
      const matches = [before.body.nextRunTimes, after.body.nextRunTimes].some((p: string[]) =>
        temporal.every((t, i) => p[i] === t),
      );
      expect(matches, `preview ${before.body.nextRunTimes} vs Temporal ${temporal}`).toBe(true);
    },
  );

  it('when the preview has jitter, then it says how much and shows the times before it', async () => {
    const res = await h.call('post', '/api/schedules/preview', {
      body: { config: { frequency: 'weekly' }, timeZone: 'America/Chicago' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ jitterSeconds: 900, timeZone: 'America/Chicago' });
    for (const t of res.body.nextRunTimes) expect(new Date(t).getUTCMinutes()).toBe(0);
  });

  it('when a viewer previews, then it is allowed; a bad time zone or cron is a 400 that says what is wrong', async () => {
    const viewer = await h.token('viewer');
    const ok = await h.call('post', '/api/schedules/preview', {
      token: viewer,
      body: { config: { frequency: 'daily' }, timeZone: 'UTC' },
    });
    expect(ok.status).toBe(200);
    const zone = await h.call('post', '/api/schedules/preview', {
      body: { config: { frequency: 'daily' }, timeZone: 'Mars/Olympus' },
    });
    expect(zone.status).toBe(400);
    expect(zone.body.message).toMatch(/timeZone: must be an IANA time zone/);
    const cron = await h.call('post', '/api/schedules/preview', {
      body: { config: { frequency: 'cron', cron: '61 * * * *' }, timeZone: 'UTC' },
    });
    expect(cron.status).toBe(400);
    expect(cron.body.message).toMatch(/minute value 61/);
  });
});
