import { describe, expect, it } from 'vitest';
import { mapCustomer } from '../../../../src/ingest/maps/index.js';
import type { MapResult, MemberRow } from '../../../../src/ingest/maps/types.js';
import { type CustomerRecord, customerSchema } from '../../../../src/servicetitan/streams/index.js';
import { COMPANY, customer, customerPayload, fixtureRecords, unchecked } from '../payloads.js';

function row(result: MapResult<MemberRow>): MemberRow {
  if (!result.ok) throw new Error(`expected a row, got a skip: ${result.reason}`);
  return result.row;
}

describe('mapCustomer', () => {
  it('when a residential customer arrives, then every column of the member row is filled', () => {
    const record = customer();
    expect(mapCustomer(record, COMPANY)).toEqual({
      ok: true,
      row: {
        companyId: 42,
        environment: 'production',
        software: 'ServiceTitan',
        externalId: '10000001',
        active: true,
        sourceCreatedOn: new Date('2021-03-04T17:22:10.123Z'),
        sourceModifiedOn: new Date('2024-01-15T10:00:00Z'),
        raw: record,
        name: 'Olivia Martinez',
        firstName: 'Olivia',
        lastName: 'Martinez',
        customerType: 'Residential',
        street: '1234 Oak Ridge Dr',
        unit: null,
        city: 'Phoenix',
        state: 'AZ',
        zip: '85004',
        country: 'USA',
        balance: '125.50',
        doNotMail: false,
        doNotService: false,
        mergedToExternalId: null,
      },
    });
  });

  it('when the row is built, then raw is the record as received (same object, not a copy)', () => {
    const record = customer();
    expect(row(mapCustomer(record, COMPANY)).raw).toBe(record);
  });

  it('when the legacy oddities arrive (null type, null country, null externalData, year-1 createdOn, extra whitespace), then the row is still built', () => {
    const record = customer({
      id: 10000002,
      name: ' Acme Heating  LLC',
      type: null,
      address: {
        street: ' 9 Industrial  Pkwy ',
        unit: 'Ste 4',
        city: 'Toronto',
        state: 'ON',
        zip: 'M5H 2A4',
        country: null,
        latitude: null,
        longitude: null,
      },
      balance: 0,
      createdOn: '0001-01-01T00:00:00Z',
      createdById: 0,
      externalData: null,
      doNotMail: true,
    });
    expect(row(mapCustomer(record, COMPANY))).toMatchObject({
      externalId: '10000002',
      name: 'Acme Heating LLC',
      customerType: null,
      // Untyped: not split, a business name would become "Acme Heating" / "LLC".
      firstName: null,
      lastName: null,
      street: '9 Industrial Pkwy',
      unit: 'Ste 4',
      zip: 'M5H 2A4',
      country: null,
      sourceCreatedOn: null,
      sourceModifiedOn: new Date('2024-01-15T10:00:00Z'),
      balance: '0.00',
      doNotMail: true,
    });
  });

  it('when a customer was merged, then it is inactive and points to the customer it was merged into', () => {
    const record = customer({
      id: 10000003,
      active: false,
      mergedToId: 10000001,
      address: null,
      type: 'Commercial',
    });
    expect(row(mapCustomer(record, COMPANY))).toMatchObject({
      active: false,
      mergedToExternalId: '10000001',
      street: null,
      unit: null,
      city: null,
      state: null,
      zip: null,
      country: null,
    });
  });

  it('when active, flags or balance are null, then active is true and the others are null', () => {
    const result = row(
      mapCustomer(
        customer({ active: null, doNotMail: null, doNotService: undefined, balance: null }),
        COMPANY,
      ),
    );
    expect(result).toMatchObject({ active: true, doNotMail: null, doNotService: null, balance: null });
  });

  it('when mergedToId is 0, then there is no merge target', () => {
    expect(row(mapCustomer(customer({ mergedToId: 0 }), COMPANY)).mergedToExternalId).toBeNull();
  });

  it('when address fields are blank, then they are null', () => {
    const record = customer({
      address: { street: '', unit: '   ', city: 'Phoenix ', state: 'AZ', zip: '', country: '' },
    });
    expect(row(mapCustomer(record, COMPANY))).toMatchObject({
      street: null,
      unit: null,
      city: 'Phoenix',
      zip: null,
      country: null,
    });
  });

  it.each([
    ['-12.5', '-12.50'],
    ['1.0000000000000000000', '1.00'],
    ['12345678901234567.89', '12345678901234567.89'],
    [2500, '2500.00'],
    ['', null],
  ])('when balance is %j, then it is stored as %j', (balance, expected) => {
    expect(row(mapCustomer(customer({ balance }), COMPANY)).balance).toBe(expected);
  });

  it.each([
    ['Residential', 'Smith, John', 'John', 'Smith'],
    ['Residential', 'John  Smith', 'John', 'Smith'],
    ['Residential', 'Cher', null, 'Cher'],
    ['Residential', 'José Núñez', 'José', 'Núñez'],
    ['residential', 'Mary Ann Smith', 'Mary Ann', 'Smith'],
    ['Commercial', 'Smith Plumbing Inc', null, null],
    [null, 'John Smith', null, null],
  ])('when a %s customer is named %j, then first and last names are %j / %j', (type, name, first, last) => {
    expect(row(mapCustomer(customer({ type, name }), COMPANY))).toMatchObject({
      firstName: first,
      lastName: last,
    });
  });

  it('when the type is one ServiceTitan added later, then it is kept as sent', () => {
    expect(row(mapCustomer(customer({ type: 'Government' }), COMPANY)).customerType).toBe('Government');
  });

  it('when the fixture page is parsed by the stream schema, then every accepted record maps', () => {
    const records = fixtureRecords(customerSchema, 'export-customers.json');
    const results = records.map((r) => mapCustomer(r, COMPANY));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(results.map((r) => r.ok && r.row.name)).toEqual([
      'Olivia Martinez',
      'Acme Heating LLC',
      'Merged Customer',
    ]);
  });

  describe('records that cannot be stored', () => {
    it('when modifiedOn is not a date, then the record is skipped with a readable reason', () => {
      const record = unchecked<CustomerRecord>(customerPayload({ modifiedOn: 'garbage' }));
      expect(mapCustomer(record, COMPANY)).toEqual({
        ok: false,
        externalId: '10000001',
        reason: 'modifiedOn is missing or not a date: "garbage"',
      });
    });

    it('when modifiedOn is the year-1 placeholder, then the record is skipped', () => {
      // It passes the stream schema (Date.parse accepts it) but cannot drive the modifiedOn guard.
      const record = customer({ modifiedOn: '0001-01-01T00:00:00Z' });
      expect(mapCustomer(record, COMPANY)).toEqual({
        ok: false,
        externalId: '10000001',
        reason: 'modifiedOn is missing or not a date: "0001-01-01T00:00:00Z"',
      });
    });

    it('when modifiedOn is missing, then the record is skipped', () => {
      const { modifiedOn: _, ...rest } = customerPayload();
      const result = mapCustomer(unchecked<CustomerRecord>(rest), COMPANY);
      expect(result).toEqual({
        ok: false,
        externalId: '10000001',
        reason: 'modifiedOn is missing or not a date: undefined',
      });
    });

    it('when there is no id, then the record is skipped without an external id', () => {
      const result = mapCustomer(unchecked<CustomerRecord>(customerPayload({ id: undefined })), COMPANY);
      expect(result).toEqual({
        ok: false,
        externalId: null,
        reason: 'id is missing or not an id: undefined',
      });
    });

    it('when the balance is not a number, then the record is skipped rather than stored with a wrong amount', () => {
      const result = mapCustomer(unchecked<CustomerRecord>(customerPayload({ balance: 'n/a' })), COMPANY);
      expect(result).toEqual({
        ok: false,
        externalId: '10000001',
        reason: 'balance is not a decimal number: "n/a"',
      });
    });

    it.each([
      [null],
      [{}],
      [[]],
      ['customer'],
      [{ id: 1, modifiedOn: '2024-01-15T10:00:00Z', address: 'somewhere', name: 7, type: {}, balance: {} }],
      [{ id: 1, modifiedOn: '2024-01-15T10:00:00Z', address: [], mergedToId: -4, active: 'yes' }],
    ])('when the input is as odd as %j, then a result comes back instead of an exception', (input) => {
      const result = mapCustomer(unchecked<CustomerRecord>(input), COMPANY);
      expect(typeof result.ok).toBe('boolean');
      if (!result.ok) expect(result.reason).not.toMatch(/unexpected error/);
    });
  });
});
