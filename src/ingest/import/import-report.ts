import type { Readable } from 'node:stream';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { parse } from 'csv-parse';
import type { Pool, PoolClient } from 'pg';
import { createSyncRunActivities } from '../../activities/sync-runs.activities.js';
import type { AlertPolicy } from '../../alerts/policy.js';
import { ServiceTitanCredential, SyncRun } from '../../db/entities/index.js';
import { AppError } from '../../errors.js';
import { flagsOf } from '../../flags/index.js';
import type { Logger } from '../../logger.js';
import type { Metrics } from '../../metrics/index.js';
import type { MapContext, RowEnvironment } from '../maps/types.js';
import { normaliseEmail } from '../normalise/emails.js';
import { normalisePhone } from '../normalise/phones.js';
import type { SyncStream, TargetTable } from '../streams/define-sync-stream.js';
import { syncStreams } from '../streams/index.js';
import { BATCH_SIZE, insertSkipped, type SkippedInput, upsertRows } from '../upsert.js';
import {
  type ColumnMapping,
  type ReportKind,
  type ResolvedColumns,
  reportRecord,
  resolveColumns,
} from './report-columns.js';

export interface ImportDeps {
  orm: MikroORM;
  logger: Logger;
  metrics?: Metrics | undefined;
  alerts?: AlertPolicy | undefined;
}

export interface ImportInput {
  companyId: number;
  environment: RowEnvironment;
  kind: ReportKind;
  /** The CSV bytes, read as they come: a file or an upload is never held whole. */
  source: Readable;
  /** What the run records as its source, e.g. the file name. */
  sourceName: string;
  mapping?: ColumnMapping | undefined;
  /** Parse, map and validate only; nothing is written. */
  dryRun?: boolean | undefined;
  /** Called every `progressEvery` rows and at the end. */
  onProgress?: ((rows: number) => void) | undefined;
  progressEvery?: number | undefined;
}

export interface ImportResult {
  syncRunId: number | null;
  status: 'completed' | 'completed_with_warnings' | 'dry_run';
  rows: number;
  upserted: number;
  skipped: number;
  /** The first skipped rows, with their line and reason (all of them are stored on the run). */
  skippedSample: { line: number; externalId: string | null; reason: string }[];
}

/** Members from a report carry their email and phone as columns (the API derives them from contacts). */
const importTargets: Record<ReportKind, TargetTable> = {
  customers: {
    ...syncStreams.customers.target,
    columns: [
      ...syncStreams.customers.target.columns,
      { name: 'email', from: 'email' },
      { name: 'phone', from: 'phone' },
    ],
  },
  invoices: syncStreams.invoices.target,
};

/**
 * Imports a ServiceTitan report export (CSV) into the rows a sync writes, through the stream's own
 * map: a report row becomes the API-shaped record, so mapping, validation and skipped records are
 * the sync's. An import is a run (trigger `import`, its source recorded) and ends through the
 * sync's finish, which leaves `company_data.updated` for downstream. Rows are merged in batches
 * of BATCH_SIZE as they are parsed; the file is never held whole. Imports are allowed
 * whatever the `data-source` flag says: they are the manual path it switches to. The rows commit
 * together at the end (one transaction), so a failed import writes none.
 */
export async function importReport(deps: ImportDeps, input: ImportInput): Promise<ImportResult> {
  const em = deps.orm.em.fork() as EntityManager;
  const credential = await em.findOne(ServiceTitanCredential, {
    company: input.companyId,
    environment: input.environment,
  });
  if (!credential)
    throw new AppError(
      'not_found',
      `Company ${input.companyId} has no ${input.environment} credential: imported rows belong to one (add it, or pass the other environment).`,
    );
  const target = importTargets[input.kind];
  const ctx = { companyId: input.companyId, environment: input.environment };
  const every = input.progressEvery ?? 10_000;
  const result: ImportResult = {
    syncRunId: null,
    status: input.dryRun ? 'dry_run' : 'completed',
    rows: 0,
    upserted: 0,
    skipped: 0,
    skippedSample: [],
  };

  const parser = input.source.pipe(
    parse({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true }),
  );
  // A read error of the source (an upload cut short, over its limit) ends the parse with it.
  input.source.once('error', (error) => parser.destroy(error));

  let columns: ResolvedColumns | undefined;
  let rows: object[] = [];
  let skipped: SkippedInput[] = [];
  let fetched = 0;

  // One transaction for the whole file: an import that fails (a broken file, an upload over its
  // limit, a lost connection) leaves no rows behind, and a retried import starts clean.
  let client: PoolClient | undefined;
  let broken: Error | undefined;
  const write = async () => {
    if (input.dryRun || result.syncRunId === null) {
      rows = [];
      skipped = [];
      fetched = 0;
      return;
    }
    if (!client) {
      const pool = (await deps.orm.em.getConnection().getNativeClient()) as unknown as Pool;
      client = await pool.connect();
      await client.query('begin');
    }
    const upserted = await upsertRows(client, target, rows, result.syncRunId);
    await insertSkipped(client, result.syncRunId, input.kind, skipped);
    await client.query(
      `update servicetitan_sync_runs set counts = counts || jsonb_build_object($1::text, jsonb_build_object(
         'pages', coalesce((counts -> $1::text ->> 'pages')::bigint, 0) + 1,
         'fetched', coalesce((counts -> $1::text ->> 'fetched')::bigint, 0) + $2::bigint,
         'upserted', coalesce((counts -> $1::text ->> 'upserted')::bigint, 0) + $3::bigint,
         'skipped', coalesce((counts -> $1::text ->> 'skipped')::bigint, 0) + $4::bigint))
       where id = $5`,
      [input.kind, fetched, upserted, skipped.length, result.syncRunId],
    );
    result.upserted += upserted;
    rows = [];
    skipped = [];
    fetched = 0;
  };

  const finish = createSyncRunActivities({
    orm: deps.orm,
    logger: deps.logger,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    ...(deps.alerts ? { alerts: deps.alerts } : {}),
  } as Parameters<typeof createSyncRunActivities>[0]).finishSyncRun;

  try {
    for await (const { record: cells, info } of parser as AsyncIterable<{
      record: string[];
      info: { lines: number };
    }>) {
      if (!columns) {
        // The header decides everything before a single row is written.
        columns = resolveColumns(input.kind, cells, input.mapping);
        if (!input.dryRun) result.syncRunId = await createImportRun(em, credential.id, input);
        continue;
      }
      result.rows++;
      fetched++;
      const mapped = mapReportRow(columns, cells, ctx);
      const raw = Object.fromEntries(columns.header.map((h, i) => [h, cells[i] ?? null]));
      if (mapped.ok) {
        mapped.row.raw = raw;
        rows.push(mapped.row);
      } else {
        result.skipped++;
        skipped.push({ externalId: mapped.externalId, reason: mapped.reason, raw });
        if (result.skippedSample.length < 20)
          result.skippedSample.push({
            line: info.lines,
            externalId: mapped.externalId,
            reason: mapped.reason,
          });
      }
      if (rows.length + skipped.length >= BATCH_SIZE) await write();
      if (result.rows % every === 0) input.onProgress?.(result.rows);
    }
    if (!columns)
      throw new AppError('invalid_import', `The ${input.kind} report is empty: it has no header row.`);
    await write();
    await client?.query('commit');
  } catch (error) {
    broken = error as Error;
    await client?.query('rollback').catch(() => {});
    result.upserted = 0;
    if (result.syncRunId !== null) {
      const message =
        error instanceof AppError
          ? error.message
          : 'the import stopped: the file could not be read to its end';
      deps.logger.warn({ err: error, syncRunId: result.syncRunId }, 'import failed');
      await finish({ syncRunId: result.syncRunId, status: 'failed', error: message, warnings: [] }).catch(
        () => {},
      );
    }
    if (
      error instanceof Error &&
      'code' in error &&
      typeof error.code === 'string' &&
      error.code.startsWith('CSV_')
    )
      throw new AppError('invalid_import', `The file is not valid CSV: ${error.message}`);
    throw error;
  } finally {
    // A connection that failed mid-transaction is discarded, not returned to the pool.
    client?.release(broken);
  }
  if (result.syncRunId !== null) {
    const labels = { stream: input.kind, environment: input.environment };
    deps.metrics?.recordsWritten.inc(labels, result.upserted);
    deps.metrics?.recordsSkipped.inc(labels, result.skipped);
  }
  input.onProgress?.(result.rows);
  if (result.syncRunId !== null) {
    if (result.skipped) result.status = 'completed_with_warnings';
    await finish({
      syncRunId: result.syncRunId,
      status: result.status as 'completed',
      error: null,
      warnings: result.skipped
        ? [`${result.skipped} rows of the report were skipped (see the skipped records)`]
        : [],
    });
  }
  return result;
}

/**
 * A report row → the row a sync of the same record stores, through the stream's own map: the
 * import writes it, a reconciliation compares it with the stored one.
 */
export function mapReportRow(
  columns: ResolvedColumns,
  cells: readonly string[],
  ctx: MapContext,
  /** Fields a row without them takes (the report's columns win). */
  defaults?: Record<string, unknown>,
): { ok: true; row: Record<string, unknown> } | { ok: false; externalId: string | null; reason: string } {
  const read = reportRecord(columns, cells);
  if (!read.ok) return read;
  const record = defaults ? { ...defaults, ...read.record } : read.record;
  const mapped = (syncStreams[columns.kind] as SyncStream).map(record as never, ctx);
  if (!mapped.ok) return mapped;
  const row = mapped.row as Record<string, unknown>;
  if (columns.kind === 'customers') {
    row.email = normaliseEmail(read.record.email);
    row.phone = normalisePhone(read.record.phone);
  }
  return { ok: true, row };
}

/** The run row of an import: started now, its flags and source recorded like any run's. */
async function createImportRun(em: EntityManager, credentialId: number, input: ImportInput): Promise<number> {
  const credential = await em.findOneOrFail(ServiceTitanCredential, credentialId);
  const flags = await flagsOf(em).forCompany(input.companyId);
  const run = em.create(SyncRun, {
    credential,
    trigger: 'import',
    streams: [input.kind],
    mode: 'full',
    flags,
    status: 'running',
    startedAt: new Date(),
    source: `report:${input.kind} ${input.sourceName}`.slice(0, 500),
  });
  await em.flush();
  return run.id;
}
