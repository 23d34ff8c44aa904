import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { splitRecords } from '../../../src/servicetitan/paginate.js';
import { streams } from '../../../src/servicetitan/streams/index.js';

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../fixtures/servicetitan/${name}`, import.meta.url), 'utf8')) as {
    data: unknown[];
  };

describe('stream schemas against real-shaped records', () => {
  it('customers: documented drift is accepted, records without id or cursor are reported, not thrown', () => {
    const { records, invalid } = splitRecords(
      streams.customers.schema,
      fixture('export-customers.json').data,
    );
    expect(records.map((r) => r.id)).toEqual([10000001, 10000002, 10000003]);
    const [plain, legacy, merged] = records;
    expect(plain?.balance).toBe('125.5');
    expect(legacy).toMatchObject({
      type: null,
      createdOn: '0001-01-01T00:00:00Z',
      createdById: 0,
      externalData: [],
    });
    expect(legacy?.address?.country).toBeNull();
    expect(legacy?.someNewField).toEqual({ added: '2025' });
    expect(legacy?.creditLimit).toBe('25000');
    expect(merged).toMatchObject({
      active: false,
      mergedToId: 10000001,
      tagTypeIds: [],
      customFields: [],
      balance: '0.00',
    });
    expect(invalid).toHaveLength(2);
    expect(invalid[0]).toMatchObject({ id: undefined, reason: expect.stringContaining('id') });
    expect(invalid[1]).toMatchObject({ id: 10000005, reason: expect.stringContaining('modifiedOn') });
    expect(invalid[1]?.raw).toMatchObject({ name: 'Bad cursor' });
  });

  it('customer contacts: types, settings and preferences as sent', () => {
    const { records, invalid } = splitRecords(
      streams.customerContacts.schema,
      fixture('export-customer-contacts.json').data,
    );
    expect(invalid).toEqual([]);
    expect(records).toMatchObject([
      { id: 30000001, type: 'MobilePhone', value: '6025550143', customerId: 10000001, active: true },
      { id: 30000002, type: 'Email', active: false, preferences: { jobRemindersEnabled: true } },
    ]);
  });

  it('invoices: decimal strings stay strings, numbers become strings, bad money is reported', () => {
    const { records, invalid } = splitRecords(streams.invoices.schema, fixture('export-invoices.json').data);
    expect(records.map((r) => r.id)).toEqual([50000001, 50000002]);
    const [full, sparse] = records;
    expect(full).toMatchObject({
      total: '271.25',
      subTotal: '250.00',
      customer: { id: 10000001 },
      job: { number: 'J-1001' },
    });
    expect(full?.items[0]?.quantity).toBe('1.0000000000000000000');
    expect(full?.salesTaxCode).toEqual({ id: 7, name: 'AZ', taxRate: 0.085 });
    expect(sparse).toMatchObject({ subTotal: '99.5', modifiedOn: null, items: [], customFields: [] });
    expect(invalid).toEqual([
      expect.objectContaining({ id: 50000003, reason: expect.stringContaining('total') }),
    ]);
  });

  it('locations: legacy createdOn and null externalData', () => {
    const { records, invalid } = splitRecords(streams.locations.schema, fixture('list-locations.json').data);
    expect(invalid).toEqual([]);
    expect(records[0]).toMatchObject({
      id: 20000001,
      customerId: 10000001,
      externalData: [],
      createdOn: '0001-01-01T00:00:00Z',
    });
  });

  it('every stream is a declaration with key, cursor, paths and inactive-inclusive list params', () => {
    expect(streams.customers).toMatchObject({
      module: 'crm',
      primaryKey: 'id',
      cursorField: 'modifiedOn',
      listParams: { active: 'Any' },
    });
    expect(streams.invoices).toMatchObject({
      module: 'accounting',
      exportPath: '/export/invoices',
      listParams: { activeState: 'All' },
    });
    expect(streams.customerContacts).toMatchObject({
      exportPath: '/export/customers/contacts',
      listPath: '/customers/contacts',
    });
  });
});
