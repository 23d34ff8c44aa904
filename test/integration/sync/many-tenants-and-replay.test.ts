import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SyncRun } from '../../../src/db/entities/index.js';
import { type Sandbox, startSandbox } from '../../../src/sandbox/index.js';
import { startSync } from '../../../src/sync/start-sync.js';
import { CompanyIdKey, TenantIdKey } from '../../../src/temporal/search-attributes.js';
import { createCompanyWithCredential } from '../../support/fixtures.js';
import {
  connectTestOrm,
  connectTestTemporal,
  startTestWorker,
  truncateAll,
} from '../../support/integration.js';

const FIRST_TENANT = 6_400_001;

describe('ten tenants at once, and replay', () => {
  let orm: MikroORM;
  let temporal: { client: Client; close: () => Promise<void> };
  let sandbox: Sandbox;
  let worker: Awaited<ReturnType<typeof startTestWorker>>;

  beforeAll(async () => {
    orm = await connectTestOrm();
    await truncateAll(orm);
    temporal = await connectTestTemporal();
    sandbox = await startSandbox({
      rateLimitPerSecond: 60,
      tenants: Array.from({ length: 10 }, (_, i) => ({
        tenantId: FIRST_TENANT + i,
        customers: 150 + 10 * i,
        invoices: 300 + 20 * i,
      })),
    });
    worker = await startTestWorker(orm, { serviceTitan: { appKey: sandbox.appKey, url: sandbox.url } });
  });
  afterAll(async () => {
    await worker?.stop();
    await sandbox?.close();
    await temporal?.close();
    await orm?.close();
  });

  it("when ten tenants sync at once, then each company holds exactly its own tenant's records, and every history replays deterministically", async () => {
    const companies = await Promise.all(
      sandbox.tenants.map(async (t) => ({
        tenant: t,
        ...(await createCompanyWithCredential(orm, t, { name: `Co ${t.tenantId}` })),
      })),
    );
    const started = await Promise.all(
      companies.map((c) =>
        startSync(
          { em: orm.em.fork(), temporal: temporal.client, taskQueue: worker.taskQueue },
          { credentialId: c.credentialId, trigger: 'manual', mode: 'full' },
        ),
      ),
    );
    const results = await Promise.all(
      started.map((s) => temporal.client.workflow.getHandle(s.workflowId).result()),
    );
    expect(results.map((r) => r.status)).toEqual(Array(10).fill('completed'));

    for (const c of companies) {
      const rows = await orm.em
        .fork()
        .getConnection()
        .execute<{ table: string; ids: string[] }[]>(
          `select 'members' as table, array_agg(external_id order by external_id::bigint) as ids from members_stream where company_id = ?
           union all
           select 'invoices', array_agg(external_id order by external_id::bigint) from invoices_stream where company_id = ?`,
          [c.companyId, c.companyId],
        );
      const expected = (stream: 'customers' | 'invoices') =>
        [...sandbox.groundTruth(c.tenant.tenantId, stream)]
          .map((r) => String(r.id))
          .sort((a, b) => Number(a) - Number(b));
      expect(rows.find((r) => r.table === 'members')?.ids).toEqual(expected('customers'));
      expect(rows.find((r) => r.table === 'invoices')?.ids).toEqual(expected('invoices'));
    }

    // Every run carries its company and tenant as search attributes.
    const first = companies[0]!;
    const description = await temporal.client.workflow.getHandle(started[0]!.workflowId).describe();
    expect(description.typedSearchAttributes.get(CompanyIdKey)).toBe(String(first.companyId));
    expect(description.typedSearchAttributes.get(TenantIdKey)).toBe(String(first.tenant.tenantId));

    // The workflow code replays every recorded history without non-determinism.
    for (const s of started) {
      const history = await temporal.client.workflow.getHandle(s.workflowId).fetchHistory();
      await Worker.runReplayHistory(
        { workflowBundle: { codePath: inject('workflowBundlePath') } },
        history,
        s.workflowId,
      );
    }
    const runs = await orm.em.fork().find(SyncRun, {});
    expect(runs.every((r) => r.status === 'completed')).toBe(true);
  }, 120_000);
});
