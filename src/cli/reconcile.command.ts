import { createReadStream, createWriteStream } from 'node:fs';
import { access, constants, mkdir, readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { MikroORM } from '@mikro-orm/postgresql';
import { AppError } from '../errors.js';
import type { ColumnMapping, ReportKind } from '../ingest/import/report-columns.js';
import type { Logger } from '../logger.js';
import { differencesCsv, differencesJson, readDifferences } from '../reconcile/differences.js';
import { parseReconcileMapping } from '../reconcile/mapping.js';
import {
  differenceKinds,
  type ReconciliationSummary,
  startReconciliation,
} from '../reconcile/reconcile-report.js';
import { runWithProgress } from './progress.js';
import { auditCli, cliContext, type Output, parseId, UsageError } from './support.js';

export interface ReconcileOptions {
  credentialId: number;
  files: Partial<Record<ReportKind, string>>;
  mappingFile?: string | undefined;
  out: string;
  period?: { from: string; to: string } | undefined;
}

export function parseReconcileOptions(values: {
  credential?: string | undefined;
  customers?: string | undefined;
  invoices?: string | undefined;
  mapping?: string | undefined;
  out?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}): ReconcileOptions {
  const credentialId = parseId(values.credential, 'reconcile needs --credential <id>: it');
  const files: ReconcileOptions['files'] = {};
  if (values.customers) files.customers = values.customers;
  if (values.invoices) files.invoices = values.invoices;
  if (!files.customers && !files.invoices)
    throw new UsageError('reconcile needs a report: --customers <file.csv>, --invoices <file.csv>, or both.');
  if ((values.from === undefined) !== (values.to === undefined))
    throw new UsageError('--from and --to go together: the invoice dates the invoice report covers.');
  const period = values.from && values.to ? { from: values.from, to: values.to } : undefined;
  if (period && !(/^\d{4}-\d\d-\d\d$/.test(period.from) && /^\d{4}-\d\d-\d\d$/.test(period.to)))
    throw new UsageError('--from and --to are dates, YYYY-MM-DD.');
  return { credentialId, files, mappingFile: values.mapping, out: values.out ?? 'reconciliations', period };
}

async function readMapping(file: string): Promise<Partial<Record<ReportKind, ColumnMapping>>> {
  const json = await readFile(file, 'utf8').then(
    (text) => JSON.parse(text) as unknown,
    (error: unknown) => {
      throw new UsageError(`cannot read the mapping file: ${(error as Error).message}`);
    },
  );
  try {
    return parseReconcileMapping(json);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Opens a file for reading, or says why it cannot (bad input: exit 2). */
async function openReport(file: string): Promise<Readable> {
  const source = createReadStream(file);
  await new Promise<void>((done, fail) => {
    source.once('open', () => done());
    source.once('error', (error) => fail(new UsageError(`cannot read ${file}: ${error.message}`)));
  });
  return source;
}

/**
 * `stsync reconcile`: the report files against the credential's stored rows, the summary on
 * screen and the details in `--out`. Every input is checked before the comparison starts (the
 * files open, the mapping parses, the output folder is writable); a report refused at its header
 * writes nothing. Returns the exit code: 0 matched, 1 differs.
 */
export async function reconcileReportsCommand(
  deps: { orm: MikroORM; logger: Logger; out: Output },
  options: ReconcileOptions,
): Promise<number> {
  const mapping = options.mappingFile ? await readMapping(options.mappingFile) : {};
  const kinds = (['customers', 'invoices'] as const).filter((k) => options.files[k]);
  const sources = new Map<ReportKind, Readable>();
  try {
    for (const kind of kinds) sources.set(kind, await openReport(options.files[kind]!));
    const out = resolve(options.out);
    await mkdir(out, { recursive: true })
      .then(() => access(out, constants.W_OK))
      .catch((error: unknown) => {
        throw new UsageError(`cannot write to ${out}: ${(error as Error).message}`);
      });

    const [outcome] = await runWithProgress(
      [
        {
          title: `reconcile credential ${options.credentialId}`,
          // The live list does not pass errors on: the outcome carries them.
          run: (report: (text: string) => void) =>
            compareReports(report).then(
              (summary) => ({ summary }),
              (error: unknown) => ({ error }),
            ),
        },
      ],
      (_item, text) => deps.out.note(text.trim()),
    );
    if (!outcome || 'error' in outcome)
      throw outcome ? outcome.error : new Error('the reconciliation did not finish');
    const result = outcome.summary;

    async function compareReports(report: (text: string) => void) {
      const session = await startReconciliation(
        { orm: deps.orm },
        { credentialId: options.credentialId, startedBy: 'cli', period: options.period },
      );
      for (const kind of kinds) {
        const file = options.files[kind]!;
        await session.load(kind, sources.get(kind)!, basename(file), {
          mapping: mapping[kind],
          onProgress: (rows) => report(`  ${kind}: ${rows.toLocaleString('en-US')} rows read`),
        });
      }
      report('  comparing with the stored rows');
      return session.finish();
    }
    const ctx = cliContext(deps.orm, deps.logger);
    ctx.audit.details = { status: result.status, differences: result.differences, sources: kinds };
    await auditCli(deps.orm, ctx, {
      action: 'reconciliation.create',
      targetType: 'reconciliation',
      targetId: result.id,
      companyId: result.companyId,
    });

    const csvFile = join(out, `reconciliation-${result.id}.csv`);
    const jsonFile = join(out, `reconciliation-${result.id}.json`);
    const em = deps.orm.em.fork();
    await pipeline(Readable.from(differencesCsv(readDifferences(em, result.id))), createWriteStream(csvFile));
    await pipeline(
      Readable.from(
        (async function* () {
          yield `{"summary":${JSON.stringify(result)},"differences":`;
          yield* differencesJson(readDifferences(em, result.id));
          yield '}\n';
        })(),
      ),
      createWriteStream(jsonFile),
    );
    deps.out.data({ ...result, files: { csv: csvFile, json: jsonFile } });
    for (const line of formatReconciliation(result)) deps.out.line(line);
    deps.out.line(`details: ${csvFile}`);
    deps.out.line(`         ${jsonFile}`);
    return result.status === 'matched' ? 0 : 1;
  } catch (error) {
    if (
      error instanceof AppError &&
      ['invalid_import', 'not_found', 'validation_failed'].includes(error.code)
    )
      throw new UsageError(error.message);
    throw error;
  } finally {
    for (const source of sources.values()) source.destroy();
  }
}

const label: Record<string, string> = {
  missing_in_store: 'in the report, not stored',
  missing_in_report: 'stored, not in the report',
  field_mismatch: 'field mismatches',
  day_totals: 'days whose totals differ',
  business_unit_totals: 'business units whose totals differ',
  duplicate_in_report: 'duplicate report rows',
  unreadable_row: 'unreadable report rows',
};

/** The summary as lines for a person. */
export function formatReconciliation(s: ReconciliationSummary): string[] {
  const lines = [
    `reconciliation ${s.id} of credential ${s.credentialId} (company ${s.companyId}, ${s.environment}): ${
      s.status === 'matched' ? 'matched, 0 differences' : `differs, ${s.differences} differences`
    }`,
  ];
  for (const [kind, r] of Object.entries(s.streams)) {
    const period = r.period ? `, invoice dates ${r.period.from} to ${r.period.to}` : '';
    lines.push(`${kind} (${r.file}${period}): ${r.reportRows} report rows, ${r.storedRows} stored rows`);
    if (r.reportTotal !== null) lines.push(`  total: report ${r.reportTotal}, stored ${r.storedTotal}`);
    lines.push(`  compared: ${r.fields.join(', ')}`);
    for (const kind of differenceKinds) {
      const n = r.differences[kind];
      if (!n) continue;
      const fields =
        kind === 'field_mismatch'
          ? ` (${Object.entries(r.fieldMismatches)
              .map(([f, c]) => `${f} ${c}`)
              .join(', ')})`
          : '';
      lines.push(`  ${label[kind]}: ${n}${fields}`);
    }
  }
  return lines;
}
