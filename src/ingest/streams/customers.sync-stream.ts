import { mapCustomer } from '../maps/member.map.js';
import { defineSyncStream, sourceRecordColumns, sourceRecordKey } from './define-sync-stream.js';

/** Customers → `members_stream` (the seeds' MemberRecord); email and phone come from contacts. */
export const customersSyncStream = defineSyncStream({
  name: 'customers',
  map: mapCustomer,
  target: {
    table: 'members_stream',
    key: sourceRecordKey,
    runColumn: true,
    columns: [
      ...sourceRecordColumns,
      { name: 'name', from: 'name' },
      { name: 'first_name', from: 'firstName' },
      { name: 'last_name', from: 'lastName' },
      { name: 'customer_type', from: 'customerType' },
      { name: 'street', from: 'street' },
      { name: 'unit', from: 'unit' },
      { name: 'city', from: 'city' },
      { name: 'state', from: 'state' },
      { name: 'zip', from: 'zip' },
      { name: 'country', from: 'country' },
      { name: 'balance', from: 'balance' },
      { name: 'do_not_mail', from: 'doNotMail' },
      { name: 'do_not_service', from: 'doNotService' },
      { name: 'merged_to_external_id', from: 'mergedToExternalId' },
    ],
  },
});
