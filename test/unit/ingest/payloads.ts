/**
 * Real-shaped ServiceTitan payloads for the map tests, built from API-NOTES and the OpenAPI
 * schemas (Crm.V2.ExportCustomerResponse, ExportCustomerContactResponse,
 * Accounting.V2.ExportInvoiceResponse), then parsed by the stream schemas exactly as the sync does.
 */
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { splitRecords } from '../../../src/servicetitan/paginate.js';
import {
  type CustomerContactRecord,
  type CustomerRecord,
  customerContactSchema,
  customerSchema,
  type InvoiceRecord,
  invoiceSchema,
} from '../../../src/servicetitan/streams/index.js';

export const COMPANY = { companyId: 42, environment: 'production' } as const;

export function fixtureData(name: string): unknown[] {
  const url = new URL(`../../fixtures/servicetitan/${name}`, import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { data: unknown[] }).data;
}

/** Records of a fixture file that pass the stream schema, as the paginator hands them over. */
export function fixtureRecords<T>(schema: z.ZodType<T>, name: string): T[] {
  return splitRecords(schema, fixtureData(name)).records;
}

export function customerPayload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 10000001,
    active: true,
    name: 'Olivia Martinez',
    type: 'Residential',
    address: {
      street: '1234 Oak Ridge Dr',
      unit: null,
      city: 'Phoenix',
      state: 'AZ',
      zip: '85004',
      country: 'USA',
      latitude: 33.4484,
      longitude: -112.074,
    },
    customFields: [{ typeId: 2001, name: 'Referral source', value: 'Google' }],
    balance: 125.5,
    taxExempt: false,
    tagTypeIds: [301, 305],
    doNotMail: false,
    doNotService: false,
    nationalAccount: false,
    createdOn: '2021-03-04T17:22:10.123Z',
    createdById: 1001,
    modifiedOn: '2024-01-15T10:00:00Z',
    mergedToId: null,
    paymentTermId: null,
    creditLimit: null,
    creditLimitBalance: null,
    externalData: [],
    ...overrides,
  };
}

export function contactPayload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    modifiedOn: '2024-01-15T10:00:00Z',
    phoneSettings: { phoneNumber: '6025550143', doNotText: false },
    createdOn: '2021-03-04T17:22:10Z',
    preferences: null,
    id: 30000001,
    type: 'Phone',
    value: '6025550143',
    memo: null,
    customerId: 10000001,
    active: true,
    ...overrides,
  };
}

export function itemPayload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 100000001,
    description: '<p>Run capacitor 45/5 MFD</p>',
    quantity: '1.0000000000000000000',
    cost: '12.50',
    totalCost: '12.50',
    price: '250.00',
    type: 'Material',
    skuName: 'CAP-455',
    skuId: 9001,
    total: '250.00',
    inventory: true,
    taxable: true,
    isChargeable: true,
    membershipTypeId: 0,
    createdOn: '2024-01-31T18:03:11Z',
    modifiedOn: '2024-01-31T18:03:11Z',
    order: 1,
    addOn: false,
    ...overrides,
  };
}

export function invoicePayload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 50000001,
    syncStatus: 'Pending',
    summary: '<p>Replaced capacitor</p>',
    referenceNumber: ' INV-000123 ',
    invoiceDate: '2024-03-01T00:00:00Z',
    dueDate: '2024-03-31T00:00:00Z',
    subTotal: '250.0000000000',
    salesTax: '21.25',
    total: '271.25',
    balance: '0.00',
    discountTotal: '0.00',
    invoiceType: null,
    customer: { id: 10000001, name: 'Olivia  Martinez ' },
    customerAddress: {
      street: '1234 Oak Ridge Dr',
      unit: null,
      city: 'Phoenix',
      state: 'AZ',
      zip: '85004',
      country: null,
    },
    location: { id: 20000001, name: 'Home' },
    locationAddress: {
      street: '1234 Oak Ridge Dr',
      unit: null,
      city: 'Phoenix',
      state: 'AZ',
      zip: '85004',
      country: 'USA',
    },
    businessUnit: { id: 11, name: 'HVAC Service' },
    termName: 'Net 30',
    createdBy: 'dispatch',
    batch: null,
    job: { id: 40000001, number: 'J-1001', type: 'Repair' },
    createdOn: '2024-03-01T18:03:11Z',
    modifiedOn: '2024-03-02T09:00:00Z',
    active: true,
    invoiceConfiguration: 'JobInvoice',
    sentStatus: 'Sent',
    reviewStatus: 'Reviewed',
    items: [itemPayload()],
    customFields: null,
    ...overrides,
  };
}

export const customer = (overrides: Record<string, unknown> = {}): CustomerRecord =>
  customerSchema.parse(customerPayload(overrides));
export const contact = (overrides: Record<string, unknown> = {}): CustomerContactRecord =>
  customerContactSchema.parse(contactPayload(overrides));
export const invoice = (overrides: Record<string, unknown> = {}): InvoiceRecord =>
  invoiceSchema.parse(invoicePayload(overrides));

/**
 * A record that drifted past the schema (or was never checked): the maps must still answer with a
 * result, never an exception.
 */
export const unchecked = <T>(value: unknown): T => value as T;
