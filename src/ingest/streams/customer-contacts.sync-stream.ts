import { mapContact } from '../maps/contact.map.js';
import { defineSyncStream } from './define-sync-stream.js';

/** Customer contacts → `servicetitan_customer_contacts`, from which members' email/phone derive. */
export const customerContactsSyncStream = defineSyncStream({
  name: 'customerContacts',
  map: mapContact,
  target: {
    table: 'servicetitan_customer_contacts',
    key: ['company_id', 'environment', 'external_id'],
    runColumn: false,
    columns: [
      { name: 'company_id', from: 'companyId' },
      { name: 'environment', from: 'environment' },
      { name: 'external_id', from: 'externalId' },
      { name: 'customer_external_id', from: 'customerExternalId' },
      { name: 'type', from: 'type' },
      { name: 'value', from: 'value' },
      { name: 'active', from: 'active' },
      { name: 'source_modified_on', from: 'sourceModifiedOn', encode: 'date' },
    ],
  },
});
