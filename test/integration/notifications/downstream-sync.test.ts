import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDispatcher } from '../../../src/notifications/dispatcher.js';
import { testDatabaseUrl, testInstallationId, testLogger } from '../../support/integration.js';
import { type ApiHarness, createCompany, createCredential, startApiHarness } from '../api/support/harness.js';
import { waitFor } from './support.js';

const TENANT = 4_400_001;
const CHANNEL = 'test_downstream_sync';

describe('downstream dispatch of real runs', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness({
      worker: true,
      sandbox: {
        pageSizes: { customers: 50, contacts: 50, invoices: 50 },
        tenants: [{ tenantId: TENANT, customers: 30, invoices: 30 }],
      },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('when two syncs finish, then a NOTIFY listener gets each run event id once, and the event names the run, its environment and tenant', async () => {
    const listener = new pg.Client({ connectionString: await testDatabaseUrl() });
    await listener.connect();
    const received: string[] = [];
    listener.on('notification', (n) => received.push(n.payload ?? ''));
    await listener.query(`listen ${CHANNEL}`);
    const dispatcher = createDispatcher({
      orm: h.orm,
      databaseUrl: await testDatabaseUrl(),
      temporal: h.temporal,
      taskQueue: h.taskQueue,
      installationId: testInstallationId,
      logger: testLogger,
      email: { enabled: false, to: [], events: [] },
      downstreamChannel: CHANNEL,
      undeliveredAlertMinutes: 30,
      pollMs: 300,
    });
    dispatcher.start();
    try {
      const companyId = await createCompany(h);
      const created = await createCredential(h, companyId, TENANT);
      expect(created.status).toBe(201);
      const credential = created.body as { id: number; environment: string; tenantId: string };
      const runIds: number[] = [];
      for (const mode of ['full', 'incremental']) {
        const started = await h.call('post', `/api/credentials/${credential.id}/syncs`, { body: { mode } });
        expect(started.status).toBe(202);
        runIds.push(started.body.id);
        await waitFor(
          `run ${started.body.id} to end`,
          async () => {
            const res = await h.call('get', `/api/syncs/${started.body.id}`);
            return !['pending', 'running', 'paused'].includes(res.body.status);
          },
          90_000,
        );
      }
      await waitFor('two notifications', () => received.length >= 2);
      await new Promise((r) => setTimeout(r, 1_500)); // a duplicate would come by now
      expect(received).toHaveLength(2);
      const rows = await h.orm.em
        .getConnection()
        .execute<{ id: string; type: string; payload: Record<string, unknown> }[]>(
          `select id, type, payload from outbox_events where id in (?, ?) order by id`,
          received,
        );
      expect(rows.map((r) => r.type)).toEqual(['company_data.updated', 'company_data.updated']);
      expect(rows.map((r) => r.payload.syncRunId)).toEqual(runIds);
      for (const r of rows)
        expect(r.payload).toMatchObject({
          credentialId: credential.id,
          environment: credential.environment,
          tenantId: credential.tenantId,
        });
    } finally {
      await dispatcher.stop();
      await listener.end();
    }
  });
});
