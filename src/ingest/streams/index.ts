import type { SyncStreamName } from '../../workflows/definitions.js';
import { customerContactsSyncStream } from './customer-contacts.sync-stream.js';
import { customersSyncStream } from './customers.sync-stream.js';
import type { SyncStream } from './define-sync-stream.js';
import { invoicesSyncStream } from './invoices.sync-stream.js';

export { customerContactsSyncStream } from './customer-contacts.sync-stream.js';
export { customersSyncStream } from './customers.sync-stream.js';
export {
  defineSyncStream,
  type SyncStream,
  type TargetColumn,
  type TargetTable,
} from './define-sync-stream.js';
export { invoicesSyncStream } from './invoices.sync-stream.js';

/** Every synced stream by name: the sync path looks a stream up here and does the rest alike. */
export const syncStreams: { readonly [S in SyncStreamName]: SyncStream<S> } = {
  customers: customersSyncStream,
  customerContacts: customerContactsSyncStream,
  invoices: invoicesSyncStream,
};
