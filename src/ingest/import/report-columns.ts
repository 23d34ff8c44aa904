import { AppError } from '../../errors.js';

/** What a report export holds: ServiceTitan's customer or invoice report. */
export type ReportKind = 'customers' | 'invoices';
export const reportKinds: readonly ReportKind[] = ['customers', 'invoices'];

interface ReportField {
  /** The field of the API-shaped record the stream's map reads (dots for nested objects). */
  field: string;
  /** Report column names that mean it, as ServiceTitan's standard reports and people spell them. */
  names: readonly string[];
  kind?: 'boolean';
}

/**
 * The report columns of each kind, with the synonyms that mean them. Customers carry Email and
 * Phone (the API path derives them from contacts); invoices have no line items in a report.
 */
export const reportFields: Readonly<Record<ReportKind, readonly ReportField[]>> = {
  customers: [
    { field: 'id', names: ['Customer ID', 'Customer Id', 'ID', 'Customer #', 'Customer Number'] },
    { field: 'name', names: ['Customer Name', 'Name', 'Customer'] },
    { field: 'type', names: ['Type', 'Customer Type'] },
    { field: 'active', names: ['Active', 'Is Active'], kind: 'boolean' },
    { field: 'address.street', names: ['Address', 'Street', 'Street Address', 'Address Line 1'] },
    { field: 'address.unit', names: ['Unit', 'Address Line 2', 'Suite'] },
    { field: 'address.city', names: ['City'] },
    { field: 'address.state', names: ['State', 'Province', 'State/Province'] },
    { field: 'address.zip', names: ['Zip', 'Zip Code', 'Postal Code', 'ZIP/Postal Code'] },
    { field: 'address.country', names: ['Country'] },
    { field: 'balance', names: ['Balance', 'Customer Balance'] },
    { field: 'doNotMail', names: ['Do Not Mail'], kind: 'boolean' },
    { field: 'doNotService', names: ['Do Not Service'], kind: 'boolean' },
    { field: 'mergedToId', names: ['Merged To ID', 'Merged To', 'Merged Into'] },
    { field: 'phone', names: ['Phone', 'Phone Number', 'Primary Phone'] },
    { field: 'email', names: ['Email', 'Email Address', 'Primary Email'] },
    { field: 'createdOn', names: ['Created On', 'Created Date', 'Date Created', 'Created'] },
    { field: 'modifiedOn', names: ['Modified On', 'Modified Date', 'Last Modified', 'Updated On'] },
  ],
  invoices: [
    { field: 'id', names: ['Invoice ID', 'Invoice Id'] },
    { field: 'referenceNumber', names: ['Invoice #', 'Invoice Number', 'Reference Number', 'Invoice'] },
    { field: 'invoiceDate', names: ['Invoice Date', 'Date'] },
    { field: 'dueDate', names: ['Due Date'] },
    { field: 'customer.id', names: ['Customer ID', 'Customer Id', 'Customer #'] },
    { field: 'customer.name', names: ['Customer Name', 'Customer'] },
    { field: 'location.id', names: ['Location ID', 'Location Id', 'Location #'] },
    { field: 'businessUnit.name', names: ['Business Unit', 'Invoice Business Unit', 'BU'] },
    { field: 'job.number', names: ['Job #', 'Job Number', 'Job'] },
    { field: 'job.type', names: ['Job Type'] },
    { field: 'subTotal', names: ['Subtotal', 'Sub Total', 'Sub-Total'] },
    { field: 'salesTax', names: ['Sales Tax', 'Tax'] },
    { field: 'total', names: ['Total', 'Invoice Total', 'Amount'] },
    { field: 'balance', names: ['Balance', 'Balance Due', 'Invoice Balance'] },
    { field: 'active', names: ['Active', 'Is Active'], kind: 'boolean' },
    { field: 'createdOn', names: ['Created On', 'Created Date', 'Date Created', 'Created'] },
    { field: 'modifiedOn', names: ['Modified On', 'Modified Date', 'Last Modified', 'Updated On'] },
  ],
};

/** Each required field, or a list of fields of which one must be present. */
const required: Readonly<Record<ReportKind, readonly (readonly string[])[]>> = {
  customers: [['id'], ['modifiedOn']],
  // The invoice map takes createdOn when modifiedOn is missing.
  invoices: [['id'], ['modifiedOn', 'createdOn']],
};

/** "Invoice #" and "invoice_number" alike: lower case, '#' as "number", only letters and digits. */
export function columnKey(name: string): string {
  return name
    .toLowerCase()
    .replaceAll('#', 'number')
    .replace(/[^a-z0-9]/g, '');
}

/**
 * A mapping file: report column → record field, or null to ignore the column. It overrides the
 * defaults for the columns it names.
 */
export type ColumnMapping = Readonly<Record<string, string | null>>;

export interface ResolvedColumns {
  kind: ReportKind;
  /** Per report column position: the field it fills, or null (ignored). */
  fields: readonly (ReportField | null)[];
  header: readonly string[];
}

/**
 * Which field each report column fills. Unknown columns, a field named twice and a missing
 * required field are refused with one message listing every problem, before anything is written.
 */
export function resolveColumns(
  kind: ReportKind,
  header: readonly string[],
  mapping: ColumnMapping = {},
  /** Required fields the caller does without (a reconciliation needs no modifiedOn). */
  waived: readonly string[] = [],
): ResolvedColumns {
  const known = reportFields[kind];
  const byField = new Map(known.map((f) => [f.field, f]));
  const bySynonym = new Map<string, ReportField>();
  for (const f of known) for (const name of [f.field, ...f.names]) bySynonym.set(columnKey(name), f);
  const overrides = new Map(Object.entries(mapping).map(([column, field]) => [columnKey(column), field]));

  const problems: string[] = [];
  const seen = new Map<string, string>();
  const fields = header.map((column) => {
    const key = columnKey(column);
    let field: ReportField | null | undefined;
    if (overrides.has(key)) {
      const target = overrides.get(key);
      if (target === null) return null;
      field = byField.get(String(target));
      if (!field) {
        problems.push(`the mapping sends column "${column}" to "${target}", which is not a ${kind} field`);
        return null;
      }
    } else field = bySynonym.get(key);
    if (!field) {
      problems.push(`unknown column "${column}"`);
      return null;
    }
    const before = seen.get(field.field);
    if (before !== undefined) {
      problems.push(`columns "${before}" and "${column}" both mean ${field.field}`);
      return null;
    }
    seen.set(field.field, column);
    return field;
  });
  for (const oneOf of required[kind])
    if (!oneOf.some((f) => seen.has(f) || waived.includes(f))) {
      const names = oneOf.map((f) => `"${byField.get(f)!.names[0]}"`).join(' or ');
      problems.push(`missing required column ${names}`);
    }
  if (problems.length)
    throw new AppError(
      'invalid_import',
      `The ${kind} report cannot be imported: ${problems.join('; ')}. Known columns: ${known
        .map((f) => f.names[0])
        .join(', ')} (a mapping file can name others, or ignore a column with null).`,
      { problems },
    );
  return { kind, fields, header };
}

const TRUE = new Set(['true', 'yes', 'y', '1', 'active']);
const FALSE = new Set(['false', 'no', 'n', '0', 'inactive']);

export type ReportRecord =
  | { ok: true; record: Record<string, unknown> }
  | { ok: false; externalId: string | null; reason: string };

/**
 * A report row → the API-shaped record the stream's map reads, so the same mapping and
 * validation run as for the API. Empty cells are absent fields; a cell that is not a yes/no where
 * one is expected refuses the row.
 */
export function reportRecord(columns: ResolvedColumns, row: readonly string[]): ReportRecord {
  const record: Record<string, unknown> = {};
  const id = (() => {
    const i = columns.fields.findIndex((f) => f?.field === 'id');
    const value = i >= 0 ? row[i]?.trim() : undefined;
    return value ? value : null;
  })();
  if (row.length !== columns.header.length)
    return {
      ok: false,
      externalId: id,
      reason: `the row has ${row.length} fields, the header ${columns.header.length}`,
    };
  for (let i = 0; i < row.length; i++) {
    const f = columns.fields[i];
    const cell = row[i]!;
    if (!f || cell.trim() === '') continue;
    let value: unknown = cell;
    if (f.kind === 'boolean') {
      const text = cell.trim().toLowerCase();
      if (TRUE.has(text)) value = true;
      else if (FALSE.has(text)) value = false;
      else
        return {
          ok: false,
          externalId: id,
          reason: `${columns.header[i]} is not a yes/no value: ${JSON.stringify(cell.slice(0, 80))}`,
        };
    }
    const path = f.field.split('.');
    let target = record;
    for (const part of path.slice(0, -1)) {
      target[part] ??= {};
      target = target[part] as Record<string, unknown>;
    }
    target[path.at(-1)!] = value;
  }
  return { ok: true, record };
}
