import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SkippedRecord, SyncRun } from '../../../src/db/entities/index.js';
import { truncateAll } from '../../support/integration.js';
import { type ApiHarness, createCompany, createCredential, startApiHarness } from './support/harness.js';

/** Personal data as a skipped customer record carries it. */
const RAW = { id: 42, name: 'Jane Q. Customer', phone: '+1-555-0100', email: 'jane@example.test' };

describe('skipped records by role', () => {
  let h: ApiHarness;
  let runId: number;
  beforeAll(async () => {
    h = await startApiHarness();
    await truncateAll(h.orm);
    const companyId = await createCompany(h);
    const credentialId = (await createCredential(h, companyId, 1_000_001)).body.id as number;
    const em = h.orm.em.fork();
    const run = em.create(SyncRun, {
      credential: credentialId,
      trigger: 'manual',
      streams: ['customers'],
      mode: 'full',
      status: 'completed',
    });
    await em.flush();
    em.create(SkippedRecord, {
      syncRun: run.id,
      stream: 'customers',
      externalId: '42',
      reason: 'modifiedOn is missing or not a date: "yesterday"',
      raw: RAW,
    });
    await em.flush();
    runId = run.id;
  });
  afterAll(async () => {
    await h?.close();
  });

  it("when a viewer lists a run's skipped records, then it sees the reasons but not the payloads", async () => {
    const res = await h.call('get', `/api/syncs/${runId}/skipped`, { token: await h.token('viewer') });
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([
      expect.objectContaining({
        externalId: '42',
        reason: 'modifiedOn is missing or not a date: "yesterday"',
        raw: null,
        rawWithheld: true,
      }),
    ]);
    for (const value of [RAW.name, RAW.phone, RAW.email]) expect(res.text).not.toContain(value);
  });

  it.each(['operator', 'admin'] as const)(
    'when an %s lists them, then it sees the payloads too',
    async (role) => {
      const res = await h.call('get', `/api/syncs/${runId}/skipped`, { token: await h.token(role) });
      expect(res.status).toBe(200);
      expect(res.body.items).toEqual([
        expect.objectContaining({ externalId: '42', raw: RAW, rawWithheld: false }),
      ]);
    },
  );
});
