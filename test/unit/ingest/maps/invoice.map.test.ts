import { afterEach, describe, expect, it } from 'vitest';
import { mapInvoice } from '../../../../src/ingest/maps/index.js';
import type { InvoiceRow, MapResult } from '../../../../src/ingest/maps/types.js';
import { type InvoiceRecord, invoiceSchema } from '../../../../src/servicetitan/streams/index.js';
import {
  COMPANY,
  fixtureData,
  fixtureRecords,
  invoice,
  invoicePayload,
  itemPayload,
  unchecked,
} from '../payloads.js';

function row(result: MapResult<InvoiceRow>): InvoiceRow {
  if (!result.ok) throw new Error(`expected a row, got a skip: ${result.reason}`);
  return result.row;
}

describe('mapInvoice', () => {
  const originalTz = process.env.TZ;
  afterEach(() => {
    process.env.TZ = originalTz;
  });

  it('when a full invoice arrives, then the row carries its header, amounts and compact items', () => {
    const record = invoice();
    expect(mapInvoice(record, COMPANY)).toEqual({
      ok: true,
      row: {
        companyId: 42,
        environment: 'production',
        software: 'ServiceTitan',
        externalId: '50000001',
        active: true,
        sourceCreatedOn: new Date('2024-03-01T18:03:11Z'),
        sourceModifiedOn: new Date('2024-03-02T09:00:00Z'),
        raw: record,
        invoiceNumber: 'INV-000123',
        invoiceDate: '2024-03-01',
        dueDate: '2024-03-31',
        customerExternalId: '10000001',
        customerName: 'Olivia Martinez',
        locationExternalId: '20000001',
        businessUnit: 'HVAC Service',
        jobNumber: 'J-1001',
        jobType: 'Repair',
        subtotal: '250.00',
        salesTax: '21.25',
        total: '271.25',
        balance: '0.00',
        itemCount: 1,
        items: [
          {
            externalId: '100000001',
            description: 'Run capacitor 45/5 MFD',
            quantity: '1.00',
            price: '250.00',
            total: '250.00',
            type: 'Material',
            skuName: 'CAP-455',
          },
        ],
      },
    });
  });

  it('when invoiceDate is midnight Z, then the calendar date is kept even in a time zone west of UTC', () => {
    process.env.TZ = 'America/Los_Angeles';
    const result = row(mapInvoice(invoice({ invoiceDate: '2024-03-01T00:00:00Z' }), COMPANY));
    expect(result.invoiceDate).toBe('2024-03-01');
  });

  it('when money arrives in every shape the API uses, then each amount is an exact canonical string', () => {
    const record = invoice({
      subTotal: 99.5,
      salesTax: '0',
      total: '12345678901234567.89',
      balance: '-12.5',
      items: [
        itemPayload({ id: 1, quantity: '2.2500000000000000000', price: '125.5000000000', total: '282.375' }),
        itemPayload({ id: 2, quantity: '1e2', price: '-0.5', total: '-50' }),
      ],
    });
    const result = row(mapInvoice(record, COMPANY));
    expect(result).toMatchObject({
      subtotal: '99.50',
      salesTax: '0.00',
      total: '12345678901234567.89',
      balance: '-12.50',
      itemCount: 2,
    });
    expect(result.items.map((i) => [i.quantity, i.price, i.total])).toEqual([
      ['2.25', '125.50', '282.375'],
      ['100.00', '-0.50', '-50.00'],
    ]);
  });

  it('when modifiedOn is null, then createdOn stands in for it', () => {
    const result = row(mapInvoice(invoice({ modifiedOn: null, createdOn: '2024-02-01T08:00:00Z' }), COMPANY));
    expect(result.sourceModifiedOn).toEqual(new Date('2024-02-01T08:00:00Z'));
    expect(result.sourceCreatedOn).toEqual(new Date('2024-02-01T08:00:00Z'));
  });

  it('when modifiedOn is garbage but createdOn is a date, then createdOn stands in for it', () => {
    const result = row(
      mapInvoice(invoice({ modifiedOn: 'garbage', createdOn: '2024-02-01T08:00:00Z' }), COMPANY),
    );
    expect(result.sourceModifiedOn).toEqual(new Date('2024-02-01T08:00:00Z'));
  });

  it('when createdOn is the year-1 placeholder, then sourceCreatedOn is null', () => {
    expect(
      row(mapInvoice(invoice({ createdOn: '0001-01-01T00:00:00Z' }), COMPANY)).sourceCreatedOn,
    ).toBeNull();
  });

  it('when items, customer, location, job and business unit are null, then the row has nulls and no items', () => {
    const record = invoice({
      items: null,
      customer: null,
      location: null,
      job: null,
      businessUnit: null,
      referenceNumber: null,
      invoiceDate: null,
      dueDate: null,
      active: null,
      subTotal: null,
    });
    expect(row(mapInvoice(record, COMPANY))).toMatchObject({
      active: true,
      invoiceNumber: null,
      invoiceDate: null,
      dueDate: null,
      customerExternalId: null,
      customerName: null,
      locationExternalId: null,
      businessUnit: null,
      jobNumber: null,
      jobType: null,
      subtotal: null,
      itemCount: 0,
      items: [],
    });
  });

  it('when an item description is HTML with entities, then the compact item holds plain text', () => {
    const record = invoice({ items: [itemPayload({ description: '<p>Coil &amp; filter<br>cleaning</p>' })] });
    expect(row(mapInvoice(record, COMPANY)).items[0]?.description).toBe('Coil & filter cleaning');
  });

  it('when the fixture page is parsed by the stream schema, then every accepted record maps', () => {
    const results = fixtureRecords(invoiceSchema, 'export-invoices.json').map((r) => mapInvoice(r, COMPANY));
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    expect(results[1]).toMatchObject({
      ok: true,
      row: {
        active: false,
        sourceModifiedOn: new Date('2024-02-01T08:00:00Z'),
        subtotal: '99.50',
        salesTax: '0.00',
        items: [],
        customerName: 'Acme Heating LLC',
      },
    });
  });

  describe('records that cannot be stored', () => {
    it('when both modifiedOn and createdOn are unusable, then the invoice is skipped naming both', () => {
      const record = invoice({ modifiedOn: null, createdOn: '0001-01-01T00:00:00Z' });
      expect(mapInvoice(record, COMPANY)).toEqual({
        ok: false,
        externalId: '50000001',
        reason:
          'modifiedOn is missing or not a date: null, and createdOn is missing or not a date: "0001-01-01T00:00:00Z"',
      });
    });

    it('when the total is not a number, then the invoice is skipped rather than stored with a wrong total', () => {
      // The third fixture record: the stream schema refuses it; the map must refuse it too if it gets there.
      const raw = fixtureData('export-invoices.json')[2];
      expect(mapInvoice(unchecked<InvoiceRecord>(raw), COMPANY)).toEqual({
        ok: false,
        externalId: '50000003',
        reason: 'total is not a decimal number: "twelve dollars"',
      });
    });

    it('when an item quantity is not a number, then the invoice is skipped and the item named', () => {
      const raw = invoicePayload({ items: [itemPayload(), itemPayload({ id: 2, quantity: 'lots' })] });
      expect(mapInvoice(unchecked<InvoiceRecord>(raw), COMPANY)).toEqual({
        ok: false,
        externalId: '50000001',
        reason: 'items[1].quantity is not a decimal number: "lots"',
      });
    });

    it('when an item has no id, then the invoice is skipped and the item named', () => {
      const raw = invoicePayload({ items: [itemPayload({ id: null })] });
      expect(mapInvoice(unchecked<InvoiceRecord>(raw), COMPANY)).toEqual({
        ok: false,
        externalId: '50000001',
        reason: 'items[0].id is missing or not an id: null',
      });
    });

    it('when there is no id, then the invoice is skipped without an external id', () => {
      const result = mapInvoice(unchecked<InvoiceRecord>(invoicePayload({ id: 1.5 })), COMPANY);
      expect(result).toEqual({ ok: false, externalId: null, reason: 'id is missing or not an id: 1.5' });
    });

    it.each([
      [null],
      [{}],
      [{ id: 1, createdOn: '2024-02-01T08:00:00Z', items: [null] }],
      [{ id: 1, createdOn: '2024-02-01T08:00:00Z', items: 'none', customer: 'x', job: [1], total: {} }],
    ])('when the input is as odd as %j, then a result comes back instead of an exception', (input) => {
      const result = mapInvoice(unchecked<InvoiceRecord>(input), COMPANY);
      expect(typeof result.ok).toBe('boolean');
      if (!result.ok) expect(result.reason).not.toMatch(/unexpected error/);
    });
  });
});
