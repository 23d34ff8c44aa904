import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { recordTextOf } from '../servicetitan/json-source.js';
import type { RowEnvironment } from './maps/types.js';
import type { ColumnEncoding, TargetColumn, TargetTable } from './streams/define-sync-stream.js';

/** Rows per merge statement: the seeds' batch size. */
export const BATCH_SIZE = 2000;

/** COPY text format: backslash, tab, newline and carriage return escaped; null as \N. */
const copyEscapes = /[\\\t\n\r]/;
const copyEscapesAll = /[\\\t\n\r]/g;
const copyEscape: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
/** What jsonb refuses: U+0000 and lone UTF-16 surrogates, which JSON.stringify writes as escapes. */
const jsonbUnsafe = /\\u(0000|d[89a-f])/i;

/**
 * JSON text jsonb accepts. The fast path is plain JSON.stringify; only text that contains a NUL
 * or a surrogate escape is stringified again with every string cleaned (NULs dropped, lone
 * surrogates replaced by U+FFFD), since a record jsonb refuses would fail its page forever.
 */
export function toJsonbText(value: unknown): string {
  const text = JSON.stringify(value);
  // Both escapes start with a backslash, which most records have none of: looking for one is a
  // fraction of the regex's cost over a record's few kilobytes.
  if (!text.includes('\\') || !jsonbUnsafe.test(text)) return text;
  return JSON.stringify(value, (_key, v) =>
    typeof v === 'string' ? v.replaceAll('\0', '').toWellFormed() : v,
  );
}

/** One value of a row into the COPY data, escaped for COPY text; null as \N. */
function writeValue(data: CopyData, value: unknown, encode: ColumnEncoding | undefined): void {
  if (value === null || value === undefined) {
    data.text('\\N');
  } else if (encode === 'json') {
    // A record's own JSON text, when it is the same value (see json-source), saves stringifying
    // it again. Kept as bytes, it needs no escaping and is copied as it came. As a string, it may
    // hold whitespace between tokens, so it is escaped as any text, and jsonb's refusals are
    // checked in it as in toJsonbText (or left to toJsonbText, which mends them).
    const source = recordTextOf(value);
    if (source instanceof Uint8Array) data.append(source);
    else if (source !== undefined && !(source.includes('\\') && jsonbUnsafe.test(source))) {
      data.text(copyEscaped(source));
    } else {
      // JSON.stringify's text has no raw tab, newline or carriage return: only its backslashes
      // need doubling, which a plain replaceAll does several times faster than the regex.
      data.text(toJsonbText(value).replaceAll('\\', '\\\\'));
    }
  } else {
    data.text(copyEscaped(encode === 'date' ? (value as Date).toISOString() : String(value)));
  }
}

function copyEscaped(text: string): string {
  return copyEscapes.test(text) ? text.replace(copyEscapesAll, (c) => copyEscape[c]!) : text;
}

/**
 * Buffers COPY data is written into, kept from one COPY to the next. Writing each value into a
 * buffer directly costs a page of invoices ~1 ms here, where concatenating the values into one
 * string and encoding it cost ~8 ms: the string is a rope that has to be flattened first, and a
 * page holding one non-ASCII character anywhere is flattened and encoded as two-byte text. Kept
 * and reused, since a new large buffer for every page (off the heap) made the garbage collector
 * run more often than the strings did.
 */
const spareCopyBuffers: Buffer[] = [];
const sparesKept = 16;
const largestKept = 16 * 1024 * 1024;

/** COPY data, in a buffer of the spares' or a new one; `release` once PostgreSQL has read it. */
class CopyData {
  private buffer = spareCopyBuffers.pop() ?? Buffer.allocUnsafe(1024 * 1024);
  private length = 0;

  /** One ASCII character, as its code. */
  byte(code: number): void {
    if (this.length === this.buffer.length) this.grow(this.length + 1);
    this.buffer[this.length++] = code;
  }

  /** Bytes to copy as they are. */
  append(value: Uint8Array): void {
    const needed = this.length + value.length;
    if (needed > this.buffer.length) this.grow(needed);
    this.buffer.set(value, this.length);
    this.length += value.length;
  }

  text(value: string): void {
    // A UTF-16 code unit takes at most 3 bytes in UTF-8.
    const needed = this.length + value.length * 3;
    if (needed > this.buffer.length) this.grow(needed);
    this.length += this.buffer.write(value, this.length);
  }

  get bytes(): Buffer {
    return this.buffer.subarray(0, this.length);
  }

  /** Back to the spares. Only after a COPY that succeeded: one that failed may still be sending it. */
  release(): void {
    if (spareCopyBuffers.length < sparesKept && this.buffer.length <= largestKept) {
      spareCopyBuffers.push(this.buffer);
    }
  }

  private grow(needed: number): void {
    const grown = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }
}

const TAB = 0x09;

/** COPY text of `rows`, as UTF-8; `constants` (already encoded) end every line. */
function copyData(
  rows: readonly object[],
  columns: readonly TargetColumn[],
  constants: readonly string[],
): CopyData {
  const tail = `${constants.map((c) => `\t${c}`).join('')}\n`;
  const data = new CopyData();
  for (const row of rows) {
    const r = row as Record<string, unknown>;
    for (let i = 0; i < columns.length; i++) {
      const c = columns[i]!;
      if (i) data.byte(TAB);
      writeValue(data, r[c.from], c.encode);
    }
    data.text(tail);
  }
  return data;
}

/**
 * `insert … select from stage on conflict do update … where existing is not newer`: a row never
 * goes back in time (an older modifiedOn never overwrites a newer one), and a replayed page (a
 * retried activity) rewrites the same values. `first_seen_at` stays as it was.
 */
function mergeSql(spec: TargetTable, stage: string): string {
  const names = spec.columns.map((c) => `"${c.name}"`);
  const updates = spec.columns
    .filter((c) => !spec.key.includes(c.name))
    .map((c) => `"${c.name}" = excluded."${c.name}"`);
  const extraNames = spec.runColumn ? ['"sync_run_id"', '"last_synced_at"'] : ['"last_synced_at"'];
  const extraValues = spec.runColumn ? ['$1::int', 'now()'] : ['now()'];
  const extraSets = spec.runColumn
    ? ['"sync_run_id" = excluded."sync_run_id"', '"last_synced_at" = now()']
    : ['"last_synced_at" = now()'];
  return `insert into "${spec.table}" (${[...names, ...extraNames].join(', ')})
    select ${[...names, ...extraValues].join(', ')} from "${stage}"
    on conflict (${spec.key.map((k) => `"${k}"`).join(', ')}) do update set ${[...updates, ...extraSets].join(', ')}
    where "${spec.table}"."source_modified_on" <= excluded."source_modified_on"`;
}

/**
 * Whether a batch's COPY is preceded by a lookup of which of its keys are stored. A first load's
 * pages are all new rows, and the unique key's own check catches any that is not: once a lookup
 * finds none of a batch's keys stored, the next batches skip it (a statement, and an index probe a
 * row, fewer) until a COPY meets a stored key. One per run of consecutive pages of one stream,
 * such as a chunk's. With the page's other statements merged (9 round trips a page became 5),
 * bench:sync's PostgreSQL CPU fell from 9.1–10.2 s to 8.0–8.3 s and its records/s rose by ~10 %.
 */
export interface KeyLookup {
  skip: boolean;
}

/**
 * Writes rows the fastest way PostgreSQL offers, inside the caller's transaction on `client`, in
 * batches of up to 2000 rows. Rows whose key is not stored yet (a first load: nearly all of them)
 * are COPYed straight into the table; the others go through a session-local staging table and one
 * merge statement. A row stored since the lookup (a concurrent transaction's), or one a skipped
 * lookup (`lookup`) did not see, makes the direct COPY fail on the unique key: the batch is then
 * merged whole, which gives the same rows. Returns how many rows were inserted or changed (older
 * versions are not).
 */
export async function upsertRows(
  client: PoolClient,
  spec: TargetTable,
  all: readonly object[],
  syncRunId: number | null,
  lookup: KeyLookup = { skip: false },
): Promise<number> {
  if (all.length === 0) return 0;
  const rows = newestPerKey(all, spec);
  let written = 0;
  for (let i = 0; i < rows.length; i += BATCH_SIZE) {
    const batch = rows.slice(i, i + BATCH_SIZE);
    const stored = lookup.skip ? new Set<string>() : await storedKeys(client, spec, batch);
    lookup.skip = stored.size === 0;
    const fresh = stored.size === 0 ? batch : batch.filter((row) => !stored.has(keyOf(row, spec)));
    let known = fresh.length === batch.length ? [] : batch.filter((row) => stored.has(keyOf(row, spec)));
    if (fresh.length > 0) {
      // Not released after the COPY: the commit releases it, one round trip fewer a batch.
      await client.query('savepoint direct_copy');
      try {
        written += await copyRows(client, spec, spec.table, fresh, syncRunId);
      } catch (error) {
        if ((error as { code?: string }).code !== uniqueViolation) throw error;
        await client.query('rollback to savepoint direct_copy');
        known = batch;
        lookup.skip = false;
      }
    }
    if (known.length > 0) written += await mergeRows(client, spec, known, syncRunId);
  }
  return written;
}

const uniqueViolation = '23505';

/** COPY into `table` (the target or its stage); the target's own columns get the run and now(). */
async function copyRows(
  client: PoolClient,
  spec: TargetTable,
  table: string,
  rows: readonly object[],
  syncRunId: number | null,
): Promise<number> {
  const direct = table === spec.table && spec.runColumn;
  const names = spec.columns.map((c) => `"${c.name}"`);
  if (direct) names.push('"sync_run_id"');
  const data = copyData(rows, spec.columns, direct ? [syncRunId === null ? '\\N' : String(syncRunId)] : []);
  const copy = client.query(copyFrom(`copy "${table}" (${names.join(', ')}) from stdin`));
  await pipeline(Readable.from([data.bytes]), copy);
  data.release();
  return copy.rowCount ?? rows.length;
}

/** Rows whose key is stored already go through the stage: COPY, then one merge statement. */
async function mergeRows(
  client: PoolClient,
  spec: TargetTable,
  rows: readonly object[],
  syncRunId: number | null,
): Promise<number> {
  const stage = `stage_${spec.table}`;
  // The stage compresses as the table does, so a merged row's large values are compressed once.
  await client.query(
    `create temp table if not exists "${stage}" (like "${spec.table}" including defaults including compression) on commit delete rows`,
  );
  await copyRows(client, spec, stage, rows, syncRunId);
  const result = await client.query(mergeSql(spec, stage), spec.runColumn ? [syncRunId] : []);
  await client.query(`truncate "${stage}"`);
  return result.rowCount ?? 0;
}

/** The key columns' types, read once per table (unnest needs typed arrays to use the unique index). */
const keyTypes = new Map<string, Promise<string[]>>();

/** The keys among `rows` that the table holds already, as `keyOf` strings. */
async function storedKeys(
  client: PoolClient,
  spec: TargetTable,
  rows: readonly object[],
): Promise<Set<string>> {
  let types = keyTypes.get(spec.table);
  if (!types) {
    types = client
      .query<{ name: string; type: string }>(
        `select attname as name, format_type(atttypid, atttypmod) as type from pg_attribute
          where attrelid = $1::regclass and attname = any($2::text[])`,
        [spec.table, spec.key],
      )
      .then((r) => spec.key.map((k) => r.rows.find((c) => c.name === k)!.type));
    keyTypes.set(spec.table, types);
    types.catch(() => keyTypes.delete(spec.table));
  }
  const columns = spec.key.map((k) => spec.columns.find((c) => c.name === k)!);
  const keys = spec.key.map((k) => `"${k}"`).join(', ');
  const arrays = (await types).map((type, i) => `$${i + 1}::${type}[]`).join(', ');
  const result = await client.query<Record<string, unknown>>(
    `select ${keys} from "${spec.table}" where (${keys}) in (select * from unnest(${arrays}))`,
    columns.map((c) => rows.map((row) => (row as Record<string, unknown>)[c.from])),
  );
  return new Set(result.rows.map((r) => spec.key.map((k) => String(r[k])).join('\u0001')));
}

/** A row's key as one string: its key columns' values, in key order. */
function keyOf(row: object, spec: TargetTable): string {
  const r = row as Record<string, unknown>;
  return spec.key.map((k) => String(r[spec.columns.find((c) => c.name === k)!.from])).join('\u0001');
}

/**
 * One row per key, the newest: a merge statement cannot touch the same row twice, and a source
 * that repeats a record within a page must not fail the page.
 */
function newestPerKey(rows: readonly object[], spec: TargetTable): readonly object[] {
  const newest = new Map<string, Record<string, unknown>>();
  for (const row of rows as Record<string, unknown>[]) {
    const key = keyOf(row, spec);
    const seen = newest.get(key);
    if (!seen || (seen.sourceModifiedOn as Date) <= (row.sourceModifiedOn as Date)) newest.set(key, row);
  }
  return newest.size === rows.length ? rows : [...newest.values()];
}

export interface SkippedInput {
  externalId: string | null;
  reason: string;
  raw: unknown;
}

export async function insertSkipped(
  client: PoolClient,
  syncRunId: number,
  stream: string,
  skipped: readonly SkippedInput[],
): Promise<void> {
  if (skipped.length === 0) return;
  await client.query(
    `insert into skipped_records (sync_run_id, stream, external_id, reason, raw)
     select $1::int, $2::text, r."externalId", r.reason, r.raw
     from json_to_recordset($3::json) as r("externalId" text, reason text, raw jsonb)`,
    [
      syncRunId,
      stream,
      toJsonbText(skipped.map((s) => ({ externalId: s.externalId, reason: s.reason, raw: s.raw ?? null }))),
    ],
  );
}

/** The tables `deriveMemberContacts` joins. */
const derivedFrom = ['members_stream', 'servicetitan_customer_contacts'];

/**
 * ANALYZE of the tables `deriveMemberContacts` joins, where they changed a lot since their last
 * statistics. Right after a first load autovacuum has not caught up: the planner believes them
 * nearly empty and joins every touched customer to every contact, a nested loop that grows with
 * the square of the tenant (20,000 customers: 127 s instead of 0.3 s). Run outside the finishing
 * transaction, so concurrent runs do not hold each other's ANALYZE lock until they commit.
 */
export async function refreshDerivationStatistics(em: EntityManager): Promise<string[]> {
  const sql = em.getConnection();
  const stale = await sql.execute<{ table: string }[]>(
    `select s.relname as table from pg_stat_user_tables s join pg_class c on c.oid = s.relid
      where s.relname in (?, ?) and s.schemaname = current_schema()
        and s.n_mod_since_analyze > greatest(1000, 0.1 * greatest(c.reltuples, 0))`,
    derivedFrom,
  );
  for (const { table } of stale) await sql.execute(`analyze "${table}"`);
  return stale.map((s) => s.table);
}

/**
 * Members' email and phone from their contacts: the first active one of its type (by contact
 * id); phone prefers `Phone` over `MobilePhone`. Set-based, once per run, for the members the run
 * wrote and the customers whose contacts it wrote, so the order in which the two feeds arrive
 * (concurrently, in separate transactions) does not matter. Only the run's own environment is
 * read and written: an Integration tenant's contacts never reach a Production member.
 */
export async function deriveMemberContacts(
  em: EntityManager,
  scope: { companyId: number; environment: RowEnvironment },
  syncRunId: number,
  contactsSince: Date,
): Promise<number> {
  const { companyId, environment } = scope;
  const result = await em.getConnection().execute<{ affectedRows: number }>(
    `with touched as (
       select customer_external_id as id from servicetitan_customer_contacts
        where company_id = ? and environment = ? and last_synced_at >= ?
       union
       select external_id from members_stream
        where company_id = ? and environment = ? and software = 'ServiceTitan' and sync_run_id = ?
     ),
     derived as (
       select t.id,
         (array_agg(c.value order by c.external_id::bigint) filter (where c.type = 'Email' and c.active and c.value is not null))[1] as email,
         coalesce(
           (array_agg(c.value order by c.external_id::bigint) filter (where c.type = 'Phone' and c.active and c.value is not null))[1],
           (array_agg(c.value order by c.external_id::bigint) filter (where c.type = 'MobilePhone' and c.active and c.value is not null))[1]
         ) as phone
       from touched t
       left join servicetitan_customer_contacts c
         on c.company_id = ? and c.environment = ? and c.customer_external_id = t.id
       group by t.id
     )
     update members_stream m set email = d.email, phone = d.phone
       from derived d
      where m.company_id = ? and m.environment = ? and m.software = 'ServiceTitan' and m.external_id = d.id
        and (m.email is distinct from d.email or m.phone is distinct from d.phone)`,
    [
      companyId,
      environment,
      contactsSince,
      companyId,
      environment,
      syncRunId,
      companyId,
      environment,
      companyId,
      environment,
    ],
    'run',
    em.getTransactionContext(),
  );
  return result.affectedRows ?? 0;
}
