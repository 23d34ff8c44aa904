import type { EntityManager } from '@mikro-orm/postgresql';
import type { ContactRow, InvoiceRow, MemberRow } from './maps/types.js';

/**
 * Rows per statement: the seeds' batch size. One `json` parameter carries the whole batch (json,
 * not jsonb: PostgreSQL then parses only each row's jsonb columns, not the wrapper as a tree).
 */
export const BATCH_SIZE = 2000;

interface Column {
  name: string;
  type: string;
  /** How the value is read from the row into the JSON batch. */
  from: string;
}

/** Columns every stream table shares, beyond the stream's own. */
const commonColumns: Column[] = [
  { name: 'company_id', type: 'int', from: 'companyId' },
  { name: 'software', type: 'text', from: 'software' },
  { name: 'external_id', type: 'text', from: 'externalId' },
  { name: 'active', type: 'boolean', from: 'active' },
  { name: 'source_created_on', type: 'timestamptz', from: 'sourceCreatedOn' },
  { name: 'source_modified_on', type: 'timestamptz', from: 'sourceModifiedOn' },
  { name: 'raw', type: 'jsonb', from: 'raw' },
];

const memberColumns: Column[] = [
  ...commonColumns,
  { name: 'name', type: 'text', from: 'name' },
  { name: 'first_name', type: 'text', from: 'firstName' },
  { name: 'last_name', type: 'text', from: 'lastName' },
  { name: 'customer_type', type: 'text', from: 'customerType' },
  { name: 'street', type: 'text', from: 'street' },
  { name: 'unit', type: 'text', from: 'unit' },
  { name: 'city', type: 'text', from: 'city' },
  { name: 'state', type: 'text', from: 'state' },
  { name: 'zip', type: 'text', from: 'zip' },
  { name: 'country', type: 'text', from: 'country' },
  { name: 'balance', type: 'numeric', from: 'balance' },
  { name: 'do_not_mail', type: 'boolean', from: 'doNotMail' },
  { name: 'do_not_service', type: 'boolean', from: 'doNotService' },
  { name: 'merged_to_external_id', type: 'text', from: 'mergedToExternalId' },
];

const invoiceColumns: Column[] = [
  ...commonColumns,
  { name: 'invoice_number', type: 'text', from: 'invoiceNumber' },
  { name: 'invoice_date', type: 'date', from: 'invoiceDate' },
  { name: 'due_date', type: 'date', from: 'dueDate' },
  { name: 'customer_external_id', type: 'text', from: 'customerExternalId' },
  { name: 'customer_name', type: 'text', from: 'customerName' },
  { name: 'location_external_id', type: 'text', from: 'locationExternalId' },
  { name: 'business_unit', type: 'text', from: 'businessUnit' },
  { name: 'job_number', type: 'text', from: 'jobNumber' },
  { name: 'job_type', type: 'text', from: 'jobType' },
  { name: 'subtotal', type: 'numeric', from: 'subtotal' },
  { name: 'sales_tax', type: 'numeric', from: 'salesTax' },
  { name: 'total', type: 'numeric', from: 'total' },
  { name: 'balance', type: 'numeric', from: 'balance' },
  { name: 'item_count', type: 'int', from: 'itemCount' },
  { name: 'items', type: 'jsonb', from: 'items' },
];

const contactColumns: Column[] = [
  { name: 'company_id', type: 'int', from: 'companyId' },
  { name: 'external_id', type: 'text', from: 'externalId' },
  { name: 'customer_external_id', type: 'text', from: 'customerExternalId' },
  { name: 'type', type: 'text', from: 'type' },
  { name: 'value', type: 'text', from: 'value' },
  { name: 'active', type: 'boolean', from: 'active' },
  { name: 'source_modified_on', type: 'timestamptz', from: 'sourceModifiedOn' },
];

/**
 * `insert … select from json_to_recordset($1) on conflict do update … where existing is not
 * newer`: a row never goes back in time (an older modifiedOn never overwrites a newer one), and a
 * replayed page (a retried activity) rewrites the same values. `first_seen_at` stays as it was.
 */
function upsertSql(
  table: string,
  columns: Column[],
  conflict: string,
  extra: { sets: string[]; values: string[]; names: string[] },
) {
  const names = columns.map((c) => `"${c.name}"`);
  const recordset = columns.map((c) => `"${c.from}" ${c.type}`).join(', ');
  const selected = columns.map((c) => `r."${c.from}"`);
  const updates = columns
    .filter((c) => !conflict.includes(`"${c.name}"`))
    .map((c) => `"${c.name}" = excluded."${c.name}"`)
    .concat(extra.sets);
  return `insert into "${table}" (${[...names, ...extra.names].join(', ')})
    select ${[...selected, ...extra.values].join(', ')} from json_to_recordset(?::json) as r(${recordset})
    on conflict (${conflict}) do update set ${updates.join(', ')}
    where "${table}"."source_modified_on" <= excluded."source_modified_on"`;
}

const streamExtras = (syncRunParam: string) => ({
  names: ['"sync_run_id"', '"last_synced_at"'],
  values: [syncRunParam, 'now()'],
  sets: ['"sync_run_id" = excluded."sync_run_id"', '"last_synced_at" = now()'],
});

const memberUpsert = upsertSql(
  'members_stream',
  memberColumns,
  '"company_id", "software", "external_id"',
  streamExtras('?::int'),
);
const invoiceUpsert = upsertSql(
  'invoices_stream',
  invoiceColumns,
  '"company_id", "software", "external_id"',
  streamExtras('?::int'),
);
const contactUpsert = upsertSql(
  'servicetitan_customer_contacts',
  contactColumns,
  '"company_id", "external_id"',
  {
    names: ['"last_synced_at"'],
    values: ['now()'],
    sets: ['"last_synced_at" = now()'],
  },
);

function toBatch(rows: readonly object[], columns: Column[]): string {
  return JSON.stringify(
    rows.map((row) => {
      const out: Record<string, unknown> = {};
      for (const c of columns) out[c.from] = (row as Record<string, unknown>)[c.from] ?? null;
      return out;
    }),
  );
}

async function runBatches(
  em: EntityManager,
  sql: string,
  rows: readonly object[],
  columns: Column[],
  params: (batch: string) => unknown[],
): Promise<number> {
  let written = 0;
  const connection = em.getConnection();
  const trx = em.getTransactionContext();
  for (let i = 0; i < rows.length; i += BATCH_SIZE) {
    const chunk = rows.slice(i, i + BATCH_SIZE);
    const result = await connection.execute<{ affectedRows: number }>(
      sql,
      params(toBatch(chunk, columns)),
      'run',
      trx,
    );
    written += result.affectedRows ?? 0;
  }
  return written;
}

/** Upserts members; returns how many rows were inserted or changed (older versions are not). */
export function upsertMembers(
  em: EntityManager,
  rows: readonly MemberRow[],
  syncRunId: number,
): Promise<number> {
  return runBatches(em, memberUpsert, rows, memberColumns, (batch) => [syncRunId, batch]);
}

export function upsertInvoices(
  em: EntityManager,
  rows: readonly InvoiceRow[],
  syncRunId: number,
): Promise<number> {
  return runBatches(em, invoiceUpsert, rows, invoiceColumns, (batch) => [syncRunId, batch]);
}

export function upsertContacts(em: EntityManager, rows: readonly ContactRow[]): Promise<number> {
  return runBatches(em, contactUpsert, rows, contactColumns, (batch) => [batch]);
}

/**
 * Members' email and phone from their contacts: the first active one of its type (by contact
 * id); phone prefers `Phone` over `MobilePhone`. Set-based, once per run, for the members the run
 * wrote and the customers whose contacts it wrote, so the order in which the two feeds arrive
 * (concurrently, in separate transactions) does not matter.
 */
export async function deriveMemberContacts(
  em: EntityManager,
  companyId: number,
  syncRunId: number,
  contactsSince: Date,
): Promise<number> {
  const result = await em.getConnection().execute<{ affectedRows: number }>(
    `with touched as (
       select customer_external_id as id from servicetitan_customer_contacts
        where company_id = ? and last_synced_at >= ?
       union
       select external_id from members_stream where company_id = ? and software = 'ServiceTitan' and sync_run_id = ?
     ),
     derived as (
       select t.id,
         (array_agg(c.value order by c.external_id::bigint) filter (where c.type = 'Email' and c.active and c.value is not null))[1] as email,
         coalesce(
           (array_agg(c.value order by c.external_id::bigint) filter (where c.type = 'Phone' and c.active and c.value is not null))[1],
           (array_agg(c.value order by c.external_id::bigint) filter (where c.type = 'MobilePhone' and c.active and c.value is not null))[1]
         ) as phone
       from touched t
       left join servicetitan_customer_contacts c on c.company_id = ? and c.customer_external_id = t.id
       group by t.id
     )
     update members_stream m set email = d.email, phone = d.phone
       from derived d
      where m.company_id = ? and m.software = 'ServiceTitan' and m.external_id = d.id
        and (m.email is distinct from d.email or m.phone is distinct from d.phone)`,
    [companyId, contactsSince, companyId, syncRunId, companyId, companyId],
    'run',
    em.getTransactionContext(),
  );
  return result.affectedRows ?? 0;
}

export interface SkippedInput {
  externalId: string | null;
  reason: string;
  raw: unknown;
}

export async function insertSkipped(
  em: EntityManager,
  syncRunId: number,
  stream: string,
  skipped: readonly SkippedInput[],
): Promise<void> {
  if (skipped.length === 0) return;
  await em.getConnection().execute(
    `insert into skipped_records (sync_run_id, stream, external_id, reason, raw)
     select ?::int, ?::text, r."externalId", r.reason, r.raw
     from json_to_recordset(?::json) as r("externalId" text, reason text, raw jsonb)`,
    [
      syncRunId,
      stream,
      JSON.stringify(
        skipped.map((s) => ({ externalId: s.externalId, reason: s.reason, raw: s.raw ?? null })),
      ),
    ],
    'run',
    em.getTransactionContext(),
  );
}
