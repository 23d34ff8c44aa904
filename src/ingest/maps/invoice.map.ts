import type { InvoiceRecord } from '../../servicetitan/streams/invoices.stream.js';
import { calendarDate, parseTimestamp } from '../normalise/dates.js';
import { cleanText, plainText } from '../normalise/text.js';
import { decimalField, guard, idOf, MapFailure, objectOf, refOf, show } from './fields.js';
import { type InvoiceItem, type InvoiceRow, type MapContext, type MapResult, SOFTWARE } from './types.js';

/**
 * A ServiceTitan invoice → an invoice row with its items. modifiedOn is nullable for invoices:
 * createdOn stands in for it, and the record is refused only when neither is a usable date. Any
 * amount (invoice or item) that is not a decimal refuses the whole invoice rather than storing a
 * wrong total.
 */
export function mapInvoice(record: InvoiceRecord, context: MapContext): MapResult<InvoiceRow> {
  const source = record as unknown as Record<string, unknown>;
  const externalId = idOf(source?.id);
  return guard(externalId, () => {
    if (externalId === null) throw new MapFailure(`id is missing or not an id: ${show(source?.id)}`);
    const sourceCreatedOn = parseTimestamp(source.createdOn);
    const sourceModifiedOn = parseTimestamp(source.modifiedOn) ?? sourceCreatedOn;
    if (sourceModifiedOn === null) {
      throw new MapFailure(
        `modifiedOn is missing or not a date: ${show(source.modifiedOn)}, ` +
          `and createdOn is missing or not a date: ${show(source.createdOn)}`,
      );
    }
    const customer = objectOf(source.customer);
    const job = objectOf(source.job);
    const items = mapItems(source.items);
    return {
      companyId: context.companyId,
      environment: context.environment,
      software: SOFTWARE,
      externalId,
      active: source.active !== false,
      sourceCreatedOn,
      sourceModifiedOn,
      raw: record,
      invoiceNumber: cleanText(source.referenceNumber),
      invoiceDate: calendarDate(source.invoiceDate),
      dueDate: calendarDate(source.dueDate),
      customerExternalId: refOf(customer?.id),
      customerName: cleanText(customer?.name),
      locationExternalId: refOf(objectOf(source.location)?.id),
      businessUnit: cleanText(objectOf(source.businessUnit)?.name),
      jobNumber: cleanText(job?.number),
      jobType: cleanText(job?.type),
      subtotal: decimalField(source.subTotal, 'subTotal'),
      salesTax: decimalField(source.salesTax, 'salesTax'),
      total: decimalField(source.total, 'total'),
      balance: decimalField(source.balance, 'balance'),
      itemCount: items.length,
      items,
    };
  });
}

function mapItems(value: unknown): InvoiceItem[] {
  if (!Array.isArray(value)) return [];
  const items: InvoiceItem[] = new Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const item = objectOf(value[i]);
    const externalId = idOf(item?.id);
    if (item === undefined || externalId === null) {
      throw new MapFailure(`items[${i}].id is missing or not an id: ${show(item?.id)}`);
    }
    items[i] = {
      externalId,
      description: plainText(item.description),
      quantity: decimalField(item.quantity, `items[${i}].quantity`),
      price: decimalField(item.price, `items[${i}].price`),
      total: decimalField(item.total, `items[${i}].total`),
      type: cleanText(item.type),
      skuName: cleanText(item.skuName),
    };
  }
  return items;
}
