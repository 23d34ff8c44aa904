import type { Readable } from 'node:stream';
import type { MikroORM } from '@mikro-orm/postgresql';
import { parse } from 'csv-parse';
import type { Pool, PoolClient } from 'pg';
import { ServiceTitanCredential } from '../db/entities/index.js';
import { AppError } from '../errors.js';
import { mapReportRow } from '../ingest/import/import-report.js';
import {
  type ColumnMapping,
  type ReportKind,
  type ResolvedColumns,
  resolveColumns,
} from '../ingest/import/report-columns.js';
import type { RowEnvironment } from '../ingest/maps/types.js';

type FieldType = 'text' | 'amount' | 'date' | 'timestamp' | 'boolean';

interface ComparedField {
  /** How the difference names it (the API record's field). */
  field: string;
  /** The report field whose column must be in the header for the report to carry it. */
  from: string;
  /** The mapped row's property and the stored table's column. */
  row: string;
  column: string;
  type: FieldType;
}

const f = (field: string, from: string, row: string, column: string, type: FieldType = 'text') => ({
  field,
  from,
  row,
  column,
  type,
});

/**
 * What a report can tell about a record, compared in the stored form (after the stream's map):
 * names, amounts, dates, active state and the rest of the report's columns. Derived columns
 * (first and last name) and what a report has no column for (invoice items) are not compared.
 */
export const comparedFields: Readonly<Record<ReportKind, readonly ComparedField[]>> = {
  customers: [
    f('name', 'name', 'name', 'name'),
    f('type', 'type', 'customerType', 'customer_type'),
    f('active', 'active', 'active', 'active', 'boolean'),
    f('street', 'address.street', 'street', 'street'),
    f('unit', 'address.unit', 'unit', 'unit'),
    f('city', 'address.city', 'city', 'city'),
    f('state', 'address.state', 'state', 'state'),
    f('zip', 'address.zip', 'zip', 'zip'),
    f('country', 'address.country', 'country', 'country'),
    f('balance', 'balance', 'balance', 'balance', 'amount'),
    f('doNotMail', 'doNotMail', 'doNotMail', 'do_not_mail', 'boolean'),
    f('doNotService', 'doNotService', 'doNotService', 'do_not_service', 'boolean'),
    f('mergedToId', 'mergedToId', 'mergedToExternalId', 'merged_to_external_id'),
    f('email', 'email', 'email', 'email'),
    f('phone', 'phone', 'phone', 'phone'),
    f('createdOn', 'createdOn', 'sourceCreatedOn', 'source_created_on', 'timestamp'),
    f('modifiedOn', 'modifiedOn', 'sourceModifiedOn', 'source_modified_on', 'timestamp'),
  ],
  invoices: [
    f('invoiceNumber', 'referenceNumber', 'invoiceNumber', 'invoice_number'),
    f('invoiceDate', 'invoiceDate', 'invoiceDate', 'invoice_date', 'date'),
    f('dueDate', 'dueDate', 'dueDate', 'due_date', 'date'),
    f('customerId', 'customer.id', 'customerExternalId', 'customer_external_id'),
    f('customerName', 'customer.name', 'customerName', 'customer_name'),
    f('locationId', 'location.id', 'locationExternalId', 'location_external_id'),
    f('businessUnit', 'businessUnit.name', 'businessUnit', 'business_unit'),
    f('jobNumber', 'job.number', 'jobNumber', 'job_number'),
    f('jobType', 'job.type', 'jobType', 'job_type'),
    f('subtotal', 'subTotal', 'subtotal', 'subtotal', 'amount'),
    f('salesTax', 'salesTax', 'salesTax', 'sales_tax', 'amount'),
    f('total', 'total', 'total', 'total', 'amount'),
    f('balance', 'balance', 'balance', 'balance', 'amount'),
    f('active', 'active', 'active', 'active', 'boolean'),
    f('createdOn', 'createdOn', 'sourceCreatedOn', 'source_created_on', 'timestamp'),
    // Without the column the map stands createdOn in for it: comparing that would be noise.
    f('modifiedOn', 'modifiedOn', 'sourceModifiedOn', 'source_modified_on', 'timestamp'),
  ],
};

const storedTable: Record<ReportKind, string> = { customers: 'members_stream', invoices: 'invoices_stream' };

const sqlType: Record<FieldType, string> = {
  text: 'text',
  amount: 'numeric',
  date: 'date',
  timestamp: 'timestamptz',
  boolean: 'boolean',
};

/** Amounts to the cent, timestamps to the second (a report shows no more), the rest as stored. */
function comparable(type: FieldType, expr: string): string {
  if (type === 'amount') return `round(${expr}, 2)`;
  if (type === 'timestamp') return `date_trunc('second', ${expr})`;
  return expr;
}

function shown(type: FieldType, expr: string): string {
  if (type === 'amount') return `to_char(round(${expr}, 2), 'FM999999999999990.00')`;
  if (type === 'timestamp') return `to_char(${expr} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;
  if (type === 'date') return `to_char(${expr}, 'YYYY-MM-DD')`;
  return `${expr}::text`;
}

/** The classes of difference, in the order a summary lists them. */
export const differenceKinds = [
  'missing_in_store',
  'missing_in_report',
  'field_mismatch',
  'day_totals',
  'business_unit_totals',
  'duplicate_in_report',
  'unreadable_row',
] as const;
export type DifferenceKind = (typeof differenceKinds)[number];

export interface StreamSummary {
  file: string;
  /** Data rows in the report. */
  reportRows: number;
  /** Stored rows the report is compared with (for invoices, those in its period). */
  storedRows: number;
  /** The fields compared: those whose column the report carries. */
  fields: string[];
  /** A date-bounded invoice report covers the days of its first and last invoice date. */
  period: { from: string; to: string } | null;
  /** Invoices: the sum of Total on each side (to the cent), when the report carries Total. */
  reportTotal: string | null;
  storedTotal: string | null;
  differences: Partial<Record<DifferenceKind, number>>;
  /** Field mismatches per field. */
  fieldMismatches: Record<string, number>;
}

export interface ReconciliationSummary {
  id: number;
  credentialId: number;
  companyId: number;
  environment: RowEnvironment;
  startedBy: string;
  startedAt: string;
  finishedAt: string;
  status: 'matched' | 'differs';
  differences: number;
  streams: Partial<Record<ReportKind, StreamSummary>>;
}

export interface ReconcileDeps {
  orm: MikroORM;
}

const BATCH = 2000;
const STAND_IN_DATE = '1970-01-01T00:00:00Z';

const isDay = (text: string) => /^\d{4}-\d{2}-\d{2}$/.test(text) && !Number.isNaN(Date.parse(text));

/**
 * A reconciliation of report exports with what a credential's syncs stored, in three steps so
 * files can come one after the other (an upload's parts): `start`, `load` each report, `finish`.
 *
 * Each report is streamed through the import's column resolution and the stream's own map, so a
 * report row is compared in the form a sync stores, and staged in a temporary table in batches:
 * neither the file nor the stored rows are held in memory, PostgreSQL joins them. Everything
 * happens in one transaction, and the reconciliation and its differences are written at the end:
 * a report refused at its header (unknown or missing required columns), a broken file or a failed
 * comparison leaves nothing behind.
 */
export async function startReconciliation(
  deps: ReconcileDeps,
  input: {
    credentialId: number;
    startedBy: string;
    /** The invoice dates an invoice report covers, when it says (else its first to last). */
    period?: { from: string; to: string } | undefined;
  },
) {
  if (
    input.period &&
    !(isDay(input.period.from) && isDay(input.period.to) && input.period.from <= input.period.to)
  )
    throw new AppError(
      'validation_failed',
      'The period is two dates, YYYY-MM-DD, the first not after the second.',
    );
  const credential = await deps.orm.em
    .fork()
    .findOne(ServiceTitanCredential, input.credentialId, { populate: ['company'] });
  if (!credential) throw new AppError('not_found', `Credential ${input.credentialId} does not exist.`);
  const companyId = credential.company.id;
  const environment = credential.environment as RowEnvironment;
  const startedAt = new Date();
  const loaded = new Map<ReportKind, { file: string; rows: number; carried: Set<string> }>();

  const pool = (await deps.orm.em.getConnection().getNativeClient()) as unknown as Pool;
  const client: PoolClient = await pool.connect();
  let open = true;
  try {
    await client.query('begin');
    for (const kind of ['customers', 'invoices'] as const) {
      const columns = comparedFields[kind].map((c) => `"${c.column}" ${sqlType[c.type]}`).join(', ');
      await client.query(
        `create temporary table "reconcile_${kind}" ("line" int not null, "external_id" text not null, ${columns}) on commit drop`,
      );
    }
    await client.query(
      `create temporary table "reconcile_unreadable" ("stream" text not null, "line" int not null, "external_id" text null, "reason" text not null) on commit drop`,
    );
  } catch (error) {
    await end(error);
    throw error;
  }

  async function end(error?: unknown) {
    if (!open) return;
    open = false;
    if (error) await client.query('rollback').catch(() => {});
    client.release(error instanceof Error ? error : undefined);
  }

  return {
    companyId,
    environment,

    /**
     * Reads one report to its end. Its header is checked (with the mapping file's columns) before
     * any row is read (AppError `invalid_import` when it is refused); `onProgress` is called
     * every `progressEvery` rows and at the end.
     */
    async load(
      kind: ReportKind,
      source: Readable,
      sourceName: string,
      options: {
        mapping?: ColumnMapping | undefined;
        onProgress?: ((rows: number) => void) | undefined;
        progressEvery?: number;
      } = {},
    ): Promise<void> {
      const { onProgress, progressEvery = 10_000 } = options;
      if (loaded.has(kind)) throw new AppError('validation_failed', `Two ${kind} reports: give one of each.`);
      const parser = source.pipe(
        parse({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true }),
      );
      source.once('error', (error) => parser.destroy(error));
      let columns: ResolvedColumns | undefined;
      let defaults: Record<string, unknown> | undefined;
      let staged: Record<string, unknown>[] = [];
      let unreadable: { stream: string; line: number; external_id: string | null; reason: string }[] = [];
      let rows = 0;
      const fields = comparedFields[kind];
      const flush = async () => {
        if (staged.length)
          await client.query(
            `insert into "reconcile_${kind}" select * from json_populate_recordset(null::"reconcile_${kind}", $1::json)`,
            [JSON.stringify(staged)],
          );
        if (unreadable.length)
          await client.query(
            `insert into "reconcile_unreadable" select * from json_populate_recordset(null::"reconcile_unreadable", $1::json)`,
            [JSON.stringify(unreadable)],
          );
        staged = [];
        unreadable = [];
      };
      try {
        for await (const { record: cells, info } of parser as AsyncIterable<{
          record: string[];
          info: { lines: number };
        }>) {
          if (!columns) {
            // A report without Modified On (or, for invoices, Created On) can still be compared:
            // the map gets a stand-in, and what the report lacks is not compared.
            columns = resolveColumns(kind, cells, options.mapping, ['modifiedOn', 'createdOn']);
            const has = new Set(columns.fields.map((c) => c?.field));
            defaults =
              has.has('modifiedOn') || (kind === 'invoices' && has.has('createdOn'))
                ? undefined
                : { modifiedOn: STAND_IN_DATE };
            continue;
          }
          rows++;
          const mapped = mapReportRow(columns, cells, { companyId, environment }, defaults);
          if (mapped.ok) {
            const row: Record<string, unknown> = { line: info.lines, external_id: mapped.row.externalId };
            for (const c of fields) row[c.column] = mapped.row[c.row] ?? null;
            staged.push(row);
          } else
            unreadable.push({
              stream: kind,
              line: info.lines,
              external_id: mapped.externalId,
              reason: mapped.reason,
            });
          if (staged.length + unreadable.length >= BATCH) await flush();
          if (rows % progressEvery === 0) onProgress?.(rows);
        }
        if (!columns)
          throw new AppError('invalid_import', `The ${kind} report is empty: it has no header row.`);
        await flush();
      } catch (error) {
        await end(error);
        // The import's column check words its refusal for imports.
        if (error instanceof AppError && error.code === 'invalid_import')
          throw new AppError(
            'invalid_import',
            error.message.replace('cannot be imported', 'cannot be reconciled'),
            error.details,
          );
        if (error instanceof Error && 'code' in error && String(error.code).startsWith('CSV_'))
          throw new AppError('invalid_import', `The ${kind} report is not valid CSV: ${error.message}`);
        throw error;
      }
      onProgress?.(rows);
      const carried = new Set(columns.fields.flatMap((c) => (c ? [c.field] : [])));
      loaded.set(kind, { file: sourceName, rows, carried });
    },

    /** Compares what was loaded with the stored rows, writes the reconciliation and commits. */
    async finish(): Promise<ReconciliationSummary> {
      if (!loaded.size) {
        await end(new Error('no report'));
        throw new AppError('validation_failed', 'Give a customers report, an invoices report, or both.');
      }
      try {
        const created = await client.query<{ id: number }>(
          `insert into reconciliations (credential_id, company_id, environment, started_by, started_at, finished_at, status, sources, summary)
           values ($1, $2, $3, $4, $5, now(), 'matched', $6, '{}') returning id`,
          [
            input.credentialId,
            companyId,
            environment,
            input.startedBy.slice(0, 200),
            startedAt,
            JSON.stringify(Object.fromEntries([...loaded].map(([k, v]) => [k, v.file]))),
          ],
        );
        const id = created.rows[0]!.id;
        const streams: Partial<Record<ReportKind, StreamSummary>> = {};
        for (const [kind, report] of loaded)
          streams[kind] = await compare(client, {
            id,
            kind,
            companyId,
            environment,
            period: input.period,
            ...report,
          });
        const differences = Object.values(streams).reduce(
          (n, s) => n + Object.values(s.differences).reduce((a, b) => a + b, 0),
          0,
        );
        const status = differences ? 'differs' : 'matched';
        const finished = await client.query<{ finished_at: Date | string }>(
          `update reconciliations set status = $2, summary = $3, finished_at = clock_timestamp() where id = $1 returning finished_at`,
          [id, status, JSON.stringify({ differences, streams })],
        );
        await client.query('commit');
        await end();
        return {
          id,
          credentialId: input.credentialId,
          companyId,
          environment,
          startedBy: input.startedBy,
          startedAt: startedAt.toISOString(),
          finishedAt: new Date(finished.rows[0]!.finished_at).toISOString(),
          status,
          differences,
          streams,
        };
      } catch (error) {
        await end(error);
        throw error;
      }
    },

    /** Gives up: nothing is written. */
    abort: () => end(new Error('aborted')),
  };
}

export type ReconciliationSession = Awaited<ReturnType<typeof startReconciliation>>;

/** One report kind against its table: every difference class as one INSERT … SELECT each. */
async function compare(
  client: PoolClient,
  r: {
    id: number;
    kind: ReportKind;
    companyId: number;
    environment: RowEnvironment;
    period: { from: string; to: string } | undefined;
    file: string;
    rows: number;
    carried: Set<string>;
  },
): Promise<StreamSummary> {
  const staged = `reconcile_${r.kind}`;
  const first = `reconcile_${r.kind}_first`;
  const table = storedTable[r.kind];
  const fields = comparedFields[r.kind].filter((c) => r.carried.has(c.from));
  const insert = `insert into reconciliation_differences (reconciliation_id, stream, kind, external_id, group_key, field, report_value, stored_value, line)`;
  // Ids, the stream and the environment are ours (an integer, a fixed name, an enum value), so
  // they are written into the statements: each one would otherwise take a different subset.
  if (!/^(production|integration)$/.test(r.environment)) throw new Error('unknown environment');
  const ours = `${Number(r.id)}, '${r.kind}'`;
  const q = (text: string) => client.query(text);

  // A record listed twice in a report is compared by its first line; the others are reported.
  await client.query(
    `create temporary table "${first}" on commit drop as select distinct on (external_id) * from "${staged}" order by external_id, line`,
  );
  await client.query(`create index on "${first}" (external_id)`);
  await client.query(`analyze "${first}"`);
  await q(
    `${insert} select ${ours}, 'duplicate_in_report', s.external_id, null, null, null, null, s.line
     from "${staged}" s join "${first}" f using (external_id) where s.line <> f.line`,
  );
  await q(
    `${insert} select ${ours}, 'unreadable_row', external_id, null, null, reason, null, line
     from reconcile_unreadable where stream = '${r.kind}'`,
  );

  // A date-bounded invoice report: stored invoices outside its period (given, or its first..last
  // invoice date) are not expected in it (undated ones only when the report has undated rows too).
  let period: StreamSummary['period'] = null;
  let scope = 'true';
  if (r.kind === 'invoices' && r.period) {
    period = r.period;
    scope = `(s.invoice_date between '${r.period.from}' and '${r.period.to}')`;
  } else if (r.kind === 'invoices' && r.carried.has('invoiceDate')) {
    const bounds = await client.query<{ from: string | null; to: string | null; undated: boolean }>(
      `select to_char(min(invoice_date), 'YYYY-MM-DD') as "from", to_char(max(invoice_date), 'YYYY-MM-DD') as "to",
              bool_or(invoice_date is null) as undated from "${first}"`,
    );
    const b = bounds.rows[0]!;
    if (b.from && b.to) {
      period = { from: b.from, to: b.to };
      scope = `(s.invoice_date between '${b.from}' and '${b.to}'${b.undated ? ' or s.invoice_date is null' : ''})`;
    }
  }
  const key = `s.company_id = ${Number(r.companyId)} and s.environment = '${r.environment}' and s.software = 'ServiceTitan'`;
  const stored = `"${table}" s where ${key} and ${scope}`;
  const describe =
    r.kind === 'customers'
      ? (t: string) => `${t}.name`
      : (t: string) =>
          `concat_ws(', ', ${t}.invoice_number, to_char(${t}.invoice_date, 'YYYY-MM-DD'), to_char(round(${t}.total, 2), 'FM999999999999990.00'))`;

  await q(
    `${insert} select ${ours}, 'missing_in_store', r.external_id, null, null, ${describe('r')}, null, r.line
     from "${first}" r where not exists (select 1 from ${stored} and s.external_id = r.external_id)`,
  );
  await q(
    `${insert} select ${ours}, 'missing_in_report', s.external_id, null, null, null, ${describe('s')}, null
     from ${stored} and not exists (select 1 from "${first}" r where r.external_id = s.external_id)`,
  );
  if (fields.length) {
    const values = fields
      .map(
        (c) =>
          `('${c.field}', ${shown(c.type, `r."${c.column}"`)}, ${shown(c.type, `s."${c.column}"`)}, ${comparable(c.type, `r."${c.column}"`)} is distinct from ${comparable(c.type, `s."${c.column}"`)})`,
      )
      .join(', ');
    await q(
      `${insert} select ${ours}, 'field_mismatch', r.external_id, null, v.field, v.report_value, v.stored_value, r.line
       from "${first}" r join "${table}" s on ${key} and s.external_id = r.external_id
       cross join lateral (values ${values}) as v(field, report_value, stored_value, differs)
       where v.differs`,
    );
  }

  let reportTotal: string | null = null;
  let storedTotal: string | null = null;
  if (r.kind === 'invoices') {
    const withTotal = r.carried.has('total');
    const totals = await q(
      `select (select to_char(round(coalesce(sum(total), 0), 2), 'FM999999999999990.00') from "${first}") as report,
              (select to_char(round(coalesce(sum(total), 0), 2), 'FM999999999999990.00') from ${stored}) as stored`,
    );
    if (withTotal) {
      reportTotal = totals.rows[0].report;
      storedTotal = totals.rows[0].stored;
    }
    // Groups are joined by their label: an undated invoice, or one without a business unit, is
    // counted under "(no date)" or "(no business unit)".
    const groups: [DifferenceKind, (t: string) => string][] = [];
    if (r.carried.has('invoiceDate'))
      groups.push(['day_totals', (t) => `coalesce(to_char(${t}.invoice_date, 'YYYY-MM-DD'), '(no date)')`]);
    if (r.carried.has('businessUnit.name'))
      groups.push(['business_unit_totals', (t) => `coalesce(${t}.business_unit, '(no business unit)')`]);
    for (const [kind, label] of groups) {
      const totalValues = withTotal
        ? `, ('total', to_char(round(coalesce(g.report_total, 0), 2), 'FM999999999999990.00'), to_char(round(coalesce(g.stored_total, 0), 2), 'FM999999999999990.00'),
             round(coalesce(g.report_total, 0), 2) <> round(coalesce(g.stored_total, 0), 2))`
        : '';
      await q(
        `${insert} select ${ours}, '${kind}', null, g.key, v.field, v.report_value, v.stored_value, null
         from (
           select coalesce(a.key, b.key) as key, a.n as report_count, b.n as stored_count, a.total as report_total, b.total as stored_total
           from (select ${label('r')} as key, count(*) as n, sum(r.total) as total from "${first}" r group by 1) a
           full join (select ${label('s')} as key, count(*) as n, sum(s.total) as total from ${stored} group by 1) b
             on a.key = b.key
         ) g
         cross join lateral (values ('count', coalesce(g.report_count, 0)::text, coalesce(g.stored_count, 0)::text,
                                     coalesce(g.report_count, 0) <> coalesce(g.stored_count, 0))${totalValues})
           as v(field, report_value, stored_value, differs)
         where v.differs
         order by g.key, v.field`,
      );
    }
  }

  const counts = await client.query<{ kind: DifferenceKind; field: string | null; n: string }>(
    `select kind, case when kind = 'field_mismatch' then field end as field, count(*) as n
     from reconciliation_differences where reconciliation_id = $1 and stream = $2 group by 1, 2`,
    [r.id, r.kind],
  );
  const differences: StreamSummary['differences'] = {};
  const fieldMismatches: Record<string, number> = {};
  for (const c of counts.rows) {
    differences[c.kind] = (differences[c.kind] ?? 0) + Number(c.n);
    if (c.field) fieldMismatches[c.field] = Number(c.n);
  }
  const storedRows = await q(`select count(*)::int as n from ${stored}`);
  return {
    file: r.file,
    reportRows: r.rows,
    storedRows: storedRows.rows[0].n,
    fields: fields.map((c) => c.field),
    period,
    reportTotal,
    storedTotal,
    differences,
    fieldMismatches,
  };
}
