import { describe, expect, it } from 'vitest';
import { ID_BASES, LEGACY_CREATED_ON } from '../../../src/sandbox/records.js';
import { createTenantData, STREAMS, type TenantDataOptions } from '../../../src/sandbox/tenant-data.js';

const HOUR = 3_600_000;
const START = Date.parse('2025-01-01T00:00:00Z');

function tenant(overrides: Partial<TenantDataOptions> = {}) {
  return createTenantData({
    tenantId: 77,
    seed: 1,
    customers: 300,
    invoices: 600,
    changesPerTick: 10,
    newPerTick: 3,
    startMs: START,
    tickMs: HOUR,
    historyMs: 365 * 24 * HOUR,
    ...overrides,
  });
}

function all(data: ReturnType<typeof tenant>, stream: (typeof STREAMS)[number]) {
  return Array.from({ length: data.count(stream) }, (_, i) => data.render(stream, i + 1));
}

describe('sandbox tenant data', () => {
  it('when built twice from the same seed, then every record of every stream is identical, also after ticks', () => {
    const a = tenant();
    const b = tenant();
    a.advanceTo(5);
    b.advanceTo(5);
    for (const stream of STREAMS) expect(JSON.stringify(all(a, stream))).toBe(JSON.stringify(all(b, stream)));
  });

  it('when the seed or the tenant differs, then the records differ', () => {
    const base = JSON.stringify(all(tenant(), 'customers'));
    expect(JSON.stringify(all(tenant({ seed: 2 }), 'customers'))).not.toBe(base);
    expect(JSON.stringify(all(tenant({ tenantId: 78 }), 'customers'))).not.toBe(base);
  });

  it('when a tenant has ten million customers, then it is created and any record rendered without materialising the others', () => {
    const before = process.memoryUsage().heapUsed;
    const started = performance.now();
    const huge = tenant({ customers: 10_000_000, invoices: 10_000_000 });
    huge.advanceTo(3);
    const last = huge.render('invoices', 9_999_999);
    const customer = huge.render('customers', 5_000_000);
    expect(performance.now() - started).toBeLessThan(500);
    expect(last.id).toBe(ID_BASES.invoices + 9_999_999);
    expect(customer.id).toBe(ID_BASES.customers + 5_000_000);
    expect(huge.count('contacts')).toBe(2 * huge.count('customers'));
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(20 * 1024 * 1024);
  });

  it('when ticks pass, then new records are appended and some existing ones change, are deactivated or merged', () => {
    const data = tenant({ changesPerTick: 30 });
    const before = all(data, 'customers');
    data.advanceTo(24);
    const after = all(data, 'customers');
    expect(after.length).toBe(before.length + 24 * 3);
    const changed = after.filter((record, i) => before[i] && record.modifiedOn !== before[i]!.modifiedOn);
    expect(changed.length).toBeGreaterThan(100);
    expect(changed.every((r) => Date.parse(r.modifiedOn as string) >= START)).toBe(true);
    const merged = after.filter((r) => r.mergedToId !== null);
    expect(merged.length).toBeGreaterThan(0);
    expect(merged.every((r) => r.active === false)).toBe(true);
    // Created records keep their creation time in later versions.
    const created = after.slice(before.length);
    expect(created.every((r) => Date.parse(r.createdOn as string) >= START)).toBe(true);
  });

  it('when records are counted by modifiedOn, then the count without a scan agrees with every record rendered, before and after ticks change and add records', () => {
    const data = tenant({ changesPerTick: 40, newPerTick: 5 });
    const check = () => {
      for (const stream of STREAMS) {
        const times = all(data, stream).map((r) => Date.parse(r.modifiedOn as string));
        // Instants at, between and around the records' own times, and past both ends.
        const instants = [...times.filter((_, i) => i % 37 === 0), ...times.slice(-5).map((t) => t + 1)];
        instants.push(START - 400 * 24 * HOUR, START + 1_000 * HOUR, START + HOUR / 2);
        for (const at of instants) {
          const scanned = times.filter((t) => t < at).length;
          expect(
            data.population(stream).countModifiedBefore(at, data.count(stream)),
            `${stream} at ${at}`,
          ).toBe(scanned);
        }
      }
    };
    check();
    data.advanceTo(12);
    check();
  });

  it('when records are rendered, then they carry the legacy oddities of API-NOTES in small numbers', () => {
    const data = tenant({ customers: 3_000, invoices: 10 });
    const customers = all(data, 'customers');
    const legacy = customers.filter((c) => c.createdOn === LEGACY_CREATED_ON);
    expect(legacy.length).toBeGreaterThan(0);
    expect(legacy.every((c) => c.createdById === 0)).toBe(true);
    expect(customers.some((c) => c.type === null)).toBe(true);
    expect(customers.some((c) => (c.address as { country: unknown }).country === null)).toBe(true);
    expect(customers.some((c) => c.externalData === null)).toBe(true);
    const names = customers.map((c) => c.name as string);
    expect(names.some((n) => n !== n.trim() || n.includes('  '))).toBe(true);
    expect(names.filter((n) => n !== n.trim() || n.includes('  ')).length).toBeLessThan(
      customers.length * 0.05,
    );
    expect(customers.some((c) => c.type === 'Commercial')).toBe(true);
  });

  it('when invoices are rendered, then money is decimal strings that add up and invoiceDate is midnight UTC', () => {
    const data = tenant();
    for (const invoice of all(data, 'invoices').slice(0, 200)) {
      const cents = (s: unknown) => Math.round(Number(s) * 100);
      expect(invoice.total).toMatch(/^-?\d+\.\d{2}$/);
      expect(cents(invoice.total)).toBe(cents(invoice.subTotal) + cents(invoice.salesTax));
      const items = invoice.items as Record<string, unknown>[];
      expect(items.reduce((sum, item) => sum + cents(item.total), 0)).toBe(cents(invoice.subTotal));
      expect(items[0]!.quantity).toMatch(/^\d+\.\d{19}$/);
      expect(invoice.invoiceDate).toMatch(/T00:00:00\.000Z$/);
      expect(cents(invoice.balance)).toBeLessThanOrEqual(cents(invoice.total));
    }
  });

  it('when contacts are rendered, then each customer has a phone-like and an e-mail contact pointing at it', () => {
    const data = tenant();
    const contacts = all(data, 'contacts');
    expect(contacts.length).toBe(600);
    const phone = contacts[0]!;
    const email = contacts[1]!;
    expect(['Phone', 'MobilePhone', 'Fax']).toContain(phone.type);
    expect(phone.value).toMatch(/^\d{10}$/);
    expect(email.type).toBe('Email');
    expect(email.value).toMatch(/^[a-z0-9.]+@[a-z.]+$/);
    expect(phone.customerId).toBe(ID_BASES.customers + 1);
    expect(email.customerId).toBe(ID_BASES.customers + 1);
  });
});
