import { describe, expect, it } from 'vitest';
import { mapContact, mapCustomer, mapInvoice } from '../../../../src/ingest/maps/index.js';
import type { SandboxStream } from '../../../../src/sandbox/records.js';
import { LEGACY_CREATED_ON } from '../../../../src/sandbox/records.js';
import { createTenantData } from '../../../../src/sandbox/tenant-data.js';
import { splitRecords } from '../../../../src/servicetitan/paginate.js';
import {
  customerContactSchema,
  customerSchema,
  invoiceSchema,
} from '../../../../src/servicetitan/streams/index.js';
import { COMPANY } from '../payloads.js';

const HOUR = 3_600_000;
const CANONICAL_DECIMAL = /^-?(0|[1-9]\d*)\.\d{2,}$/;

/** A seeded sandbox tenant after a day of changes: same records on every run. */
function sandboxRecords(stream: SandboxStream): unknown[] {
  const data = createTenantData({
    tenantId: 77,
    seed: 1,
    customers: 3_000,
    invoices: 2_000,
    changesPerTick: 30,
    newPerTick: 3,
    startMs: Date.parse('2025-01-01T00:00:00Z'),
    tickMs: HOUR,
    historyMs: 3 * 365 * 24 * HOUR,
  });
  data.advanceTo(24);
  return Array.from({ length: data.count(stream) }, (_, i) => data.render(stream, i + 1));
}

describe('maps over the sandbox generator', () => {
  it('when every sandbox customer is mapped, then none is skipped and names, types and dates are clean', () => {
    const raw = sandboxRecords('customers');
    const { records, invalid } = splitRecords(customerSchema, raw);
    expect(invalid).toEqual([]);
    const rows = records.map((r) => {
      const result = mapCustomer(r, COMPANY);
      if (!result.ok) throw new Error(result.reason);
      return result.row;
    });

    expect(rows.every((r) => r.name !== null && r.name === r.name.trim() && !r.name.includes('  '))).toBe(
      true,
    );
    expect(rows.some((r, i) => r.name !== (records[i]?.name ?? null))).toBe(true);
    const residential = rows.filter((r) => r.customerType === 'Residential');
    expect(residential.length).toBeGreaterThan(0);
    expect(residential.every((r) => r.firstName !== null && r.lastName !== null)).toBe(true);
    expect(residential.every((r) => r.name?.endsWith(` ${r.lastName}`))).toBe(true);
    expect(rows.filter((r) => r.customerType !== 'Residential').every((r) => r.firstName === null)).toBe(
      true,
    );
    expect(rows.some((r) => r.customerType === null)).toBe(true);
    expect(rows.some((r) => r.country === null)).toBe(true);

    const legacy = rows.filter((_, i) => records[i]?.createdOn === LEGACY_CREATED_ON);
    expect(legacy.length).toBeGreaterThan(0);
    expect(legacy.every((r) => r.sourceCreatedOn === null)).toBe(true);

    const merged = rows.filter((r) => r.mergedToExternalId !== null);
    expect(merged.length).toBeGreaterThan(0);
    expect(merged.every((r) => !r.active)).toBe(true);
    expect(rows.every((r) => r.balance === null || CANONICAL_DECIMAL.test(r.balance))).toBe(true);
  });

  it('when every sandbox contact is mapped, then phones are 10 digits and emails are kept lower-case', () => {
    const { records, invalid } = splitRecords(customerContactSchema, sandboxRecords('contacts'));
    expect(invalid).toEqual([]);
    const rows = records.map((r) => {
      const result = mapContact(r, COMPANY);
      if (!result.ok) throw new Error(result.reason);
      return result.row;
    });
    const phones = rows.filter((r) => r.type !== 'Email');
    const emails = rows.filter((r) => r.type === 'Email');
    expect(phones.length).toBeGreaterThan(0);
    expect(phones.every((r) => r.value !== null && /^\d{10}$/.test(r.value))).toBe(true);
    expect(emails.length).toBeGreaterThan(0);
    expect(emails.every((r) => r.value !== null && r.value === r.value.toLowerCase())).toBe(true);
  });

  it('when every sandbox invoice is mapped, then amounts equal the sent ones and dates are calendar dates', () => {
    const { records, invalid } = splitRecords(invoiceSchema, sandboxRecords('invoices'));
    expect(invalid).toEqual([]);
    for (const record of records) {
      const result = mapInvoice(record, COMPANY);
      if (!result.ok) throw new Error(result.reason);
      const row = result.row;
      // The sandbox sends money with two decimals: canonical form is the same text.
      expect(row.total).toBe(record.total);
      expect(row.balance).toBe(record.balance);
      expect(row.invoiceDate).toBe(record.invoiceDate?.slice(0, 10));
      expect(row.itemCount).toBe(record.items.length);
      for (const item of row.items) {
        expect(item.quantity).toMatch(CANONICAL_DECIMAL);
        expect(item.description).not.toMatch(/<p>/);
      }
    }
  });
});
