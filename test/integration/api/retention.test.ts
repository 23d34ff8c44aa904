import { ScheduleNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRetention, type RetentionPolicy } from '../../../src/retention/index.js';
import { ensureRetentionSchedule } from '../../../src/retention/schedule.js';
import { scheduleId } from '../../../src/workflows/definitions.js';
import { testInstallationId, testLogger, truncateAll } from '../../support/integration.js';
import { type ApiHarness, createCompany, createCredential, startApiHarness } from './support/harness.js';

const DOOMED = 4_400_001;
const KEPT = 4_400_002;

describe('retention and company deletion', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness({
      worker: true,
      sandbox: {
        pageSizes: { customers: 20, contacts: 20, invoices: 20 },
        tenants: [
          { tenantId: DOOMED, customers: 30, invoices: 30 },
          { tenantId: KEPT, customers: 10, invoices: 10 },
        ],
      },
    });
  });
  afterAll(async () => {
    h?.assertNoLeaks();
    await h?.close();
  });
  beforeEach(() => truncateAll(h.orm));

  const sql = () => h.orm.em.fork().getConnection();
  const ids = async (query: string, params: unknown[] = []) =>
    (await sql().execute<{ id: string | number }[]>(query, params))
      .map((r) => Number(r.id))
      .sort((a, b) => a - b);

  async function credential(companyId: number, tenantId: number): Promise<number> {
    const res = await createCredential(h, companyId, tenantId);
    expect(res.status).toBe(201);
    return res.body.id as number;
  }

  /** A run row created `days` ago. */
  async function run(credentialId: number, status: string, days: number): Promise<number> {
    const [row] = await sql().execute<{ id: number }[]>(
      `insert into servicetitan_sync_runs (credential_id, trigger, streams, mode, status, created_at, finished_at)
       values (?, 'schedule', '{customers}', '"incremental"', ?, now() - make_interval(days => ?),
               case when ? in ('pending', 'running', 'paused') then null else now() - make_interval(days => ?) end)
       returning id`,
      [credentialId, status, days, status, days],
    );
    return row!.id;
  }

  async function seedOldData() {
    const companyId = await createCompany(h, 'Old Data Co');
    const a = await credential(companyId, DOOMED);
    const b = await credential(await createCompany(h, 'Other Co'), KEPT);
    const runs = {
      a1: await run(a, 'completed', 400), // old: pruned
      a2: await run(a, 'failed', 395), // old: pruned
      a3: await run(a, 'running', 390), // still running: kept however old
      a4: await run(a, 'completed', 380), // the credential's latest success: kept
      a5: await run(a, 'failed', 370), // the credential's latest run: kept
      b1: await run(b, 'completed', 400), // old: pruned
      b2: await run(b, 'completed', 390), // latest success (and latest not skipped): kept
      b3: await run(b, 'skipped', 10), // recent: kept
    };
    await sql().execute(
      `insert into skipped_records (sync_run_id, stream, external_id, reason, raw, created_at) values
         (?, 'customers', '1', 'no name', '{"name": null, "phone": "555-0100"}', now() - interval '40 days'),
         (?, 'customers', '2', 'no name', '{"name": null, "phone": "555-0101"}', now() - interval '5 days'),
         (?, 'customers', '3', 'gone with its run', '{}', now() - interval '400 days')`,
      [runs.a4, runs.a4, runs.a1],
    );
    await sql().execute(
      `insert into audit_events (at, actor_name, actor_role, action, target_type, outcome) values
         (now() - interval '400 days', 'old', 'admin', 'company.update', 'company', 'success'),
         (now() - interval '10 days', 'recent', 'admin', 'company.update', 'company', 'success')`,
    );
    await sql().execute(
      `insert into outbox_events (type, company_id, payload, created_at, dispatched_at) values
         ('sync.completed', ?, '{"n": 1}', now() - interval '40 days', now() - interval '40 days'),
         ('sync.completed', ?, '{"n": 2}', now() - interval '6 days', now() - interval '5 days'),
         ('sync.completed', ?, '{"n": 3}', now() - interval '100 days', null)`,
      [companyId, companyId, companyId],
    );
    const [hook] = await sql().execute<{ id: number }[]>(
      `insert into webhook_subscriptions (url, events, secret_encrypted, created_at, updated_at)
       values ('https://hooks.example.test', '["sync.failed"]', 'x', now(), now()) returning id`,
    );
    await sql().execute(
      `insert into webhook_deliveries (webhook_id, event_type, message_id, body, status, created_at) values
         (?, 'sync.failed', 'msg_old', '{}', 'succeeded', now() - interval '40 days'),
         (?, 'sync.failed', 'msg_waiting', '{}', 'pending', now() - interval '40 days'),
         (?, 'sync.failed', 'msg_recent', '{}', 'failed', now() - interval '5 days')`,
      [hook!.id, hook!.id, hook!.id],
    );
    await sql().execute(
      `insert into email_deliveries (recipient, event_type, subject, text, status, created_at) values
         ('a@b.test', 'sync.failed', 's', 't', 'failed', now() - interval '40 days')`,
    );
    return runs;
  }

  const policy: RetentionPolicy = { skippedRawDays: 30, auditDays: 365, outboxDays: 30, runsDays: 365 };

  it('when the policy is applied to back-dated rows, then only what is past its age goes, and never a running or latest run', async () => {
    const runs = await seedOldData();
    const retention = createRetention({ orm: h.orm, logger: testLogger, batchSize: 2 });

    const off = await retention.prune({ skippedRawDays: 0, auditDays: 0, outboxDays: 0, runsDays: 0 });
    expect(off).toEqual({
      skippedRawCleared: 0,
      auditDeleted: 0,
      outboxDeleted: 0,
      deliveriesDeleted: 0,
      runsDeleted: 0,
    });

    const report = await retention.prune(policy);
    // The old run's skipped record is cleared first, then goes with its run.
    expect(report).toEqual({
      skippedRawCleared: 2,
      auditDeleted: 1,
      outboxDeleted: 1,
      deliveriesDeleted: 2,
      runsDeleted: 3,
    });
    // Settled old deliveries go; one still pending stays however old.
    expect(
      (
        await sql().execute<{ message_id: string }[]>(
          'select message_id from webhook_deliveries order by message_id',
        )
      ).map((r) => r.message_id),
    ).toEqual(['msg_recent', 'msg_waiting']);
    expect(await h.count('email_deliveries')).toBe(0);
    expect(await ids('select id from servicetitan_sync_runs')).toEqual(
      [runs.a3, runs.a4, runs.a5, runs.b2, runs.b3].sort((x, y) => x - y),
    );
    const skipped = await sql().execute<{ external_id: string; reason: string; raw: unknown }[]>(
      'select external_id, reason, raw from skipped_records order by external_id',
    );
    expect(skipped).toEqual([
      { external_id: '1', reason: 'no name', raw: null },
      { external_id: '2', reason: 'no name', raw: { name: null, phone: '555-0101' } },
    ]);
    expect(
      await sql().execute(`select actor_name from audit_events where actor_name in ('old', 'recent')`),
    ).toEqual([{ actor_name: 'recent' }]);
    const outbox = await sql().execute<{ payload: { n: number } }[]>('select payload from outbox_events');
    expect(outbox.map((o) => o.payload.n).sort()).toEqual([2, 3]);

    // Applied again: nothing left to do; the dashboard still shows each credential's last run.
    expect(await retention.prune(policy)).toEqual({
      skippedRawCleared: 0,
      auditDeleted: 0,
      outboxDeleted: 0,
      deliveriesDeleted: 0,
      runsDeleted: 0,
    });
    const dashboard = await h.call('get', '/api/dashboard');
    const seen = dashboard.body.credentials.map(
      (c: { lastRun: { id: number } | null; dataFreshAt: string | null }) => [
        c.lastRun?.id,
        c.dataFreshAt !== null,
      ],
    );
    expect(seen).toEqual([
      [runs.a5, true],
      [runs.b2, true],
    ]);
  });

  it('when the retention schedule is ensured, then it is created once, follows a policy change, and its run prunes', async () => {
    const schedule = {
      scheduleId: `test-retention-${Date.now()}`,
      workflowId: `test-retention-${Date.now()}`,
    };
    const ensure = (p: RetentionPolicy) =>
      ensureRetentionSchedule({
        temporal: h.temporal,
        taskQueue: h.taskQueue,
        installationId: 'test',
        policy: p,
        logger: testLogger,
        ids: schedule,
      });
    try {
      expect(await ensure({ ...policy, auditDays: 400 })).toBe('created');
      expect(await ensure({ ...policy, auditDays: 400 })).toBe('unchanged');
      expect(await ensure(policy)).toBe('updated');
      const handle = h.temporal.schedule.getHandle(schedule.scheduleId);
      const described = await handle.describe();
      expect(described.action.type === 'startWorkflow' && described.action.args).toEqual([policy]);

      const runs = await seedOldData();
      await handle.trigger();
      await vi.waitFor(
        async () => {
          expect(
            await sql().execute(`select actor_name from audit_events where actor_name in ('old', 'recent')`),
          ).toEqual([{ actor_name: 'recent' }]);
          expect(
            await ids('select id from servicetitan_sync_runs where id in (?, ?, ?)', [
              runs.a1,
              runs.a2,
              runs.b1,
            ]),
          ).toEqual([]);
        },
        { timeout: 30_000, interval: 200 },
      );
    } finally {
      await h.temporal.schedule
        .getHandle(schedule.scheduleId)
        .delete()
        .catch(() => undefined);
    }
  });

  it('when a company is deleted, then it needs an admin and its confirmation, waits for a running sync, and removes all its data and schedules', async () => {
    const doomed = await createCompany(h, 'Doomed Heating');
    const doomedCredential = await credential(doomed, DOOMED);
    expect(
      (await h.call('put', `/api/credentials/${doomedCredential}/schedule`, { body: { frequency: 'daily' } }))
        .status,
    ).toBe(200);
    const started = await h.call('post', `/api/credentials/${doomedCredential}/syncs`, {
      body: { mode: 'full' },
    });
    expect(started.status).toBe(202);
    await vi.waitFor(
      async () => {
        const res = await h.call('get', `/api/syncs/${started.body.id}`);
        expect(res.body.status).toMatch(/^completed/);
      },
      { timeout: 60_000, interval: 200 },
    );
    const kept = await createCompany(h, 'Kept Cooling');
    const keptCredential = await credential(kept, KEPT);
    const keptRun = await run(keptCredential, 'completed', 1);
    await sql().execute(
      `insert into outbox_events (type, company_id, payload) values ('sync.completed', ?, '{}')`,
      [kept],
    );
    await sql().execute(
      `insert into skipped_records (sync_run_id, stream, external_id, reason, raw) values (?, 'customers', '9', 'r', '{}')`,
      [started.body.id],
    );
    const rowsOf = async (companyId: number) => ({
      members: (await ids('select id from members_stream where company_id = ?', [companyId])).length,
      invoices: (await ids('select id from invoices_stream where company_id = ?', [companyId])).length,
      contacts: (await ids('select id from servicetitan_customer_contacts where company_id = ?', [companyId]))
        .length,
      outbox: (await ids('select id from outbox_events where company_id = ?', [companyId])).length,
      credentials: (await ids('select id from servicetitan_credentials where company_id = ?', [companyId]))
        .length,
    });
    const before = await rowsOf(doomed);
    expect(before.members).toBeGreaterThan(0);
    expect(before.invoices).toBeGreaterThan(0);
    expect(before.outbox).toBeGreaterThan(0);

    const operator = await h.token('operator');
    expect(
      (await h.call('delete', `/api/companies/${doomed}?confirm=${doomed}`, { token: operator })).status,
    ).toBe(403);
    const unconfirmed = await h.call('delete', `/api/companies/${doomed}`);
    expect(unconfirmed.status).toBe(400);
    expect(unconfirmed.body.message).toMatch(/confirm=<the company's name or id>/);
    const wrong = await h.call('delete', `/api/companies/${doomed}?confirm=${kept}`);
    expect(wrong.status).toBe(400);
    expect(wrong.body.message).toMatch(/exact name or its id/);

    // A run still going (its row says so): refused, and nothing is touched.
    const running = await run(doomedCredential, 'running', 0);
    const busy = await h.call('delete', `/api/companies/${doomed}?confirm=Doomed%20Heating`);
    expect(busy.status).toBe(409);
    expect(busy.body.error).toBe('sync_in_progress');
    expect(await rowsOf(doomed)).toEqual(before);
    await h.temporal.schedule.getHandle(scheduleId(testInstallationId, doomedCredential)).describe();
    await sql().execute(`update servicetitan_sync_runs set status = 'cancelled' where id = ?`, [running]);

    const deleted = await h.call('delete', `/api/companies/${doomed}?confirm=Doomed%20Heating`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({
      id: doomed,
      name: 'Doomed Heating',
      deleted: {
        credentials: 1,
        schedules: 1,
        runs: 2,
        skippedRecords: 1,
        members: before.members,
        invoices: before.invoices,
        contacts: before.contacts,
        outboxEvents: before.outbox,
      },
    });
    expect(await rowsOf(doomed)).toEqual({ members: 0, invoices: 0, contacts: 0, outbox: 0, credentials: 0 });
    expect(
      await ids('select id from servicetitan_sync_runs where credential_id = ?', [doomedCredential]),
    ).toEqual([]);
    expect(await ids('select id from skipped_records')).toEqual([]);
    expect(await ids('select credential_id as id from sync_schedules')).toEqual([]);
    await expect(
      h.temporal.schedule.getHandle(scheduleId(testInstallationId, doomedCredential)).describe(),
    ).rejects.toBeInstanceOf(ScheduleNotFoundError);
    expect((await h.call('get', `/api/companies/${doomed}`)).status).toBe(404);
    expect((await h.call('delete', `/api/companies/${doomed}?confirm=${doomed}`)).status).toBe(404);

    // The other company is untouched.
    expect(await rowsOf(kept)).toMatchObject({ credentials: 1, outbox: 1 });
    expect(await ids('select id from servicetitan_sync_runs')).toEqual([keptRun]);

    const audit = await sql().execute<{ outcome: string; details: Record<string, unknown> }[]>(
      `select outcome, details from audit_events where action = 'company.delete' and target_id = ? order by id`,
      [String(doomed)],
    );
    expect(audit.map((a) => a.outcome)).toEqual([
      'denied',
      'failed',
      'failed',
      'failed',
      'success',
      'denied',
    ]);
    expect(audit[4]!.details).toMatchObject({ name: 'Doomed Heating', deleted: { members: before.members } });
  });
});
