import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll } from 'vitest';
import { type Sandbox, type SandboxOptions, startSandbox } from '../../src/sandbox/index.js';
import {
  connectTestOrm,
  connectTestTemporal,
  startTestWorker,
  type TestWorkerOptions,
} from './integration.js';

export interface SyncHarness {
  orm: MikroORM;
  temporal: { client: Client; close: () => Promise<void> };
  sandbox: Sandbox;
  worker: Awaited<ReturnType<typeof startTestWorker>>;
}

/**
 * A file's database, Temporal client, sandbox and a worker pointed at it, started before the
 * file's tests and stopped after them. Fields are filled in `beforeAll`.
 */
export function useSyncHarness(
  sandboxOptions: SandboxOptions,
  workerOptions: Omit<TestWorkerOptions, 'serviceTitan'> = {},
): SyncHarness {
  const h = {} as SyncHarness;
  beforeAll(async () => {
    h.orm = await connectTestOrm();
    h.temporal = await connectTestTemporal();
    h.sandbox = await startSandbox(sandboxOptions);
    h.worker = await startTestWorker(h.orm, {
      ...workerOptions,
      serviceTitan: { appKey: h.sandbox.appKey, url: h.sandbox.url },
    });
  });
  afterAll(async () => {
    await h.worker?.stop();
    await h.sandbox?.close();
    await h.temporal?.close();
    await h.orm?.close();
  });
  return h;
}
