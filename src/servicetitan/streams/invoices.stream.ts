import { z } from 'zod';
import { dateTime, decimal, id, listOf, namedRef, nullableString, optionalId } from './common.js';
import { defineStream } from './define-stream.js';

const invoiceAddress = z.looseObject({
  street: nullableString,
  unit: nullableString,
  city: nullableString,
  state: nullableString,
  zip: nullableString,
  country: nullableString,
});

/** Accounting.V2.InvoiceItemResponse: money and quantity as decimal strings. */
export const invoiceItemSchema = z.looseObject({
  id,
  description: nullableString,
  quantity: decimal.nullish(),
  cost: decimal.nullish(),
  totalCost: decimal.nullish(),
  price: decimal.nullish(),
  total: decimal.nullish(),
  memberPrice: decimal.nullish(),
  type: z.string().nullish(),
  skuName: nullableString,
  skuId: optionalId,
  displayName: nullableString,
  inventory: z.boolean().nullish(),
  taxable: z.boolean().nullish(),
  isChargeable: z.boolean().nullish(),
  order: z.number().int().nullish(),
  addOn: z.boolean().nullish(),
  serviceDate: dateTime.nullish(),
  createdOn: dateTime.nullish(),
  modifiedOn: dateTime.nullish(),
  businessUnit: namedRef.nullish(),
});

/** Accounting.V2.ExportInvoiceResponse / InvoiceResponse. */
export const invoiceSchema = z.looseObject({
  id,
  active: z.boolean().nullish(),
  referenceNumber: nullableString,
  invoiceDate: dateTime.nullish(),
  dueDate: dateTime.nullish(),
  subTotal: decimal.nullish(),
  salesTax: decimal.nullish(),
  total: decimal.nullish(),
  balance: decimal.nullish(),
  discountTotal: decimal.nullish(),
  invoiceType: namedRef.nullish(),
  customer: namedRef.nullish(),
  customerAddress: invoiceAddress.nullish(),
  location: namedRef.nullish(),
  locationAddress: invoiceAddress.nullish(),
  businessUnit: namedRef.nullish(),
  termName: nullableString,
  createdBy: nullableString,
  batch: z.looseObject({ id: optionalId, number: nullableString, name: nullableString }).nullish(),
  job: z.looseObject({ id: optionalId, number: nullableString, type: nullableString }).nullish(),
  paidOn: dateTime.nullish(),
  depositedOn: dateTime.nullish(),
  createdOn: dateTime.nullish(),
  /** Nullable in the spec; the caller falls back to createdOn for such rows. */
  modifiedOn: dateTime.nullish(),
  adjustmentToId: optionalId,
  projectId: optionalId,
  invoiceConfiguration: z.string().nullish(),
  sentStatus: z.string().nullish(),
  reviewStatus: z.string().nullish(),
  items: listOf(invoiceItemSchema),
  customFields: listOf(z.looseObject({ name: nullableString, value: nullableString })),
});

export type InvoiceRecord = z.infer<typeof invoiceSchema>;

export const invoicesStream = defineStream({
  name: 'invoices',
  module: 'accounting',
  exportPath: '/export/invoices',
  listPath: '/invoices',
  // The list endpoint defaults to ActiveOnly; we want voided/inactive invoices as well.
  listParams: { activeState: 'All' },
  schema: invoiceSchema,
  primaryKey: 'id',
  cursorField: 'modifiedOn',
});
