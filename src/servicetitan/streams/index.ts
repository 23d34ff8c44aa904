import type { z } from 'zod';
import { customerContactsStream } from './customer-contacts.stream.js';
import { customersStream } from './customers.stream.js';
import { invoicesStream } from './invoices.stream.js';
import { locationsStream } from './locations.stream.js';

export {
  type CustomerContactRecord,
  customerContactSchema,
  customerContactsStream,
} from './customer-contacts.stream.js';
export { type CustomerRecord, customerSchema, customersStream } from './customers.stream.js';
export { defineStream, modulePath, type StreamDefinition } from './define-stream.js';
export { type InvoiceRecord, invoiceItemSchema, invoiceSchema, invoicesStream } from './invoices.stream.js';
export { type LocationRecord, locationSchema, locationsStream } from './locations.stream.js';

/** Every stream the client knows, by name. */
export const streams = {
  customers: customersStream,
  customerContacts: customerContactsStream,
  locations: locationsStream,
  invoices: invoicesStream,
} as const;

export type Streams = typeof streams;
export type StreamName = keyof Streams;
export type RecordOf<S extends StreamName> = z.output<Streams[S]['schema']>;
export const streamNames = Object.keys(streams) as StreamName[];
