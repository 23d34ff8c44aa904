import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { MikroORM } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { type ImportResult, importReport } from '../ingest/import/import-report.js';
import { type ColumnMapping, type ReportKind, reportKinds } from '../ingest/import/report-columns.js';
import type { Logger } from '../logger.js';

export interface ImportOptions {
  companyId: number;
  kind: ReportKind;
  environment: 'production' | 'integration';
  file: string;
  mappingFile?: string | undefined;
  dryRun: boolean;
}

/** Bad command-line input: exit code 2, as a report the import refuses. */
export class ImportUsageError extends Error {}

export function parseImportOptions(
  values: {
    company?: string | undefined;
    kind?: string | undefined;
    environment?: string | undefined;
    mapping?: string | undefined;
    'dry-run'?: boolean | undefined;
  },
  file: string | undefined,
): ImportOptions {
  if (!values.company || !/^[1-9]\d{0,9}$/.test(values.company))
    throw new ImportUsageError('import needs --company <id>.');
  if (!values.kind || !(reportKinds as readonly string[]).includes(values.kind))
    throw new ImportUsageError('import needs --kind customers|invoices.');
  const environment = values.environment ?? 'production';
  if (environment !== 'production' && environment !== 'integration')
    throw new ImportUsageError('--environment is production or integration.');
  if (!file)
    throw new ImportUsageError(
      'import needs the report file: stsync import --company <id> --kind <kind> <file.csv>.',
    );
  return {
    companyId: Number(values.company),
    kind: values.kind as ReportKind,
    environment,
    file,
    mappingFile: values.mapping,
    dryRun: values['dry-run'] ?? false,
  };
}

const mappingSchema = z.record(z.string(), z.string().nullable());

/**
 * `stsync import`: a report export file into the company's rows, as the API's imports do. A line
 * per 10,000 rows; the summary lists the first skipped rows with their line and reason.
 */
export async function importCommand(
  deps: { orm: MikroORM; logger: Logger; write: (line: string) => void },
  options: ImportOptions,
): Promise<ImportResult> {
  let mapping: ColumnMapping | undefined;
  if (options.mappingFile) {
    const parsed = mappingSchema.safeParse(
      await readFile(options.mappingFile, 'utf8').then(
        (text) => JSON.parse(text) as unknown,
        (error: unknown) => {
          throw new ImportUsageError(`cannot read the mapping file: ${(error as Error).message}`);
        },
      ),
    );
    if (!parsed.success)
      throw new ImportUsageError(
        'the mapping file is a JSON object of report column → field name (or null to ignore the column).',
      );
    mapping = parsed.data;
  }
  const source = createReadStream(options.file);
  await new Promise<void>((resolve, reject) => {
    source.once('open', () => resolve());
    source.once('error', (error) =>
      reject(new ImportUsageError(`cannot read ${options.file}: ${error.message}`)),
    );
  });
  const result = await importReport(deps, {
    companyId: options.companyId,
    environment: options.environment,
    kind: options.kind,
    source,
    sourceName: basename(options.file),
    mapping,
    dryRun: options.dryRun,
    onProgress: (rows) => deps.write(`${rows.toLocaleString('en-US')} rows read`),
  }).catch((error: unknown) => {
    if (error instanceof AppError && (error.code === 'invalid_import' || error.code === 'not_found'))
      throw new ImportUsageError(error.message);
    throw error;
  });
  const what = options.dryRun ? 'dry run (nothing written)' : `run ${result.syncRunId}`;
  deps.write(
    `${options.kind} import of ${basename(options.file)}, ${what}: ${result.rows} rows, ${result.upserted} written, ${result.skipped} skipped`,
  );
  for (const s of result.skippedSample)
    deps.write(`  line ${s.line}${s.externalId ? ` (id ${s.externalId})` : ''}: ${s.reason}`);
  if (result.skipped > result.skippedSample.length)
    deps.write(
      `  … and ${result.skipped - result.skippedSample.length} more (GET /api/syncs/${result.syncRunId}/skipped)`,
    );
  return result;
}
