import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrm } from '../../../src/db/orm.js';
import { createRateBudgetStore } from '../../../src/db/repositories/rate-budget.repository.js';
import { type Sandbox, startSandbox } from '../../../src/sandbox/index.js';
import {
  createServiceTitanClient,
  type ServiceTitanClient,
  type TenantCredential,
} from '../../../src/servicetitan/index.js';
import type { RateBudgetLimits } from '../../../src/servicetitan/rate-budget.js';
import { connectTestOrm, testDatabaseUrl } from '../../support/integration.js';

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
    // At most 54 requests start in any second (90 % of 60): the 180 requests of one tenant span
    // at least three seconds however fast the machine.
    expect(seconds).toBeGreaterThanOrEqual(Math.floor((3 * PAGES - 1) / 54) - 0.05);
  });

  it('when three stores (three processes) reserve slots of one tenant at once, then every slot is its own, a 1/rate apart on the database clock, at a rate of whole requests or not', async () => {
    const stores = [0, 1, 2].map(() => createRateBudgetStore(orm));
    const reserveAll = async (key: string, limits: RateBudgetLimits, each: number) =>
      (
        await Promise.all(
          stores.map(async (store) => {
            const mine: { waitMs: number; slotAt: number }[] = [];
            for (let i = 0; i < each; i++) {
              const slot = await store.reserve(key, limits);
              mine.push({ waitMs: slot.waitMs, slotAt: slot.slotAt.getTime() });
            }
            return mine;
          }),
        )
      )
        .flat()
        .sort((a, b) => a.slotAt - b.slotAt);
    const slots = (
      await reserveAll(
        'spacing:integration:1',
        { ratePerSecond: 50, minRatePerSecond: 1, recoveryMs: 10_000 },
        30,
      )
    ).map((slot) => slot.slotAt);
    expect(slots).toHaveLength(90);
    const gaps = slots.slice(1).map((t, i) => t - slots[i]!);
    // Timestamps come back in milliseconds: 20 ms apart, give or take the rounding.
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(19);

    // 2.5 a second is a slot every 0.4 s, not 2 a second: a slot that had to wait comes 0.4 s
    // after the one before it, not 0.6 s (a slot that did not wait may come later, when the
    // machine was slower than the budget: it says nothing of the spacing).
    const slow = await reserveAll(
      'spacing:integration:2',
      { ratePerSecond: 2.5, minRatePerSecond: 1, recoveryMs: 10_000 },
      4,
    );
    const slowGaps = slow
      .slice(1)
      .map((slot, i) => ({ waited: slot.waitMs > 0, ms: slot.slotAt - slow[i]!.slotAt }));
    expect(Math.min(...slowGaps.map((gap) => gap.ms))).toBeGreaterThanOrEqual(399);
    const waitedGaps = slowGaps.filter((gap) => gap.waited).map((gap) => gap.ms);
    expect(waitedGaps.length).toBeGreaterThan(0);
    expect(Math.max(...waitedGaps)).toBeLessThanOrEqual(401);
  });

  it('when three stores reserve more slots than the burst at once, then the burst starts together, no second holds more than the rate nor any window more than the burst, and those that wait are a 1/rate apart', async () => {
    const stores = [0, 1, 2].map(() => createRateBudgetStore(orm));
    // 5 requests in any second, and 6 in any 1.2 s.
    const limits = { ratePerSecond: 5, minRatePerSecond: 1, recoveryMs: 10_000, burst: 6 };
    // Connected, so the burst's statements take a few milliseconds.
    await Promise.all(stores.map((store) => store.reserve('window:integration:warm', limits)));
    const reserved = (
      await Promise.all(
        stores.map(async (store) => {
          const mine: { waitMs: number; slotAt: number }[] = [];
          for (let i = 0; i < 6; i++) {
            const slot = await store.reserve('window:integration:1', limits);
            mine.push({ waitMs: slot.waitMs, slotAt: slot.slotAt.getTime() });
          }
          return mine;
        }),
      )
    )
      .flat()
      .sort((a, b) => a.slotAt - b.slotAt);
    expect(reserved).toHaveLength(18);
    // The first five need not wait: they start together.
    expect(reserved.slice(0, 5).map((slot) => slot.waitMs)).toEqual([0, 0, 0, 0, 0]);
    const slots = reserved.map((slot) => slot.slotAt);
    // Timestamps come back in milliseconds: give or take the rounding.
    for (let i = 0; i + 5 < slots.length; i++) expect(slots[i + 5]! - slots[i]!).toBeGreaterThanOrEqual(999);
    for (let i = 0; i + 6 < slots.length; i++)
      expect(slots[i + 6]! - slots[i]!).toBeGreaterThanOrEqual(1_199);
    for (let i = 1; i < slots.length; i++)
      if (reserved[i]!.waitMs > 0) expect(slots[i]! - slots[i - 1]!).toBeGreaterThanOrEqual(199);
  });

  it('when a 429 halves the rate, then the burst halves with it and its window keeps its length, and a Retry-After holds every slot', async () => {
    const store = createRateBudgetStore(orm);
    const key = 'throttle:integration:1';
    // 10 a second, and 20 in any 2 s.
    // Recovery over 10 h: the rate stays 5 however slow the statements between throttle and check.
    const limits = { ratePerSecond: 10, minRatePerSecond: 1, recoveryMs: 36_000_000, burst: 20 };
    const slots: number[] = [];
    for (let i = 0; i < 10; i++) slots.push((await store.reserve(key, limits)).slotAt.getTime());
    await store.throttled(key, 0, limits);
    // 5 a second now, and 10 in any 2 s: the next slot comes 2 s after the first of the 10 (a
    // burst still of 20 would let it go a second after the 5th; a window shrunk to 1 s, too).
    const afterThrottle = await store.reserve(key, limits);
    expect(afterThrottle.rate).toBeLessThanOrEqual(5.01);
    expect(afterThrottle.slotAt.getTime()).toBeGreaterThanOrEqual(slots[0]! + 2_000 - 2);
    const heldFrom = Date.now();
    await store.throttled(key, 30_000, limits);
    const held = await store.reserve(key, limits);
    expect(held.waitMs).toBeGreaterThan(25_000);
    expect(held.slotAt.getTime()).toBeGreaterThan(afterThrottle.slotAt.getTime());
    expect(Date.now() - heldFrom).toBeLessThan(25_000);
  });

  it("when a process's store reserves and then closes, then its reservations ran on at most 3 connections of their own, named as the process's, which end on close, and a later reservation says the store is closed", async () => {
    const applicationName = 'stsync-budget-close-test';
    const processOrm = await createOrm({ url: await testDatabaseUrl(), applicationName });
    // Idle connections kept for a minute: only close() ends them within the test.
    const store = createRateBudgetStore(processOrm, { idleMs: 60_000 });
    // The store's connections are those of the process whose last statement was the budget's
    // (its first 1 KB, all pg_stat_activity keeps, names budget_key; the ORM's own never touch the
    // budget here): counted while both are open, so no idle timeout can end them first.
    const connections = async () =>
      Number(
        (
          await orm.em.getConnection().execute<{ n: string }[]>(
            `select count(*) as n from pg_stat_activity
                where application_name = ? and query like '%budget_key%'`,
            [applicationName],
          )
        )[0]!.n,
      );
    try {
      const limits = { ratePerSecond: 50, minRatePerSecond: 1, recoveryMs: 10_000, burst: 10 };
      await Promise.all([0, 1, 2, 3, 4, 5].map(() => store.reserve('close:integration:1', limits)));
      const open = await connections();
      expect(open).toBeGreaterThanOrEqual(1);
      expect(open).toBeLessThanOrEqual(3);
      await store.close();
      const deadline = Date.now() + 10_000;
      while ((await connections()) > 0 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await connections()).toBe(0);
    } finally {
      await store.close();
      await processOrm.close();
    }
    await expect(
      store.reserve('close:integration:1', { ratePerSecond: 50, minRatePerSecond: 1, recoveryMs: 10_000 }),
    ).rejects.toThrow('the rate budget store is closed');
  });
});
