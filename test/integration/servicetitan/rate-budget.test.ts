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

const PAGES = 60;

/**
 * Three "processes" each read PAGES pages of every tenant's customers as fast as the shared
 * budget lets them: 180 requests per tenant.
 */
async function hammer(): Promise<number> {
  const endpoints = { authUrl: sandbox.url, apiUrl: sandbox.url };
  const clients: ServiceTitanClient[] = [0, 1, 2].map(() =>
    createServiceTitanClient({
      appKey: sandbox.appKey,
      environments: { integration: endpoints, production: endpoints },
      rateLimitPerSecond: 60,
      backoff: { baseMs: 10, maxMs: 100 },
      rateBudget: createRateBudgetStore(orm),
    }),
  );
  const started = Date.now();
  await Promise.all(
    clients.flatMap((client) =>
      TENANTS.map(async (tenantId) => {
        let pages = 0;
        for await (const _ of client.tenant(credential(tenantId)).exportPages('customers')) {
          if (++pages >= PAGES) break;
        }
      }),
    ),
  );
  for (const c of clients) c.close();
  return (Date.now() - started) / 1000;
}

describe('one ServiceTitan budget per tenant, whatever the number of processes', () => {
  it('when three clients share the budget through PostgreSQL, then no tenant exceeds 60 requests in any second nor meets a 429, and together they are held to the budget', async () => {
    const seconds = await hammer();
    const stats = sandbox.stats().byTenant;
    for (const tenantId of TENANTS) {
      const s = stats[tenantId]!;
      // The figures the issue asks to see, in the test's output.
      process.stdout.write(
        `tenant ${tenantId}: ${s.requests} requests in ${seconds.toFixed(1)} s, peak ${s.peakPerSecond}/s, ${s.rateLimited} × 429\n`,
      );
      expect(s.requests).toBe(3 * PAGES);
      expect(s.rateLimited).toBe(0);
      expect(s.peakPerSecond).toBeLessThanOrEqual(60);
    }
    // 60 requests may start together once in every 1/0.9 s (60 at 54/s): the 180 requests of one
    // tenant start in three such windows, the last at least 2 × 1.11 s after the first however
    // fast the machine.
    expect(seconds).toBeGreaterThanOrEqual(Math.floor((3 * PAGES - 1) / 60) * (60 / 54) - 0.05);
  });

  it('when three stores (three processes) reserve slots of one tenant at once, then every slot is its own, a 1/rate apart on the database clock', async () => {
    const stores = [0, 1, 2].map(() => createRateBudgetStore(orm));
    const limits = { ratePerSecond: 50, minRatePerSecond: 1, recoveryMs: 10_000 };
    const slots = (
      await Promise.all(
        stores.map(async (store) => {
          const mine: number[] = [];
          for (let i = 0; i < 30; i++)
            mine.push((await store.reserve('spacing:integration:1', limits)).slotAt.getTime());
          return mine;
        }),
      )
    )
      .flat()
      .sort((a, b) => a - b);
    expect(slots).toHaveLength(90);
    const gaps = slots.slice(1).map((t, i) => t - slots[i]!);
    // Timestamps come back in milliseconds: 20 ms apart, give or take the rounding.
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(19);
  });

  it('when three stores reserve more slots than the burst at once, then the burst starts together and the next slot waits a window after the first', async () => {
    const stores = [0, 1, 2].map(() => createRateBudgetStore(orm));
    // 60 requests in any 60 s: the window is long enough that however slow the statements, the
    // burst's reservations all fall inside it.
    const limits = { ratePerSecond: 1, minRatePerSecond: 0.5, recoveryMs: 10_000, burst: 60 };
    const burst = (
      await Promise.all(
        stores.map(async (store) => {
          const mine: { waitMs: number; slotAt: Date }[] = [];
          for (let i = 0; i < 20; i++) mine.push(await store.reserve('window:integration:1', limits));
          return mine;
        }),
      )
    ).flat();
    expect(burst.map((slot) => slot.waitMs)).toEqual(Array(60).fill(0));
    const first = Math.min(...burst.map((slot) => slot.slotAt.getTime()));
    const next = await stores[0]!.reserve('window:integration:1', limits);
    expect(next.slotAt.getTime()).toBeGreaterThanOrEqual(first + 60_000 - 1);
    expect(next.waitMs).toBeGreaterThan(50_000);
  });

  it('when a 429 halves the rate, then the burst halves with it and the window keeps its length, and a Retry-After holds every slot', async () => {
    const store = createRateBudgetStore(orm);
    const key = 'throttle:integration:1';
    const limits = { ratePerSecond: 10, minRatePerSecond: 1, recoveryMs: 600_000, burst: 10 };
    const slots: number[] = [];
    for (let i = 0; i < 10; i++) slots.push((await store.reserve(key, limits)).slotAt.getTime());
    await store.throttled(key, 0, limits);
    // 5 a second now: the next slot comes a second after the 6th latest of the 10.
    const afterThrottle = await store.reserve(key, limits);
    expect(afterThrottle.rate).toBeLessThanOrEqual(5.01);
    expect(afterThrottle.slotAt.getTime()).toBeGreaterThanOrEqual(slots[5]! + 1_000 - 1);
    const heldFrom = Date.now();
    await store.throttled(key, 30_000, limits);
    const held = await store.reserve(key, limits);
    expect(held.waitMs).toBeGreaterThan(25_000);
    expect(held.slotAt.getTime()).toBeGreaterThan(afterThrottle.slotAt.getTime());
    expect(Date.now() - heldFrom).toBeLessThan(25_000);
  });
});
