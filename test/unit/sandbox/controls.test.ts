import { describe, expect, it } from 'vitest';
import { createSandboxApp, DEFAULT_START_TIME, DEMO_TENANTS } from '../../../src/sandbox/index.js';

describe('sandbox controls', () => {
  it('when no tenants are given, then the demo tenants are served with deterministic credentials', () => {
    const a = createSandboxApp();
    const b = createSandboxApp();
    expect(a.tenants.map((t) => t.tenantId)).toEqual(DEMO_TENANTS.map((t) => t.tenantId));
    expect(a.tenants).toEqual(b.tenants);
    expect(new Set(a.tenants.map((t) => t.clientSecret)).size).toBe(a.tenants.length);
    expect(a.tenants.some((t) => !t.approved)).toBe(true);
    expect(a.tenants.some((t) => !t.licensed.accounting)).toBe(true);
    expect(a.now()).toEqual(DEFAULT_START_TIME);
  });

  it('when time advances, then now() moves, counts grow and ground truth stays consistent with countRecords', () => {
    const sandbox = createSandboxApp({
      tenants: [{ tenantId: 5, customers: 100, invoices: 100, newPerTick: 2 }],
    });
    expect(sandbox.countRecords(5, 'customers')).toBe(100);
    sandbox.advanceTime(90 * 60_000);
    expect(sandbox.now().getTime() - DEFAULT_START_TIME.getTime()).toBe(90 * 60_000);
    expect(sandbox.countRecords(5, 'customers')).toBe(102);
    expect(sandbox.countRecords(5, 'contacts')).toBe(204);
    expect(sandbox.countRecords(5, 'locations')).toBe(102);
    for (const stream of ['customers', 'contacts', 'locations', 'invoices'] as const) {
      const ids = [...sandbox.groundTruth(5, stream)].map((r) => r.id as number);
      expect(ids).toHaveLength(sandbox.countRecords(5, stream));
      expect(ids).toEqual([...ids].sort((x, y) => x - y));
      expect(new Set(ids).size).toBe(ids.length);
    }
  });

  it('when misused, then the controls refuse: negative time, unknown tenant, duplicate tenant, bad fault', () => {
    const sandbox = createSandboxApp({ tenants: [{ tenantId: 5, customers: 1, invoices: 1 }] });
    expect(() => sandbox.advanceTime(-1)).toThrow(RangeError);
    expect(() => sandbox.countRecords(6, 'customers')).toThrow(/Unknown sandbox tenant 6/);
    expect(() => sandbox.setApproved(6, true)).toThrow(/Unknown/);
    expect(() => sandbox.injectFault({ kind: 'reset', rate: 2 })).toThrow(RangeError);
    expect(() => createSandboxApp({ tenants: [{ tenantId: 1 }, { tenantId: 1 }] })).toThrow(/twice/);
  });
});
