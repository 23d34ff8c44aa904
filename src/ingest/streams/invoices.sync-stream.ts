import { mapInvoice } from '../maps/invoice.map.js';
import { defineSyncStream, sourceRecordColumns, sourceRecordKey } from './define-sync-stream.js';

/** Invoices with their items → `invoices_stream` (the seeds' InvoiceRecord). */
export const invoicesSyncStream = defineSyncStream({
  name: 'invoices',
  map: mapInvoice,
  target: {
    table: 'invoices_stream',
    key: sourceRecordKey,
    runColumn: true,
    columns: [
      ...sourceRecordColumns,
      { name: 'invoice_number', from: 'invoiceNumber' },
      { name: 'invoice_date', from: 'invoiceDate' },
      { name: 'due_date', from: 'dueDate' },
      { name: 'customer_external_id', from: 'customerExternalId' },
      { name: 'customer_name', from: 'customerName' },
      { name: 'location_external_id', from: 'locationExternalId' },
      { name: 'business_unit', from: 'businessUnit' },
      { name: 'job_number', from: 'jobNumber' },
      { name: 'job_type', from: 'jobType' },
      { name: 'subtotal', from: 'subtotal' },
      { name: 'sales_tax', from: 'salesTax' },
      { name: 'total', from: 'total' },
      { name: 'balance', from: 'balance' },
      { name: 'item_count', from: 'itemCount' },
      { name: 'items', from: 'items', encode: 'json' },
    ],
  },
});
