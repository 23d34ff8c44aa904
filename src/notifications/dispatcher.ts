import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import pg from 'pg';
import { OUTBOX_CHANNEL } from '../db/entities/index.js';
import { flagsOf } from '../flags/index.js';
import type { Logger } from '../logger.js';
import {
  type DeliveryChannel,
  type DeliveryRetry,
  defaultDeliveryRetry,
  deliveryWorkflowId,
} from '../workflows/definitions.js';
import { notificationDeliveryWorkflow } from '../workflows/index.js';
import { renderEmail } from './email.js';
import { DOWNSTREAM_EVENT } from './events.js';
import { newMessageId } from './webhook-sender.js';

/**
 * The outbox dispatcher: reads undispatched `outbox_events` in id order, fans each out to the
 * subscribers it matches (webhooks by event type and company, email recipients), sends the
 * downstream `NOTIFY` of `company_data.updated`, marks the event dispatched, and starts one
 * Temporal workflow per delivery.
 *
 * Where it runs: a loop in every worker process, not a workflow. Waiting on LISTEN/NOTIFY needs a
 * connection held open for ever, which in an activity means a never-ending activity with
 * heartbeats and a workflow that continues-as-new; a loop beside the worker is simpler and needs
 * no lease service. The lease is a transaction-level advisory lock: any number of workers run the
 * loop, one at a time dispatches (so events go out in order), and a crashed holder's lock ends
 * with its connection. Durability does not depend on the loop: the fan-out, the NOTIFY and the
 * mark commit in one transaction, and the delivery rows' unique keys (event, subscriber) plus
 * the workflow ids (installation + delivery id) make every step after a crash happen once.
 */
export interface DispatcherDeps {
  orm: MikroORM;
  /** For the LISTEN connection (a pool's connections cannot hold one). */
  databaseUrl: string;
  temporal: Client;
  taskQueue: string;
  installationId: string;
  logger: Logger;
  /** Global recipients (NOTIFY_EMAIL_TO) and what they get; email only when SMTP is configured. */
  email: { enabled: boolean; to: readonly string[]; events: readonly string[] };
  /** DOWNSTREAM_NOTIFY_CHANNEL: `company_data.updated` event ids are NOTIFYed there. */
  downstreamChannel: string | undefined;
  undeliveredAlertMinutes: number;
  retry?: DeliveryRetry;
  /** The poll fallback, in case a notification is missed (default 5 s). */
  pollMs?: number;
}

const BATCH = 100;
/** Any constant: the advisory lock key of the dispatcher lease. */
const LEASE_KEY = 7_301_001;

interface OutboxRow {
  id: string;
  type: string;
  company_id: number;
  payload: Record<string, unknown>;
  created_at: Date;
}

/** What is late: for logs, the status endpoint and whoever shows it (dashboard, metrics). */
export interface DeliveryBacklog {
  thresholdMinutes: number;
  undispatchedEvents: number;
  oldestUndispatchedAt: string | null;
  lateDeliveries: number;
  failedDeliveries: number;
}

/** Events not dispatched, and deliveries neither done nor given up, older than the threshold. */
export async function deliveryBacklog(em: EntityManager, thresholdMinutes: number): Promise<DeliveryBacklog> {
  const [row] = await em
    .getConnection()
    .execute<{ undispatched: string; oldest: Date | null; late: string; failed: string }[]>(
      `select
      (select count(*) from outbox_events where dispatched_at is null and created_at < now() - make_interval(mins => ?)) as undispatched,
      (select min(created_at) from outbox_events where dispatched_at is null) as oldest,
      (select count(*) from webhook_deliveries where status = 'pending' and created_at < now() - make_interval(mins => ?))
        + (select count(*) from email_deliveries where status = 'pending' and created_at < now() - make_interval(mins => ?)) as late,
      (select count(*) from webhook_deliveries where status = 'failed')
        + (select count(*) from email_deliveries where status = 'failed') as failed`,
      [thresholdMinutes, thresholdMinutes, thresholdMinutes],
    );
  return {
    thresholdMinutes,
    undispatchedEvents: Number(row?.undispatched ?? 0),
    oldestUndispatchedAt: row?.oldest ? new Date(row.oldest).toISOString() : null,
    lateDeliveries: Number(row?.late ?? 0),
    failedDeliveries: Number(row?.failed ?? 0),
  };
}

export function createDispatcher(deps: DispatcherDeps) {
  const log = deps.logger.child({ component: 'dispatcher' });
  const retry = deps.retry ?? defaultDeliveryRetry;

  /** One batch in one transaction; returns how many events it dispatched. */
  async function dispatchBatch(): Promise<number> {
    return deps.orm.em.fork().transactional(async (tem) => {
      const conn = tem.getConnection();
      const tx = tem.getTransactionContext();
      const run = <T extends object[] = object[]>(sql: string, params: unknown[] = []) =>
        conn.execute<T>(sql, params, 'all', tx);
      const [lease] = await run<{ held: boolean }[]>('select pg_try_advisory_xact_lock(?) as held', [
        LEASE_KEY,
      ]);
      if (!lease?.held) return 0;
      const events = await run<OutboxRow[]>(
        `select id, type, company_id, payload, created_at from outbox_events
         where dispatched_at is null order by id limit ${BATCH}`,
      );
      if (events.length === 0) return 0;
      const webhooks = await run<{ id: number; company_id: number | null; events: string[] }[]>(
        'select id, company_id, events from webhook_subscriptions where enabled',
      );
      const companies = [...new Set(events.map((e) => e.company_id))];
      const recipients = deps.email.enabled
        ? await run<{ company_id: number; email: string; events: string[] }[]>(
            `select company_id, email, events from notification_recipients where company_id in (${companies.map(() => '?').join(',')})`,
            companies,
          )
        : [];
      // The `notifications` flag (src/flags) silences a company's webhooks and email; its
      // downstream event still goes out (that is data flow, not a notification).
      const silenced = new Set<number>();
      for (const company of companies)
        if (!(await flagsOf(tem).forCompany(company)).notifications) silenced.add(company);
      for (const event of events) {
        const data = { companyId: event.company_id, ...event.payload };
        const muted = silenced.has(event.company_id) && event.type !== DOWNSTREAM_EVENT;
        const body = JSON.stringify({
          type: event.type,
          timestamp: new Date(event.created_at).toISOString(),
          data,
        });
        for (const hook of muted ? [] : webhooks) {
          if (hook.company_id !== null && hook.company_id !== event.company_id) continue;
          if (!hook.events.includes(event.type)) continue;
          await run(
            `insert into webhook_deliveries (webhook_id, outbox_event_id, event_type, message_id, body, created_at)
             values (?, ?, ?, ?, ?, now()) on conflict (outbox_event_id, webhook_id) do nothing`,
            [hook.id, event.id, event.type, newMessageId(), body],
          );
        }
        const to = new Set<string>();
        if (deps.email.enabled && !muted) {
          if (deps.email.events.includes(event.type)) for (const address of deps.email.to) to.add(address);
          for (const r of recipients)
            if (r.company_id === event.company_id && r.events.includes(event.type)) to.add(r.email);
        }
        if (to.size) {
          const { subject, text } = renderEmail(event.type, data);
          for (const address of to)
            await run(
              `insert into email_deliveries (outbox_event_id, company_id, recipient, event_type, subject, text, created_at)
               values (?, ?, ?, ?, ?, ?, now()) on conflict (outbox_event_id, recipient) do nothing`,
              [event.id, event.company_id, address, event.type, subject, text],
            );
        }
        // Sent at commit, with the mark: once per event (a rolled-back batch sends nothing).
        if (event.type === DOWNSTREAM_EVENT && deps.downstreamChannel)
          await run('select pg_notify(?, ?)', [deps.downstreamChannel, event.id]);
      }
      await run(
        `update outbox_events set dispatched_at = now() where id in (${events.map(() => '?').join(',')})`,
        [...events.map((e) => e.id)],
      );
      log.debug({ events: events.length }, 'outbox events dispatched');
      return events.length;
    });
  }

  /**
   * Starts the workflow of every delivery that has none yet. A start repeated after a crash (the
   * workflow started, the row not yet marked) is refused by Temporal under the same id, even
   * once that workflow has ended.
   */
  async function startPending(): Promise<number> {
    const em = deps.orm.em.fork();
    let started = 0;
    for (const [channel, table] of [
      ['webhook', 'webhook_deliveries'],
      ['email', 'email_deliveries'],
    ] as [DeliveryChannel, string][]) {
      const rows = await em
        .getConnection()
        .execute<{ id: string }[]>(
          `select id from ${table} where status = 'pending' and workflow_started_at is null order by id limit 500`,
        );
      for (const { id } of rows) {
        const deliveryId = String(id);
        try {
          await deps.temporal.workflow.start(notificationDeliveryWorkflow, {
            workflowId: deliveryWorkflowId(deps.installationId, channel, deliveryId),
            taskQueue: deps.taskQueue,
            args: [{ channel, deliveryId, retry }],
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          });
          started += 1;
        } catch (error) {
          if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        }
        await em
          .getConnection()
          .execute(`update ${table} set workflow_started_at = now() where id = ?`, [deliveryId]);
      }
    }
    return started;
  }

  /** Dispatches everything pending and starts its deliveries (tests call it directly). */
  async function dispatchPending(): Promise<{ dispatched: number; started: number }> {
    let dispatched = 0;
    for (;;) {
      const n = await dispatchBatch();
      dispatched += n;
      if (n < BATCH) break;
    }
    const started = await startPending();
    return { dispatched, started };
  }

  let lastBacklogCheck = 0;
  async function reportBacklog(): Promise<void> {
    if (Date.now() - lastBacklogCheck < 60_000) return;
    lastBacklogCheck = Date.now();
    const backlog = await deliveryBacklog(deps.orm.em.fork(), deps.undeliveredAlertMinutes);
    if (backlog.undispatchedEvents > 0 || backlog.lateDeliveries > 0)
      log.error(
        backlog,
        'notifications are late: events undispatched or deliveries pending past the threshold',
      );
  }

  let stopping = false;
  let wake: (() => void) | undefined;
  let loop: Promise<void> | undefined;
  let listener: pg.Client | undefined;

  async function listen(): Promise<void> {
    try {
      const client = new pg.Client({ connectionString: deps.databaseUrl });
      client.on('error', (error) => {
        log.warn({ err: error }, 'dispatcher LISTEN connection lost; polling until it is back');
        if (listener === client) listener = undefined;
      });
      client.on('notification', () => wake?.());
      await client.connect();
      await client.query(`listen ${OUTBOX_CHANNEL}`);
      listener = client;
    } catch (error) {
      log.warn({ err: error }, 'dispatcher could not LISTEN; polling');
    }
  }

  return {
    dispatchPending,
    /** Runs the loop until `stop()`: wakes on NOTIFY, or every `pollMs` regardless. */
    start(): void {
      if (loop) return;
      loop = (async () => {
        while (!stopping) {
          if (!listener) await listen();
          try {
            await dispatchPending();
            await reportBacklog();
          } catch (error) {
            log.error({ err: error }, 'dispatch failed; trying again');
          }
          if (stopping) break;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, deps.pollMs ?? 5_000);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = undefined;
        }
      })();
    },
    async stop(): Promise<void> {
      stopping = true;
      wake?.();
      await loop;
      await listener?.end().catch(() => {});
      listener = undefined;
    },
  };
}

export type Dispatcher = ReturnType<typeof createDispatcher>;
