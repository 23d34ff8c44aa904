import { Worker } from '@temporalio/worker';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { SyncRun } from '../../../src/db/entities/index.js';
import { startSync } from '../../../src/sync/start-sync.js';
import { CompanyIdKey, TenantIdKey } from '../../../src/temporal/search-attributes.js';
import { createCompanyWithCredential } from '../../support/fixtures.js';
import { testInstallationId, truncateAll } from '../../support/integration.js';
import { useSyncHarness } from '../../support/sync-harness.js';

const FIRST_TENANT = 6_400_001;

describe('ten tenants at once, and replay', () => {
  const h = useSyncHarness({
    rateLimitPerSecond: 60,
    tenants: Array.from({ length: 10 }, (_, i) => ({
      tenantId: FIRST_TENANT + i,
      customers: 150 + 10 * i,
      invoices: 300 + 20 * i,
    })),
  });
  beforeAll(() => truncateAll(h.orm));

  it("when ten tenants sync at once, then each company holds exactly its own tenant's records, and every history replays deterministically", async () => {
    const companies = await Promise.all(
      h.sandbox.tenants.map(async (t) => ({
        tenant: t,
        ...(await createCompanyWithCredential(h.orm, t, { name: `Co ${t.tenantId}` })),
      })),
    );
    const started = await Promise.all(
      companies.map((c) =>
        startSync(
          {
            em: h.orm.em.fork(),
            temporal: h.temporal.client,
            taskQueue: h.worker.taskQueue,
            installationId: testInstallationId,
          },
          { credentialId: c.credentialId, trigger: 'manual', mode: 'full' },
        ),
      ),
    );
    const results = await Promise.all(
      started.map((s) => h.temporal.client.workflow.getHandle(s.workflowId).result()),
    );
    expect(results.map((r) => r.status)).toEqual(Array(10).fill('completed'));

    for (const c of companies) {
      const rows = await h.orm.em
        .fork()
        .getConnection()
        .execute<{ table: string; ids: string[] }[]>(
          `select 'members' as table, array_agg(external_id order by external_id::bigint) as ids from members_stream where company_id = ?
           union all
           select 'invoices', array_agg(external_id order by external_id::bigint) from invoices_stream where company_id = ?`,
          [c.companyId, c.companyId],
        );
      const expected = (stream: 'customers' | 'invoices') =>
        [...h.sandbox.groundTruth(c.tenant.tenantId, stream)]
          .map((r) => String(r.id))
          .sort((a, b) => Number(a) - Number(b));
      expect(rows.find((r) => r.table === 'members')?.ids).toEqual(expected('customers'));
      expect(rows.find((r) => r.table === 'invoices')?.ids).toEqual(expected('invoices'));
    }

    // Every run carries its company and tenant as search attributes.
    const first = companies[0]!;
    const description = await h.temporal.client.workflow.getHandle(started[0]!.workflowId).describe();
    expect(description.typedSearchAttributes.get(CompanyIdKey)).toBe(String(first.companyId));
    expect(description.typedSearchAttributes.get(TenantIdKey)).toBe(String(first.tenant.tenantId));

    // The workflow code replays every recorded history without non-determinism.
    for (const s of started) {
      const history = await h.temporal.client.workflow.getHandle(s.workflowId).fetchHistory();
      await Worker.runReplayHistory(
        { workflowBundle: { codePath: inject('workflowBundlePath') } },
        history,
        s.workflowId,
      );
    }
    const runs = await h.orm.em.fork().find(SyncRun, {});
    expect(runs.every((r) => r.status === 'completed')).toBe(true);
  }, 120_000);
});
