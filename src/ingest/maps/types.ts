/**
 * The rows the record maps produce: what a file upload of ServiceTitan reports would give, one
 * row per source record, keyed (companyId, environment, software, externalId). The batch upsert
 * and the tables are written against these types.
 */

export const SOFTWARE = 'ServiceTitan' as const;

/**
 * The ServiceTitan environment a row came from. A company may connect an Integration (test) and a
 * Production tenant whose record ids overlap, so every row is keyed by it too.
 */
export type RowEnvironment = 'integration' | 'production';

interface CommonRow {
  companyId: number;
  environment: RowEnvironment;
  software: typeof SOFTWARE;
  /** The ServiceTitan id as a string. */
  externalId: string;
  /** null in the source → true. */
  active: boolean;
  /** "0001-01-01…" and unparseable → null. */
  sourceCreatedOn: Date | null;
  /** Required; the modifiedOn guard of the upsert relies on it. */
  sourceModifiedOn: Date;
  /** The record as received. */
  raw: unknown;
}

export interface MemberRow extends CommonRow {
  /** Trimmed, whitespace collapsed. */
  name: string | null;
  /** Residential customers only; commercial (and untyped) → both null. */
  firstName: string | null;
  lastName: string | null;
  /** 'Residential' | 'Commercial' | any other string as sent | null. */
  customerType: string | null;
  street: string | null;
  unit: string | null;
  city: string | null;
  state: string | null;
  zip: string | null;
  country: string | null;
  /** Exact canonical decimal string. */
  balance: string | null;
  doNotMail: boolean | null;
  doNotService: boolean | null;
  mergedToExternalId: string | null;
}

export type ContactType = 'Email' | 'Phone' | 'MobilePhone' | 'Fax' | 'Other';

/** The customer contacts feed; members' email/phone are derived from these rows in SQL. */
export interface ContactRow {
  companyId: number;
  environment: RowEnvironment;
  externalId: string;
  customerExternalId: string;
  /** Unknown types → 'Other'. */
  type: ContactType;
  /** Email trimmed + lower-cased; phones normalised; invalid → null (the row is kept). */
  value: string | null;
  active: boolean;
  sourceModifiedOn: Date;
}

/** A compact invoice line; decimals as canonical strings. */
export interface InvoiceItem {
  externalId: string;
  description: string | null;
  quantity: string | null;
  price: string | null;
  total: string | null;
  type: string | null;
  skuName: string | null;
}

export interface InvoiceRow extends CommonRow {
  /** referenceNumber, trimmed. */
  invoiceNumber: string | null;
  /** 'YYYY-MM-DD', the calendar date the timestamp names (never shifted by a time zone). */
  invoiceDate: string | null;
  dueDate: string | null;
  customerExternalId: string | null;
  customerName: string | null;
  locationExternalId: string | null;
  /** businessUnit.name */
  businessUnit: string | null;
  jobNumber: string | null;
  jobType: string | null;
  /** Exact canonical decimal strings ("125.5000000000" → "125.50"), safe for a numeric column. */
  subtotal: string | null;
  salesTax: string | null;
  total: string | null;
  balance: string | null;
  itemCount: number;
  items: InvoiceItem[];
}

export type MapResult<R> = { ok: true; row: R } | { ok: false; externalId: string | null; reason: string };

export interface MapContext {
  companyId: number;
  environment: RowEnvironment;
}
