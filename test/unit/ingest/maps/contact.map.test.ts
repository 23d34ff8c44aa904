import { describe, expect, it } from 'vitest';
import { mapContact } from '../../../../src/ingest/maps/index.js';
import type { ContactRow, MapResult } from '../../../../src/ingest/maps/types.js';
import {
  type CustomerContactRecord,
  customerContactSchema,
} from '../../../../src/servicetitan/streams/index.js';
import { COMPANY, contact, contactPayload, fixtureRecords, unchecked } from '../payloads.js';

function row(result: MapResult<ContactRow>): ContactRow {
  if (!result.ok) throw new Error(`expected a row, got a skip: ${result.reason}`);
  return result.row;
}

describe('mapContact', () => {
  it('when the export page of the fixtures is mapped, then phone and email rows come out as stored', () => {
    const records = fixtureRecords(customerContactSchema, 'export-customer-contacts.json');
    expect(records.map((r) => mapContact(r, COMPANY))).toEqual([
      {
        ok: true,
        row: {
          companyId: 42,
          environment: 'production',
          externalId: '30000001',
          customerExternalId: '10000001',
          type: 'MobilePhone',
          value: '6025550143',
          active: true,
          sourceModifiedOn: new Date('2024-01-15T10:00:00Z'),
        },
      },
      {
        ok: true,
        row: {
          companyId: 42,
          environment: 'production',
          externalId: '30000002',
          customerExternalId: '10000001',
          type: 'Email',
          value: 'olivia.martinez@example.com',
          active: false,
          sourceModifiedOn: new Date('2024-01-15T10:00:01Z'),
        },
      },
    ]);
  });

  it('when an email has padding and capitals, then it is trimmed and lower-cased', () => {
    const result = row(
      mapContact(contact({ type: 'Email', value: '  Olivia.Martinez@Example.COM ' }), COMPANY),
    );
    expect(result.value).toBe('olivia.martinez@example.com');
  });

  it('when an email is invalid, then the row is kept with a null value', () => {
    const result = mapContact(contact({ type: 'Email', value: 'olivia at example dot com' }), COMPANY);
    expect(result).toMatchObject({ ok: true, row: { type: 'Email', value: null, externalId: '30000001' } });
  });

  it.each([
    ['Phone', '(602) 555-0143', '6025550143'],
    ['MobilePhone', '+1 602.555.0143', '6025550143'],
    ['Fax', '1-602-555-0143', '6025550143'],
    ['Phone', '602-555-0143 ext. 12', '6025550143 x12'],
    ['Phone', '+44 20 7946 0958', '+442079460958'],
    ['Phone', '555-0143', null],
  ])('when a %s number is %j, then the value is %j', (type, value, expected) => {
    expect(row(mapContact(contact({ type, value }), COMPANY)).value).toBe(expected);
  });

  it('when a phone value is empty, then phoneSettings.phoneNumber stands in', () => {
    const record = contact({ value: '', phoneSettings: { phoneNumber: '602 555 0143', doNotText: true } });
    expect(row(mapContact(record, COMPANY)).value).toBe('6025550143');
  });

  it('when the type is unknown or null, then it is Other and the value is only trimmed', () => {
    expect(row(mapContact(contact({ type: 'Pager', value: ' 555 0143 ' }), COMPANY))).toMatchObject({
      type: 'Other',
      value: '555 0143',
    });
    expect(row(mapContact(contact({ type: null }), COMPANY)).type).toBe('Other');
  });

  it('when the type is spelled differently, then it still maps to the known type', () => {
    expect(row(mapContact(contact({ type: 'Mobile Phone' }), COMPANY)).type).toBe('MobilePhone');
    expect(row(mapContact(contact({ type: 'email', value: 'a@example.com' }), COMPANY)).type).toBe('Email');
  });

  it('when active is absent (list endpoint shape), then the contact is active', () => {
    const { active: _, ...listShape } = contactPayload();
    expect(row(mapContact(customerContactSchema.parse(listShape), COMPANY)).active).toBe(true);
  });

  it('when modifiedOn is not a date, then the contact is skipped with a reason', () => {
    const result = mapContact(
      unchecked<CustomerContactRecord>(contactPayload({ modifiedOn: 'garbage' })),
      COMPANY,
    );
    expect(result).toEqual({
      ok: false,
      externalId: '30000001',
      reason: 'modifiedOn is missing or not a date: "garbage"',
    });
  });

  it('when the customer id is missing, then the contact is skipped: it belongs to nobody', () => {
    const result = mapContact(
      unchecked<CustomerContactRecord>(contactPayload({ customerId: null })),
      COMPANY,
    );
    expect(result).toEqual({
      ok: false,
      externalId: '30000001',
      reason: 'customerId is missing or not an id: null',
    });
  });

  it('when there is no id, then the contact is skipped without an external id', () => {
    const result = mapContact(unchecked<CustomerContactRecord>(contactPayload({ id: 'abc' })), COMPANY);
    expect(result).toEqual({ ok: false, externalId: null, reason: 'id is missing or not an id: "abc"' });
  });

  it.each([
    [null],
    [{}],
    [{ id: 1, customerId: 2, modifiedOn: '2024-01-15T10:00:00Z', phoneSettings: 'x', value: 5 }],
  ])('when the input is as odd as %j, then a result comes back instead of an exception', (input) => {
    const result = mapContact(unchecked<CustomerContactRecord>(input), COMPANY);
    expect(typeof result.ok).toBe('boolean');
    if (!result.ok) expect(result.reason).not.toMatch(/unexpected error/);
  });
});
