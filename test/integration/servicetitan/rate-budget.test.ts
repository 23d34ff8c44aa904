import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRateBudgetStore } from '../../../src/db/repositories/rate-budget.repository.js';
import { type Sandbox, startSandbox } from '../../../src/sandbox/index.js';
import {
  createServiceTitanClient,
  type ServiceTitanClient,
  type TenantCredential,
} from '../../../src/servicetitan/index.js';
import { connectTestOrm } from '../../support/integration.js';

// Three clients stand for three worker processes (each its own client and its own store object,
// as separate processes would have): with the budget shared through PostgreSQL, the tenant never
// sees more than ServiceTitan's 60 requests in any second, and the budget is used, not wasted.
const TENANTS = [7_300_001, 7_300_002];
const SECONDS = 3;

let sandbox: Sandbox;
let orm: Awaited<ReturnType<typeof connectTestOrm>>;

beforeAll(async () => {
  orm = await connectTestOrm();
  sandbox = await startSandbox({
    rateLimitPerSecond: 60,
    pageSizes: { customers: 5, contacts: 5, invoices: 5 },
    tenants: TENANTS.map((tenantId) => ({ tenantId, customers: 3_000, invoices: 10 })),
  });
});

afterAll(async () => {
  await sandbox?.close();
  await orm?.close();
});

function credential(tenantId: number): TenantCredential {
  const t = sandbox.tenants.find((x) => x.tenantId === tenantId)!;
  return {
    environment: t.environment,
    tenantId: String(t.tenantId),
    clientId: t.clientId,
    clientSecret: t.clientSecret,
  };
}

/** Three "processes" read every tenant's customers as fast as their limiters let them. */
async function hammer(shared: boolean): Promise<void> {
  const endpoints = { authUrl: sandbox.url, apiUrl: sandbox.url };
  const clients: ServiceTitanClient[] = [0, 1, 2].map(() =>
    createServiceTitanClient({
      appKey: sandbox.appKey,
      environments: { integration: endpoints, production: endpoints },
      rateLimitPerSecond: 60,
      backoff: { baseMs: 10, maxMs: 100 },
      ...(shared ? { rateBudget: createRateBudgetStore(orm) } : {}),
    }),
  );
  const stop = AbortSignal.timeout(SECONDS * 1000);
  const readers = clients.flatMap((client) =>
    TENANTS.map(async (tenantId) => {
      try {
        for await (const _ of client
          .tenant(credential(tenantId))
          .exportPages('customers', { signal: stop })) {
          if (stop.aborted) break;
        }
      } catch (error) {
        if (!stop.aborted) throw error;
      }
    }),
  );
  await Promise.all(readers);
  for (const c of clients) c.close();
}

describe('one ServiceTitan budget per tenant, whatever the number of processes', () => {
  it('when three clients share the budget through PostgreSQL, then no tenant exceeds 60 requests in any second nor meets a 429, and the budget is used', async () => {
    await hammer(true);
    const stats = sandbox.stats().byTenant;
    for (const tenantId of TENANTS) {
      const s = stats[tenantId]!;
      // The figures the issue asks to see, in the test's output.
      process.stdout.write(
        `tenant ${tenantId}: ${s.requests} requests, peak ${s.peakPerSecond}/s, ${s.rateLimited} × 429\n`,
      );
      expect(s.rateLimited).toBe(0);
      expect(s.peakPerSecond).toBeLessThanOrEqual(60);
      // 57/s is the target (95 % of the limit): most of it is spent.
      expect(s.requests).toBeGreaterThan(57 * SECONDS * 0.7);
    }
  });

  it('when each client keeps its own limiter, then together they exceed the tenant limit (what the shared budget prevents)', async () => {
    const before = sandbox.stats().byTenant[TENANTS[0]!]!;
    await new Promise((r) => setTimeout(r, 1_100));
    await hammer(false);
    const after = sandbox.stats().byTenant[TENANTS[0]!]!;
    expect(after.rateLimited - before.rateLimited).toBeGreaterThan(0);
    expect(after.peakPerSecond).toBeGreaterThan(60);
  });
});
