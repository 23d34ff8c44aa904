import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { Client, Connection } from '@temporalio/client';
import { inject } from 'vitest';
import { createOrm } from '../../src/db/orm.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { type RunningWorker, startWorker } from '../../src/temporal/worker.js';

export const testLogger: Logger = createLogger({
  level: process.env.TEST_LOG_LEVEL ?? 'silent',
  name: 'test',
});

/** Every table the product owns, for truncation between tests. */
const tables = [
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

export async function connectTestOrm(): Promise<MikroORM> {
  return createOrm({ url: inject('databaseUrl') });
}

export async function truncateAll(orm: MikroORM): Promise<void> {
  await orm.em
    .getConnection()
    .execute(`truncate ${tables.map((t) => `"${t}"`).join(', ')} restart identity cascade`);
}

export async function connectTestTemporal(): Promise<{ client: Client; close: () => Promise<void> }> {
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  return { client: new Client({ connection }), close: () => connection.close() };
}

/** A worker on a task queue of its own, so tests never pick up each other's tasks. */
export async function startTestWorker(orm: MikroORM): Promise<RunningWorker & { taskQueue: string }> {
  const taskQueue = `test-${randomUUID()}`;
  const worker = await startWorker({
    address: inject('temporalAddress'),
    namespace: 'default',
    taskQueue,
    orm,
    logger: testLogger,
    workflowBundle: { codePath: inject('workflowBundlePath') },
  });
  return Object.assign(worker, { taskQueue });
}

export function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}
