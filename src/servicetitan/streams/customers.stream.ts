import { z } from 'zod';
import {
  address,
  cursorDateTime,
  customField,
  dateTime,
  decimal,
  externalData,
  id,
  listOf,
  optionalId,
} from './common.js';
import { defineStream } from './define-stream.js';

/** Crm.V2.ExportCustomerResponse / Crm.V2.Customers.CustomerResponse. */
export const customerSchema = z.looseObject({
  id,
  active: z.boolean().nullish(),
  name: z.string().nullish(),
  /** Residential | Commercial per spec; seen null, and kept as a string to absorb new values. */
  type: z.string().nullish(),
  address: address.nullish(),
  customFields: listOf(customField),
  balance: decimal.nullish(),
  taxExempt: z.boolean().nullish(),
  tagTypeIds: listOf(z.number().int()),
  doNotMail: z.boolean().nullish(),
  doNotService: z.boolean().nullish(),
  nationalAccount: z.boolean().nullish(),
  createdOn: dateTime.nullish(),
  createdById: optionalId,
  modifiedOn: cursorDateTime,
  mergedToId: optionalId,
  paymentTermId: optionalId,
  creditLimit: decimal.nullish(),
  creditLimitBalance: decimal.nullish(),
  externalData: listOf(externalData),
});

export type CustomerRecord = z.infer<typeof customerSchema>;

export const customersStream = defineStream({
  name: 'customers',
  module: 'crm',
  exportPath: '/export/customers',
  listPath: '/customers',
  // The list endpoint defaults to active=True; we want inactive and merged customers as well.
  listParams: { active: 'Any' },
  schema: customerSchema,
  primaryKey: 'id',
  cursorField: 'modifiedOn',
});
