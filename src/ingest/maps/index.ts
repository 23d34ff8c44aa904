export { contactTypeOf, mapContact } from './contact.map.js';
export { mapInvoice } from './invoice.map.js';
export { mapCustomer } from './member.map.js';
export {
  type ContactRow,
  type ContactType,
  type InvoiceItem,
  type InvoiceRow,
  type MapContext,
  type MapResult,
  type MemberRow,
  SOFTWARE,
} from './types.js';
