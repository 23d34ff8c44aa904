import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { MikroORM } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { type ImportResult, importReport } from '../ingest/import/import-report.js';
import { type ColumnMapping, type ReportKind, reportKinds } from '../ingest/import/report-columns.js';
import type { Logger } from '../logger.js';
import { runWithProgress } from './progress.js';
import type { Output } from './support.js';

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
 * `stsync import`: a report export file into the company's rows, as the API's imports do.
 * Progress (rows read) live on a terminal, a line per 10,000 rows otherwise, on stderr; the
 * summary lists the first skipped rows with their line and reason (`--json`: the result as JSON).
 */
export async function importCommand(
  deps: { orm: MikroORM; logger: Logger; out: Output },
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
  const [outcome] = await runWithProgress(
    [
      {
        title: `import ${options.kind} from ${basename(options.file)}`,
        // The live list does not pass errors on: the outcome carries them.
        run: (report: (text: string) => void) =>
          importReport(deps, {
            companyId: options.companyId,
            environment: options.environment,
            kind: options.kind,
            source,
            sourceName: basename(options.file),
            mapping,
            dryRun: options.dryRun,
            onProgress: (rows) => report(`  ${rows.toLocaleString('en-US')} rows read`),
          }).then(
            (result) => ({ result }),
            (error: unknown) => ({ error }),
          ),
      },
    ],
    (_item, text) => deps.out.note(text.trim()),
  );
  if (!outcome || 'error' in outcome) {
    const error = outcome ? outcome.error : new Error('the import did not finish');
    if (error instanceof AppError && (error.code === 'invalid_import' || error.code === 'not_found'))
      throw new ImportUsageError(error.message);
    throw error;
  }
  const { result } = outcome;
  deps.out.data({ file: basename(options.file), kind: options.kind, ...result });
  const what = options.dryRun ? 'dry run (nothing written)' : `run ${result.syncRunId}`;
  deps.out.line(
    `${options.kind} import of ${basename(options.file)}, ${what}: ${result.rows} rows, ${result.upserted} written, ${result.skipped} skipped`,
  );
  for (const s of result.skippedSample)
    deps.out.line(`  line ${s.line}${s.externalId ? ` (id ${s.externalId})` : ''}: ${s.reason}`);
  if (result.skipped > result.skippedSample.length)
    deps.out.line(
      `  … and ${result.skipped - result.skippedSample.length} more (GET /api/syncs/${result.syncRunId}/skipped)`,
    );
  return result;
}
