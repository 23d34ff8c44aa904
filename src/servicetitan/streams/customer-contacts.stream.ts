import { z } from 'zod';
import { cursorDateTime, dateTime, id } from './common.js';
import { defineStream } from './define-stream.js';

/** Crm.V2.ExportCustomerContactResponse (export) / CustomerContactWithModifiedOnAndCustomerIdResponse (list). */
export const customerContactSchema = z.looseObject({
  id,
  /** Phone | Email | Fax | MobilePhone; a string to absorb new types. */
  type: z.string().nullish(),
  value: z.string().nullish(),
  memo: z.string().nullish(),
  customerId: id,
  /** Only the export feed carries `active`; list records are active by construction. */
  active: z.boolean().nullish(),
  phoneSettings: z
    .looseObject({ phoneNumber: z.string().nullish(), doNotText: z.boolean().nullish() })
    .nullish(),
  preferences: z
    .looseObject({
      jobRemindersEnabled: z.boolean().nullish(),
      marketingUpdatesEnabled: z.boolean().nullish(),
      invoiceStatementNotification: z.boolean().nullish(),
    })
    .nullish(),
  createdOn: dateTime.nullish(),
  modifiedOn: cursorDateTime,
});

export type CustomerContactRecord = z.infer<typeof customerContactSchema>;

export const customerContactsStream = defineStream({
  name: 'customerContacts',
  module: 'crm',
  exportPath: '/export/customers/contacts',
  listPath: '/customers/contacts',
  listParams: {},
  schema: customerContactSchema,
  primaryKey: 'id',
  cursorField: 'modifiedOn',
});
