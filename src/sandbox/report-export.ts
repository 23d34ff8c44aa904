import { normaliseEmail } from '../ingest/normalise/emails.js';
import { normalisePhone } from '../ingest/normalise/phones.js';
import type { SandboxStream } from './types.js';

export type ReportExportKind = 'customers' | 'invoices';

/**
 * Known differences to put in an export (extension), so a reconciliation can be tested against
 * exactly them: records left out, an amount changed (a customer's balance, an invoice's total),
 * a name changed, a date changed (a customer's Created On, an invoice's Invoice Date), the
 * active state changed, and records ServiceTitan does not have (a copy of the first record under
 * each extra id, appended). Keys are record ids.
 */
export interface ReportDifferences {
  missing?: readonly number[];
  amounts?: Readonly<Record<number, string>>;
  names?: Readonly<Record<number, string>>;
  dates?: Readonly<Record<number, string>>;
  active?: Readonly<Record<number, boolean>>;
  extra?: readonly number[];
}

const customerHeader = [
  'Customer ID',
  'Customer Name',
  'Type',
  'Active',
  'Address',
  'Unit',
  'City',
  'State',
  'Zip',
  'Country',
  'Balance',
  'Do Not Mail',
  'Do Not Service',
  'Merged To ID',
  'Phone',
  'Email',
  'Created On',
  'Modified On',
];

const invoiceHeader = [
  'Invoice ID',
  'Invoice #',
  'Invoice Date',
  'Due Date',
  'Customer ID',
  'Customer Name',
  'Location ID',
  'Business Unit',
  'Job #',
  'Job Type',
  'Subtotal',
  'Sales Tax',
  'Total',
  'Balance',
  'Active',
  'Created On',
  'Modified On',
];

/** RFC 4180: a cell with a comma, quote, line break or edge space is quoted, quotes doubled. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'boolean' ? (value ? 'Yes' : 'No') : String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const line = (cells: readonly unknown[]): string => `${cells.map(csvCell).join(',')}\r\n`;
const obj = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
/** Report dates show the calendar day of a date-only field. */
const day = (v: unknown): unknown => (typeof v === 'string' ? v.slice(0, 10) : v);

/**
 * A ServiceTitan report export of a tenant's customers or invoices, as CSV lines (header first),
 * from the records a complete sync holds (`groundTruth`). Each row flattens the API record under
 * the report's column names; a customer's Email and Phone are the ones a sync derives from its
 * contacts (the first active, usable one by contact id; a phone before a mobile phone). Lazy: a
 * tenant of any size streams.
 */
export function* reportExportLines(
  truth: (stream: SandboxStream) => Iterable<Record<string, unknown>>,
  kind: ReportExportKind,
  differences: ReportDifferences = {},
): Generator<string> {
  const missing = new Set(differences.missing ?? []);
  const amounts = differences.amounts ?? {};
  const names = differences.names ?? {};
  const dates = differences.dates ?? {};
  const active = differences.active ?? {};
  let template: unknown[] | undefined;
  const extras = function* () {
    for (const id of differences.extra ?? []) if (template) yield line([id, ...template.slice(1)]);
  };
  if (kind === 'customers') {
    const contacts = contactsByCustomer(truth('contacts'));
    yield line(customerHeader);
    for (const c of truth('customers')) {
      const id = c.id as number;
      if (missing.has(id)) continue;
      const address = obj(c.address);
      const contact = contacts.get(id);
      const cells = [
        id,
        names[id] ?? c.name,
        c.type,
        active[id] ?? c.active,
        address.street,
        address.unit,
        address.city,
        address.state,
        address.zip,
        address.country,
        amounts[id] ?? c.balance,
        c.doNotMail,
        c.doNotService,
        c.mergedToId,
        contact?.phone,
        contact?.email,
        dates[id] ?? c.createdOn,
        c.modifiedOn,
      ];
      template ??= cells;
      yield line(cells);
    }
    yield* extras();
    return;
  }
  yield line(invoiceHeader);
  for (const i of truth('invoices')) {
    const id = i.id as number;
    if (missing.has(id)) continue;
    const customer = obj(i.customer);
    const job = obj(i.job);
    const cells = [
      id,
      i.referenceNumber,
      dates[id] ?? day(i.invoiceDate),
      day(i.dueDate),
      customer.id,
      names[id] ?? customer.name,
      obj(i.location).id,
      obj(i.businessUnit).name,
      job.number,
      job.type,
      i.subTotal,
      i.salesTax,
      amounts[id] ?? i.total,
      i.balance,
      active[id] ?? i.active,
      i.createdOn,
      i.modifiedOn,
    ];
    template ??= cells;
    yield line(cells);
  }
  yield* extras();
}

/** Per customer id, the email and phone a sync derives from the contacts (the raw values). */
function contactsByCustomer(
  contacts: Iterable<Record<string, unknown>>,
): Map<number, { email?: string; phone?: string; mobile?: string }> {
  const sorted = [...contacts].sort((a, b) => (a.id as number) - (b.id as number));
  const out = new Map<number, { email?: string; phone?: string; mobile?: string }>();
  for (const c of sorted) {
    if (c.active === false) continue;
    const customerId = c.customerId as number;
    const entry = out.get(customerId) ?? {};
    out.set(customerId, entry);
    const value = typeof c.value === 'string' && c.value.trim() ? c.value : obj(c.phoneSettings).phoneNumber;
    if (c.type === 'Email' && entry.email === undefined && normaliseEmail(c.value) !== null)
      entry.email = c.value as string;
    if (c.type === 'Phone' && entry.phone === undefined && normalisePhone(value) !== null)
      entry.phone = value as string;
    if (c.type === 'MobilePhone' && entry.mobile === undefined && normalisePhone(value) !== null)
      entry.mobile = value as string;
  }
  for (const entry of out.values()) entry.phone ??= entry.mobile;
  return out;
}

/**
 * Differences from a download's query: `missing=1,2`, `extra=9`, `amounts=3:10.00`,
 * `names=4:Ann Lee`, `dates=5:2026-01-02`, `active=6:false` (several `id:value` by commas).
 */
export function differencesOf(query: Record<string, unknown>): ReportDifferences {
  const text = (key: string) => (typeof query[key] === 'string' ? (query[key] as string) : '');
  const ids = (key: string) =>
    text(key)
      .split(',')
      .filter((v) => /^\d+$/.test(v))
      .map(Number);
  const pairs = (key: string) =>
    Object.fromEntries(
      text(key)
        .split(',')
        .map((pair) => /^(\d+):(.*)$/.exec(pair))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [Number(m[1]), m[2]!]),
    );
  return {
    missing: ids('missing'),
    extra: ids('extra'),
    amounts: pairs('amounts'),
    names: pairs('names'),
    dates: pairs('dates'),
    active: Object.fromEntries(Object.entries(pairs('active')).map(([id, v]) => [id, v === 'true'])),
  };
}
