import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Company, ServiceTitanCredential, SyncRun } from '../../../src/db/entities/index.js';
import type { RunningWorker } from '../../../src/temporal/worker.js';
import { syncTenantWorkflow } from '../../../src/workflows/index.js';
import {
  connectTestOrm,
  connectTestTemporal,
  startTestWorker,
  truncateAll,
  uniqueId,
} from '../../support/integration.js';

describe('workflow round trip through the real Temporal server', () => {
  let orm: MikroORM;
  let temporal: { client: Client; close: () => Promise<void> };
  let worker: RunningWorker & { taskQueue: string };

  beforeAll(async () => {
    orm = await connectTestOrm();
    temporal = await connectTestTemporal();
    worker = await startTestWorker(orm);
  });
  afterAll(async () => {
    await worker?.stop();
    await temporal?.close();
    await orm?.close();
  });
  beforeEach(() => truncateAll(orm));

  it('when a sync workflow runs, then its activities write the run row through MikroORM', async () => {
    const em = orm.em.fork();
    const company = em.create(Company, { name: 'Acme Heating', timeZone: 'America/Chicago' });
    const credential = em.create(ServiceTitanCredential, {
      company,
      environment: 'integration',
      tenantId: '1234567890123',
      clientIdEncrypted: 'enc-id',
      clientSecretEncrypted: 'enc-secret',
    });
    const run = em.create(SyncRun, { credential, trigger: 'manual', streams: [], mode: 'incremental' });
    await em.flush();

    const workflowId = uniqueId('round-trip');
    const result = await temporal.client.workflow.execute(syncTenantWorkflow, {
      taskQueue: worker.taskQueue,
      workflowId,
      args: [
        {
          syncRunId: run.id,
          credentialId: credential.id,
          streams: [],
          mode: 'incremental',
          trigger: 'manual',
        },
      ],
    });

    expect(result).toEqual({ syncRunId: run.id, status: 'completed', warnings: [] });
    const stored = await orm.em.fork().findOneOrFail(SyncRun, run.id);
    expect(stored.status).toBe('completed');
    expect(stored.workflowId).toBe(workflowId);
    expect(stored.runId).toMatch(/[0-9a-f-]{36}/);
    expect(stored.startedAt).toBeInstanceOf(Date);
    expect(stored.finishedAt!.getTime()).toBeGreaterThanOrEqual(stored.startedAt!.getTime());
  });
});
