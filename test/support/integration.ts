import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { inject } from 'vitest';
import type { ActivityDeps } from '../../src/activities/index.js';
import type { AlertPolicy } from '../../src/alerts/policy.js';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { createOrm } from '../../src/db/orm.js';
import { startTemporalDevServer, type TemporalDevServer } from '../../src/infra/temporal-dev-server.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { createActivityDeps } from '../../src/main/activity-deps.js';
import type { Metrics } from '../../src/metrics/index.js';
import { type RunningWorker, startWorker } from '../../src/temporal/worker.js';
import { withDatabase } from './database.js';

export const testLogger: Logger = createLogger({
  level: process.env.TEST_LOG_LEVEL ?? 'silent',
  name: 'test',
});

/** Every table the product owns, for truncation between tests. */
const tables = [
  'reconciliation_differences',
  'reconciliations',
  'webhook_deliveries',
  'webhook_subscriptions',
  'email_deliveries',
  'notification_recipients',
  'audit_events',
  'servicetitan_breakers',
  'api_tokens',
  'outbox_events',
  'skipped_records',
  'members_stream',
  'invoices_stream',
  'servicetitan_customer_contacts',
  'sync_schedules',
  'sync_stream_state',
  'servicetitan_sync_runs',
  'servicetitan_credentials',
  'companies',
];

let fileDatabase: Promise<string> | undefined;

/**
 * This test file's installation id, written into its database clone: clones of one template
 * would otherwise share the template's, as a restored backup would.
 */
export const testInstallationId = `t${randomUUID().replace(/-/g, '').slice(0, 11)}`;

/**
 * This test file's own database, cloned from the run's migrated one, so files running in
 * parallel never truncate each other's rows. It gets the file's own installation id, so its
 * workflow and schedule ids never collide with another file's on the shared Temporal server; its
 * ids also start at a random offset, which keeps test workflows apart within a file's history.
 */
export function testDatabaseUrl(): Promise<string> {
  fileDatabase ??= (async () => {
    const templateUrl = inject('databaseUrl');
    const template = new URL(templateUrl).pathname.slice(1);
    const name = `${template}_f${randomUUID().slice(0, 8)}`;
    const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
    await admin.connect();
    try {
      await admin.query(`create database "${name}" template "${template}"`);
    } finally {
      await admin.end();
    }
    const url = withDatabase(templateUrl, name);
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      const offset = (1 + Math.floor(Math.random() * 1_000_000)) * 1_000;
      const { rows } = await db.query<{ name: string }>(
        `select sequencename as name from pg_sequences where schemaname = 'public'`,
      );
      for (const row of rows)
        await db.query(`alter sequence "${row.name}" start with ${offset} restart with ${offset}`);
      await db.query('update installation set installation_id = $1', [testInstallationId]);
    } finally {
      await db.end();
    }
    return url;
  })();
  return fileDatabase;
}

export async function connectTestOrm(): Promise<MikroORM> {
  return createOrm({ url: await testDatabaseUrl() });
}

/** Empties the product's tables; ids keep counting up, so no workflow id is ever reused. */
export async function truncateAll(orm: MikroORM): Promise<void> {
  await orm.em.getConnection().execute(`truncate ${tables.map((t) => `"${t}"`).join(', ')} cascade`);
}

export async function connectTestTemporal(
  address = inject('temporalAddress'),
): Promise<{ client: Client; close: () => Promise<void> }> {
  const connection = await Connection.connect({ address });
  return { client: new Client({ connection }), close: () => connection.close() };
}

/**
 * A dev server of the test's own that suggests continue-as-new after 150 events, so a run of a
 * few hundred pages goes through several executions.
 */
export function startShortHistoryTemporal(): Promise<TemporalDevServer> {
  return startTemporalDevServer({
    logger: testLogger,
    readyTimeoutMs: 90_000,
    extraArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=150'],
  });
}

/** The encryption key every integration test uses. */
export const testKeys = [{ version: 't1', key: Buffer.alloc(32, 42) }] as const;
export const testSecrets = createSecretBox(testKeys);

export interface TestWorkerOptions {
  /** Where the worker's ServiceTitan client points; default: nowhere reachable. */
  serviceTitan?: { appKey: string; url: string; rateLimitPerSecond?: number; maxAttempts?: number };
  chunkMs?: number;
  taskQueue?: string;
  /** The worker's metrics registry (default: one of its own). */
  metrics?: Metrics;
  /** `host:port` of the Temporal SDK's Prometheus exporter (only the process's first worker). */
  temporalMetricsAddress?: string;
  breaker?: { failureThreshold: number; cooldownMs: number };
  /** Another Temporal server than the run's shared dev server. */
  temporalAddress?: string;
  /** Default: the silent test logger. */
  logger?: Logger;
  /** Webhook and email delivery activities (src/notifications). */
  notifications?: ActivityDeps['notifications'];
  /** When runs raise alerts (default: the product's defaults). */
  alerts?: AlertPolicy;
}

/** A worker on a task queue of its own, so tests never pick up each other's tasks. */
export async function startTestWorker(
  orm: MikroORM,
  options: TestWorkerOptions = {},
): Promise<RunningWorker & { taskQueue: string }> {
  const taskQueue = options.taskQueue ?? `test-${randomUUID()}`;
  const url = options.serviceTitan?.url ?? 'http://127.0.0.1:9';
  const endpoints = { authUrl: url, apiUrl: url };
  const activities = createActivityDeps({
    orm,
    logger: options.logger ?? testLogger,
    keys: testKeys,
    serviceTitan: {
      appKey: options.serviceTitan?.appKey ?? 'test-app-key',
      environments: { integration: endpoints, production: endpoints },
      ...(options.serviceTitan?.rateLimitPerSecond
        ? { rateLimitPerSecond: options.serviceTitan.rateLimitPerSecond }
        : {}),
      ...(options.serviceTitan?.maxAttempts ? { maxAttempts: options.serviceTitan.maxAttempts } : {}),
      ...(options.breaker ? { breaker: options.breaker } : {}),
    },
    ...(options.chunkMs ? { chunkMs: options.chunkMs } : {}),
    ...(options.notifications ? { notifications: options.notifications } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.alerts ? { alerts: options.alerts } : {}),
  });
  const worker = await startWorker({
    address: options.temporalAddress ?? inject('temporalAddress'),
    namespace: 'default',
    taskQueue,
    logger: options.logger ?? testLogger,
    activities,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    ...(options.temporalMetricsAddress ? { temporalMetricsAddress: options.temporalMetricsAddress } : {}),
  });
  return {
    worker: worker.worker,
    done: worker.done,
    taskQueue,
    async stop() {
      activities.drain();
      await worker.stop();
      activities.close();
      await activities.breakersFlushed();
    },
  };
}

export function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}
