import pg from 'pg';
import { pino } from 'pino';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { redactedPaths } from '../../../src/logger.js';
import { createMetrics, type Metrics } from '../../../src/metrics/index.js';
import { createDispatcher, type Dispatcher } from '../../../src/notifications/dispatcher.js';
import { createMailer } from '../../../src/notifications/email.js';
import { postWebhook } from '../../../src/notifications/webhook-sender.js';
import type { RunningWorker } from '../../../src/temporal/worker.js';
import { type DeliveryRetry, deliveryWorkflowId } from '../../../src/workflows/definitions.js';
import {
  startTestWorker,
  testDatabaseUrl,
  testInstallationId,
  truncateAll,
} from '../../support/integration.js';
import { type ApiHarness, createCompany, startApiHarness } from '../api/support/harness.js';
import { emit, startReceiver, startSmtpServer, waitFor } from './support.js';

/** Fast enough for a test, the same shape as production's (doubling, capped). */
const retry: DeliveryRetry = {
  initialIntervalMs: 1_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 2_000,
  maximumAttempts: 4,
};
const policy = { allowPrivateNetworks: true };
const DOWNSTREAM = 'test_company_data';

let h: ApiHarness;
let worker: (RunningWorker & { taskQueue: string }) | undefined;
let dispatcher: Dispatcher | undefined;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let logger: pino.Logger;

async function startWorkerWithNotifications(taskQueue?: string, timeoutMs = 5_000, metrics?: Metrics) {
  return startTestWorker(h.orm, {
    logger,
    ...(metrics ? { metrics } : {}),
    ...(taskQueue ? { taskQueue } : {}),
    notifications: {
      policy,
      timeoutMs,
      mailer: createMailer({ smtpUrl: smtp.url, from: 'stsync <stsync@example.test>' }),
    },
  });
}

async function startDispatcherFor(taskQueue: string, email: { to: string[] } = { to: [] }) {
  const d = createDispatcher({
    orm: h.orm,
    databaseUrl: await testDatabaseUrl(),
    temporal: h.temporal,
    taskQueue,
    installationId: testInstallationId,
    logger,
    email: { enabled: true, to: email.to, events: ['sync.failed'] },
    downstreamChannel: DOWNSTREAM,
    undeliveredAlertMinutes: 30,
    retry,
    pollMs: 500,
  });
  d.start();
  return d;
}

async function createWebhook(body: Record<string, unknown>, token?: string) {
  // The one answer that shows the secret: exempt from the leak check of every other body.
  const res = await h.call('post', '/api/webhooks', { body, exempt: true, ...(token ? { token } : {}) });
  expect(res.status, res.text).toBe(201);
  const secret = res.body.secret as string;
  h.watched.add(secret);
  h.watched.add(secret.replace(/^whsec_/, ''));
  return { id: res.body.id as number, secret };
}

/** Every string in a workflow's history, payloads decoded. */
async function historyText(workflowId: string): Promise<string> {
  const history = await h.temporal.workflow.getHandle(workflowId).fetchHistory();
  const parts: string[] = [];
  const walk = (v: unknown) => {
    if (v instanceof Uint8Array) parts.push(Buffer.from(v).toString('utf8'));
    else if (typeof v === 'string') parts.push(v);
    else if (v && typeof v === 'object') for (const x of Object.values(v)) walk(x);
  };
  walk(history);
  return parts.join('\n');
}

beforeAll(async () => {
  h = await startApiHarness({ api: { webhooks: { policy, timeoutMs: 5_000 } } });
  logger = pino(
    { level: 'trace', name: 'notifications-test', redact: { paths: redactedPaths, censor: '[redacted]' } },
    { write: (line: string) => void h.logs.push(line) },
  );
  smtp = await startSmtpServer();
});

afterAll(async () => {
  // No secret in any answer (but the create ones) nor any log line, the worker's included.
  h?.assertNoLeaks();
  await smtp?.close();
  await h?.close();
});

beforeEach(async () => {
  await truncateAll(h.orm);
});

afterEach(async () => {
  await dispatcher?.stop();
  dispatcher = undefined;
  await worker?.stop();
  worker = undefined;
});

describe('webhooks', () => {
  it('when the receiver fails the first delivery, then it is retried with the same webhook-id and a signature that standardwebhooks verifies', async () => {
    const receiver = await startReceiver([500]);
    const metrics = createMetrics({ defaultMetrics: false });
    try {
      worker = await startWorkerWithNotifications(undefined, 5_000, metrics);
      dispatcher = await startDispatcherFor(worker.taskQueue);
      const companyId = await createCompany(h);
      const hook = await createWebhook({ url: receiver.url, events: ['sync.failed'], companyId });
      await emit(h.orm, 'sync.failed', companyId, { syncRunId: 7, link: 'http://console.test/syncs/7' });

      await waitFor('the first attempt to be recorded', async () => {
        const res = await h.call('get', `/api/webhooks/${hook.id}/deliveries`);
        const d = res.body.items[0];
        return d?.attempts >= 1 && d;
      });
      await waitFor('two requests', () => receiver.requests.length >= 2);
      const [first, second] = receiver.requests;
      expect(first!.headers['webhook-id']).toMatch(/^msg_/);
      expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
      expect(second!.body).toBe(first!.body);
      const verifier = new Webhook(hook.secret);
      for (const r of [first!, second!]) {
        const payload = verifier.verify(r.body, r.headers as Record<string, string>) as Record<
          string,
          unknown
        >;
        expect(payload.type).toBe('sync.failed');
        expect(payload).toHaveProperty('timestamp');
        expect(payload.data).toMatchObject({ companyId, syncRunId: 7, companyName: 'Acme Heating' });
      }
      // Another secret does not verify it: the check can fail.
      expect(() =>
        new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(
          second!.body,
          second!.headers as Record<string, string>,
        ),
      ).toThrow();

      const settled = await waitFor('the delivery to succeed', async () => {
        const res = await h.call('get', `/api/webhooks/${hook.id}/deliveries`);
        return res.body.items[0]?.status === 'succeeded' && res.body;
      });
      expect(settled.total).toBe(1);
      expect(settled.items[0]).toMatchObject({
        eventType: 'sync.failed',
        attempts: 2,
        lastResponseCode: 200,
        nextAttemptAt: null,
        messageId: first!.headers['webhook-id'],
      });
      // Each attempt is counted by its outcome (the alert rules read these).
      const counted = (await metrics.registry.getSingleMetric('stsync_webhook_deliveries_total')!.get())
        .values;
      expect(Object.fromEntries(counted.map((v) => [v.labels.outcome, v.value]))).toEqual({
        failed: 1,
        delivered: 1,
      });
      // The secret and the body stay out of Temporal history: ids only.
      const delivery = settled.items[0] as { id: string };
      const history = await historyText(deliveryWorkflowId(testInstallationId, 'webhook', delivery.id));
      expect(history).toContain(delivery.id);
      expect(history).not.toContain(hook.secret.slice(6));
      expect(history).not.toContain('Acme Heating');
      expect(history).not.toContain(receiver.url);
      h.assertNoLeaks();
    } finally {
      await receiver.close();
    }
  });

  it('when the worker is restarted while a delivery waits for its retry, then a new worker delivers it with the same webhook-id', async () => {
    const receiver = await startReceiver([503]);
    try {
      worker = await startWorkerWithNotifications();
      const taskQueue = worker.taskQueue;
      dispatcher = await startDispatcherFor(taskQueue);
      const companyId = await createCompany(h);
      const hook = await createWebhook({ url: receiver.url, events: ['schedule.auto_paused'] });
      await emit(h.orm, 'schedule.auto_paused', companyId);
      await waitFor('the failed first attempt', () => receiver.requests.length >= 1);
      const pending = await waitFor('the attempt recorded', async () => {
        const res = await h.call('get', `/api/webhooks/${hook.id}/deliveries`);
        return res.body.items[0]?.attempts === 1 && res.body.items[0];
      });
      expect(pending).toMatchObject({ status: 'pending', lastResponseCode: 503 });
      expect(Date.parse(pending.nextAttemptAt)).toBeGreaterThan(Date.parse(pending.createdAt));

      await worker.stop();
      worker = undefined;
      await new Promise((r) => setTimeout(r, 2_500)); // past the retry time: nobody polls
      expect(receiver.requests).toHaveLength(1);

      worker = await startWorkerWithNotifications(taskQueue);
      await waitFor('the retry by the new worker', () => receiver.requests.length >= 2);
      expect(receiver.requests[1]!.headers['webhook-id']).toBe(receiver.requests[0]!.headers['webhook-id']);
      new Webhook(hook.secret).verify(
        receiver.requests[1]!.body,
        receiver.requests[1]!.headers as Record<string, string>,
      );
      const done = await waitFor('succeeded', async () => {
        const res = await h.call('get', `/api/webhooks/${hook.id}/deliveries`);
        return res.body.items[0]?.status === 'succeeded' && res.body.items[0];
      });
      expect(done.attempts).toBe(2);
    } finally {
      await receiver.close();
    }
  });

  it('when the receiver does not answer in time, then the attempt counts as failed and is retried with the same webhook-id', async () => {
    const receiver = await startReceiver([0]);
    try {
      worker = await startWorkerWithNotifications(undefined, 1_000);
      dispatcher = await startDispatcherFor(worker.taskQueue);
      const companyId = await createCompany(h);
      const hook = await createWebhook({ url: receiver.url, events: ['freshness.stale'] });
      await emit(h.orm, 'freshness.stale', companyId);
      const done = await waitFor('succeeded', async () => {
        const res = await h.call('get', `/api/webhooks/${hook.id}/deliveries`);
        return res.body.items[0]?.status === 'succeeded' && res.body.items[0];
      });
      expect(done).toMatchObject({ attempts: 2, lastResponseCode: 200 });
      expect(receiver.requests).toHaveLength(2);
      expect(receiver.requests[1]!.headers['webhook-id']).toBe(receiver.requests[0]!.headers['webhook-id']);
      const attemptLogs = h.logs.filter((l) => l.includes('retrying') && l.includes(done.messageId));
      expect(attemptLogs.join('\n')).toMatch(/No answer within 1 s/);
    } finally {
      await receiver.close();
    }
  });

  it('when events stay undispatched or deliveries pending past the threshold, then the status endpoint counts them and the dispatcher logs an error', async () => {
    const companyId = await createCompany(h);
    const hook = await createWebhook({ url: 'https://hooks.example.test/x', events: ['sync.failed'] });
    const sql = h.orm.em.getConnection();
    await sql.execute(
      `insert into outbox_events (type, company_id, payload, created_at) values
         ('freshness.stale', ?, '{}', now() - interval '2 hours'), ('freshness.stale', ?, '{}', now())`,
      [companyId, companyId],
    );
    await sql.execute(
      `insert into webhook_deliveries (webhook_id, event_type, message_id, body, status, created_at, workflow_started_at) values
         (?, 'sync.failed', 'msg_late', '{}', 'pending', now() - interval '2 hours', now()),
         (?, 'sync.failed', 'msg_gave_up', '{}', 'failed', now() - interval '2 hours', now())`,
      [hook.id, hook.id],
    );
    const status = await h.call('get', '/api/notifications/status', { token: await h.token('viewer') });
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      thresholdMinutes: 30,
      undispatchedEvents: 1,
      lateDeliveries: 1,
      failedDeliveries: 1,
    });
    expect(status.body.oldestUndispatchedAt).not.toBeNull();

    // The dispatcher reports what is late at error level (and dispatches the events).
    dispatcher = await startDispatcherFor(`no-worker-${hook.id}`);
    const line = await waitFor('the late report', () =>
      h.logs.find((l) => l.includes('notifications are late')),
    );
    expect(JSON.parse(line)).toMatchObject({ level: 50, lateDeliveries: 1, thresholdMinutes: 30 });
    await waitFor('dispatched', async () => {
      const again = await h.call('get', '/api/notifications/status');
      return again.body.undispatchedEvents === 0;
    });
  });

  it("when a company switches its notifications flag off, then its events reach no webhook while another company's still do", async () => {
    const receiver = await startReceiver();
    try {
      worker = await startWorkerWithNotifications();
      dispatcher = await startDispatcherFor(worker.taskQueue);
      const quiet = await createCompany(h, 'Quiet Co');
      const loud = await createCompany(h, 'Loud Co');
      await createWebhook({ url: receiver.url, events: ['sync.failed'] });
      const off = await h.call('put', '/api/flags/notifications', {
        body: { value: false, companyId: quiet },
      });
      expect(off.status).toBe(200);
      await emit(h.orm, 'sync.failed', quiet);
      await emit(h.orm, 'sync.failed', loud);
      await waitFor("the loud company's delivery", () => receiver.requests.length >= 1);
      await waitFor('both events dispatched', async () => {
        const rows = await h.orm.em
          .fork()
          .getConnection()
          .execute<{ n: string }[]>('select count(*) as n from outbox_events where dispatched_at is null');
        return Number(rows[0]!.n) === 0;
      });
      await new Promise((r) => setTimeout(r, 1_000));
      expect(receiver.requests.map((r) => JSON.parse(r.body).data.companyId)).toEqual([loud]);
    } finally {
      await receiver.close();
    }
  });

  it('when the dispatcher repeats its work after a crash, then each subscriber gets each event once', async () => {
    const receiver = await startReceiver();
    try {
      worker = await startWorkerWithNotifications();
      const companyId = await createCompany(h);
      const otherCompany = await createCompany(h, 'Other Co');
      const hook = await createWebhook({
        url: receiver.url,
        events: ['sync.failed', 'sync.succeeded'],
        companyId,
      });
      const d = createDispatcher({
        orm: h.orm,
        databaseUrl: await testDatabaseUrl(),
        temporal: h.temporal,
        taskQueue: worker.taskQueue,
        installationId: testInstallationId,
        logger,
        email: { enabled: false, to: [], events: [] },
        downstreamChannel: undefined,
        undeliveredAlertMinutes: 30,
        retry,
      });
      await emit(h.orm, 'sync.failed', companyId);
      await emit(h.orm, 'sync.succeeded', companyId);
      await emit(h.orm, 'sync.failed', otherCompany); // another company's: not this webhook's
      await emit(h.orm, 'freshness.stale', companyId); // not subscribed
      const [a, b] = await Promise.all([d.dispatchPending(), d.dispatchPending()]);
      expect(a.dispatched + b.dispatched).toBe(4);
      await waitFor('two deliveries', () => receiver.requests.length >= 2);

      // A crash after the workflows started but before their rows were marked: the next run
      // starts them again, and Temporal refuses the duplicates (even of finished workflows).
      await waitFor('both succeeded', async () => {
        const res = await h.call('get', `/api/webhooks/${hook.id}/deliveries`);
        return (
          res.body.items.every((i: { status: string }) => i.status === 'succeeded') && res.body.total === 2
        );
      });
      await h.orm.em.getConnection().execute('update webhook_deliveries set workflow_started_at = null');
      await h.orm.em.getConnection().execute('update outbox_events set dispatched_at = null');
      const again = await d.dispatchPending();
      expect(again.dispatched).toBe(4);
      expect(again.started).toBe(0);
      await new Promise((r) => setTimeout(r, 1_500));
      expect(receiver.requests).toHaveLength(2);
      expect(new Set(receiver.requests.map((r) => JSON.parse(r.body).type))).toEqual(
        new Set(['sync.failed', 'sync.succeeded']),
      );
      expect(await h.count('webhook_deliveries')).toBe(2);
    } finally {
      await receiver.close();
    }
  });

  it('when /test is called, then one signed webhook.test message is sent and listed with its outcome', async () => {
    const receiver = await startReceiver([200, 500]);
    try {
      const hook = await createWebhook({ url: receiver.url, events: ['sync.failed'], description: 'ops' });
      const ok = await h.call('post', `/api/webhooks/${hook.id}/test`);
      expect(ok.status, ok.text).toBe(200);
      expect(ok.body).toMatchObject({
        eventType: 'webhook.test',
        status: 'succeeded',
        attempts: 1,
        lastResponseCode: 200,
      });
      expect(receiver.requests).toHaveLength(1);
      const payload = new Webhook(hook.secret).verify(
        receiver.requests[0]!.body,
        receiver.requests[0]!.headers as Record<string, string>,
      ) as { type: string };
      expect(payload.type).toBe('webhook.test');

      const failed = await h.call('post', `/api/webhooks/${hook.id}/test`);
      expect(failed.body).toMatchObject({ status: 'failed', lastResponseCode: 500, nextAttemptAt: null });

      const list = await h.call('get', `/api/webhooks/${hook.id}/deliveries`);
      expect(list.body.total).toBe(2);
      expect(list.body.items.map((i: { status: string }) => i.status)).toEqual(['failed', 'succeeded']);
      const audit = await h.call('get', '/api/audit?action=webhook.test');
      expect(audit.body.items.length).toBeGreaterThanOrEqual(2);
      h.assertNoLeaks();
    } finally {
      await receiver.close();
    }
  });

  it('when webhooks are created, listed, changed and deleted, then the secret shows once and company tokens see their own only', async () => {
    const acme = await createCompany(h);
    const other = await createCompany(h, 'Other Co');
    const global = await createWebhook({ url: 'https://hooks.example.test/a', events: ['sync.failed'] });
    expect(global.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const acmeToken = await h.token('admin', acme);
    const mine = await createWebhook(
      { url: 'https://hooks.example.test/b', events: ['sync.failed'] },
      acmeToken,
    );
    await createWebhook({ url: 'https://hooks.example.test/c', events: ['sync.failed'], companyId: other });

    const all = await h.call('get', '/api/webhooks');
    expect(all.body.items).toHaveLength(3);
    const own = await h.call('get', '/api/webhooks', { token: acmeToken });
    expect(own.body.items.map((w: { id: number }) => w.id)).toEqual([mine.id]);
    expect(own.body.items[0].companyId).toBe(acme);
    expect((await h.call('get', `/api/webhooks/${global.id}`, { token: acmeToken })).status).toBe(404);
    const foreign = await h.call('post', '/api/webhooks', {
      token: acmeToken,
      body: { url: 'https://hooks.example.test/d', events: ['sync.failed'], companyId: other },
    });
    expect(foreign.status).toBe(404);
    expect((await h.call('get', '/api/webhooks', { token: await h.token('operator') })).status).toBe(403);

    const got = await h.call('get', `/api/webhooks/${global.id}`);
    expect(got.body).not.toHaveProperty('secret');
    const patched = await h.call('patch', `/api/webhooks/${global.id}`, {
      body: { events: ['sync.failed', 'freshness.stale'], enabled: false, description: 'night shift' },
    });
    expect(patched.body).toMatchObject({
      enabled: false,
      description: 'night shift',
      events: ['sync.failed', 'freshness.stale'],
    });
    const bad = await h.call('post', '/api/webhooks', { body: { url: 'https://x.test', events: ['nope'] } });
    expect(bad.status).toBe(400);
    expect((await h.call('delete', `/api/webhooks/${global.id}`)).status).toBe(204);
    expect((await h.call('get', `/api/webhooks/${global.id}`)).status).toBe(404);
    const audit = await h.call('get', '/api/audit?action=webhook.create');
    expect(audit.body.items.length).toBeGreaterThanOrEqual(3);
    // The secret is stored encrypted, not as given.
    const rows = await h.orm.em
      .getConnection()
      .execute<{ secret_encrypted: string }[]>('select secret_encrypted from webhook_subscriptions');
    for (const r of rows) expect(r.secret_encrypted).not.toContain('whsec_');
    h.assertNoLeaks();
  });
});

describe('the SSRF rule', () => {
  it('when private networks are not allowed, then private, loopback and link-local URLs and plain http are refused, at creation and at delivery', async () => {
    const strict = await startApiHarness({ api: { webhooks: { policy: { allowPrivateNetworks: false } } } });
    const receiver = await startReceiver();
    try {
      for (const url of [
        'https://127.0.0.1/hook',
        'https://localhost/hook',
        'https://10.1.2.3/hook',
        'https://192.168.0.10/hook',
        'https://169.254.169.254/latest/meta-data',
        'https://[::1]/hook',
        'https://[fe80::1]/hook',
        'https://[::ffff:10.0.0.1]/hook',
        'http://93.184.215.14/hook',
        'ftp://93.184.215.14/hook',
      ]) {
        const res = await strict.call('post', '/api/webhooks', { body: { url, events: ['sync.failed'] } });
        expect(res.status, url).toBe(422);
        expect(res.body.error, url).toBe('webhook_url_refused');
      }
      const ok = await strict.call('post', '/api/webhooks', {
        body: { url: 'https://93.184.215.14/hook', events: ['sync.failed'] },
      });
      expect(ok.status).toBe(201);
      const moved = await strict.call('patch', `/api/webhooks/${ok.body.id}`, {
        body: { url: 'https://10.0.0.1/x' },
      });
      expect(moved.status).toBe(422);

      // At delivery: a name that resolves to loopback is refused before any byte is sent.
      const refused = await postWebhook({
        url: `https://localhost:${receiver.port}/hooks`,
        secret: `whsec_${Buffer.alloc(32, 3).toString('base64')}`,
        messageId: 'msg_test',
        body: '{}',
        policy: { allowPrivateNetworks: false },
        timeoutMs: 2_000,
      });
      expect(refused).toMatchObject({ ok: false, status: null });
      expect(refused.error).toMatch(/loopback/);
      // The embedded default allows loopback, over http too.
      const local = await postWebhook({
        url: `http://localhost:${receiver.port}/hooks`,
        secret: `whsec_${Buffer.alloc(32, 3).toString('base64')}`,
        messageId: 'msg_test',
        body: '{}',
        policy: { allowPrivateNetworks: false, allowLoopback: true },
        timeoutMs: 2_000,
      });
      expect(local).toMatchObject({ ok: true, status: 200 });
      expect(receiver.requests).toHaveLength(1);
    } finally {
      await receiver.close();
      await strict.close();
    }
  });
});

describe('email', () => {
  it('when a failure is emitted, then the company and global recipients get one plain email with the link, and successes are not sent by default', async () => {
    worker = await startWorkerWithNotifications();
    dispatcher = await startDispatcherFor(worker.taskQueue, { to: ['oncall@example.test'] });
    const companyId = await createCompany(h);
    const put = await h.call('put', `/api/companies/${companyId}/notification-recipients`, {
      body: {
        recipients: [
          { email: 'Owner@Acme.test' },
          { email: 'all@acme.test', events: ['sync.succeeded', 'sync.failed'] },
        ],
      },
    });
    expect(put.status, put.text).toBe(200);
    expect(put.body.recipients).toHaveLength(2);
    expect(
      put.body.recipients.find((r: { email: string }) => r.email === 'owner@acme.test').events,
    ).toContain('sync.failed');
    const mailsBefore = smtp.mails.length;

    await emit(h.orm, 'sync.succeeded', companyId, { syncRunId: 41 });
    await emit(h.orm, 'sync.failed', companyId, {
      syncRunId: 42,
      environment: 'production',
      tenantId: '123456789',
      link: 'http://console.test/syncs/42',
      message: 'The run failed: ServiceTitan refused the credentials. Test the credential.',
    });
    // failed → owner, all, oncall; succeeded → all.
    await waitFor('four emails', () => smtp.mails.length - mailsBefore >= 4);
    await new Promise((r) => setTimeout(r, 1_000));
    const mails = smtp.mails.slice(mailsBefore);
    expect(mails).toHaveLength(4);
    const failed = mails.filter((m) => m.raw.includes('Sync failed'));
    expect(failed.flatMap((m) => m.to).sort()).toEqual([
      'all@acme.test',
      'oncall@example.test',
      'owner@acme.test',
    ]);
    const one = failed[0]!.raw.replace(/\r?\n[ \t]+/g, ' '); // unfolded headers
    expect(one).toMatch(
      /^Subject: \[servicetitan-sync\] Sync failed: Acme Heating, production, tenant 123456789/m,
    );
    expect(one).toContain('http://console.test/syncs/42');
    expect(one).toContain('refused the credentials');
    const succeeded = mails.filter((m) => m.raw.includes('Sync succeeded'));
    expect(succeeded.flatMap((m) => m.to)).toEqual(['all@acme.test']);
    for (const m of mails) for (const secret of h.watched) expect(m.raw.includes(secret)).toBe(false);
    const rows = await h.orm.em
      .getConnection()
      .execute<{ status: string }[]>(`select status from email_deliveries`);
    expect(rows.every((r) => r.status === 'succeeded')).toBe(true);
  });
});

describe('downstream dispatch', () => {
  it('when company_data.updated events are dispatched, then a NOTIFY listener gets each event id once, and the row names its environment', async () => {
    const listener = new pg.Client({ connectionString: await testDatabaseUrl() });
    await listener.connect();
    const received: string[] = [];
    listener.on('notification', (n) => {
      if (n.channel === DOWNSTREAM) received.push(n.payload ?? '');
    });
    await listener.query(`listen ${DOWNSTREAM}`);
    try {
      worker = await startWorkerWithNotifications();
      dispatcher = await startDispatcherFor(worker.taskQueue);
      // A second dispatcher, as a second worker would run: the lease keeps them from doubling.
      const second = await startDispatcherFor(worker.taskQueue);
      const companyId = await createCompany(h);
      await emit(h.orm, 'company_data.updated', companyId, { environment: 'integration', syncRunId: 1 });
      await emit(h.orm, 'company_data.updated', companyId, { environment: 'production', syncRunId: 2 });
      await emit(h.orm, 'sync.succeeded', companyId);
      await waitFor('two notifications', () => received.length >= 2);
      await new Promise((r) => setTimeout(r, 1_500));
      await second.stop();
      expect(received).toHaveLength(2);
      expect(new Set(received).size).toBe(2);
      const rows = await h.orm.em
        .getConnection()
        .execute<
          { id: string; type: string; payload: { environment: string }; dispatched_at: Date | null }[]
        >(
          `select id, type, payload, dispatched_at from outbox_events where id in (${received.map(() => '?').join(',')}) order by id`,
          received,
        );
      expect(rows.map((r) => r.type)).toEqual(['company_data.updated', 'company_data.updated']);
      expect(rows.map((r) => r.payload.environment)).toEqual(['integration', 'production']);
      expect(rows.every((r) => r.dispatched_at !== null)).toBe(true);
      const status = await h.call('get', '/api/notifications/status');
      expect(status.body).toMatchObject({ undispatchedEvents: 0, lateDeliveries: 0 });
    } finally {
      await listener.end();
    }
  });
});
