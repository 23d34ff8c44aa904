import { describe, expect, it } from 'vitest';
import { createFaultInjector } from '../../../src/sandbox/faults.js';
import { createRateLimiter } from '../../../src/sandbox/rate-limiter.js';

const req = (path: string, tenantId?: number) => ({ path, tenantId });

describe('sandbox fault selection', () => {
  it('when a fault has nth and count, then it fires on exactly those matching requests', () => {
    const faults = createFaultInjector(1);
    faults.add({ kind: 'server-error', nth: 3, count: 2 });
    const fired = Array.from({ length: 8 }, () => faults.select(req('/x'))?.kind ?? null);
    expect(fired).toEqual([null, null, 'server-error', 'server-error', null, null, null, null]);
  });

  it('when a fault names a path and a tenant, then other requests neither fire it nor count towards nth', () => {
    const faults = createFaultInjector(1);
    faults.add({ kind: 'reset', tenantId: 5, path: /export\/invoices$/, nth: 2 });
    expect(faults.select(req('/accounting/v2/tenant/5/export/invoices', 5))).toBeUndefined();
    expect(faults.select(req('/accounting/v2/tenant/6/export/invoices', 6))).toBeUndefined();
    expect(faults.select(req('/crm/v2/tenant/5/export/customers', 5))).toBeUndefined();
    expect(faults.select(req('/accounting/v2/tenant/5/export/invoices', 5))?.kind).toBe('reset');
  });

  it('when a fault has a rate, then it fires about that often, the same way for the same seed, at most count times', () => {
    const run = (seed: number) => {
      const faults = createFaultInjector(seed);
      faults.add({ kind: 'html-503', rate: 0.2 });
      return Array.from({ length: 2000 }, () => (faults.select(req('/a')) ? 1 : 0));
    };
    const a = run(7);
    expect(a).toEqual(run(7));
    expect(a).not.toEqual(run(8));
    const share = a.reduce<number>((s, v) => s + v, 0) / a.length;
    expect(share).toBeGreaterThan(0.15);
    expect(share).toBeLessThan(0.25);
    const limited = createFaultInjector(7);
    limited.add({ kind: 'html-503', rate: 0.5, count: 3 });
    expect(Array.from({ length: 100 }, () => limited.select(req('/a'))).filter(Boolean)).toHaveLength(3);
  });

  it('when several faults match, then the first that fires wins and clearFaults removes them all', () => {
    const faults = createFaultInjector(1);
    faults.add({ kind: 'slow', path: '/never' });
    faults.add({ kind: 'truncated', count: 1 });
    faults.add({ kind: 'rate-limit' });
    expect(faults.select(req('/a'))?.kind).toBe('truncated');
    expect(faults.select(req('/a'))?.kind).toBe('rate-limit');
    faults.clear();
    expect(faults.select(req('/a'))).toBeUndefined();
  });
});

describe('sandbox rate limiter', () => {
  it('when more than the limit arrive within a second, then the excess is refused until the window slides', () => {
    let now = 1_000_000;
    const limiter = createRateLimiter(3, () => now);
    expect([1, 2, 3].map(() => limiter.take('t').allowed)).toEqual([true, true, true]);
    const refused = limiter.take('t');
    expect(refused).toEqual({ allowed: false, retryAfterMs: 1000 });
    expect(limiter.take('other').allowed).toBe(true);
    now += 1000;
    expect(limiter.take('t').allowed).toBe(true);
  });

  it('when the limit is 0 or Infinity, then nothing is refused', () => {
    for (const limit of [0, Number.POSITIVE_INFINITY]) {
      const limiter = createRateLimiter(limit, () => 0);
      expect(Array.from({ length: 500 }, () => limiter.take('t').allowed).every(Boolean)).toBe(true);
    }
  });
});
