import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { MikroORM } from '@mikro-orm/postgresql';
import busboy from 'busboy';
import type { Request, Response } from 'express';
import { assertVisible } from '../../auth/index.js';
import { AppError } from '../../errors.js';
import type { ColumnMapping, ReportKind } from '../../ingest/import/report-columns.js';
import { differencesCsv, differencesJson, readDifferences } from '../../reconcile/differences.js';
import { parseReconcileMapping } from '../../reconcile/mapping.js';
import {
  type ReconciliationSession,
  type ReconciliationSummary,
  startReconciliation,
} from '../../reconcile/reconcile-report.js';
import type { RouteContext } from '../route.js';
import { visibleCredential } from './scope.js';

const tooLarge = (max: number) =>
  new AppError(
    'payload_too_large',
    `A report is larger than the upload limit (IMPORT_MAX_BYTES = ${max} bytes per file).`,
  );

interface ReconciliationRow {
  id: number;
  credential_id: number;
  company_id: number;
  environment: 'production' | 'integration';
  started_by: string;
  started_at: Date | string;
  finished_at: Date | string;
  status: 'matched' | 'differs';
  summary: Pick<ReconciliationSummary, 'differences' | 'streams'>;
}

const view = (r: ReconciliationRow): ReconciliationSummary => ({
  id: r.id,
  credentialId: r.credential_id,
  companyId: r.company_id,
  environment: r.environment,
  startedBy: r.started_by,
  startedAt: new Date(r.started_at).toISOString(),
  finishedAt: new Date(r.finished_at).toISOString(),
  status: r.status,
  differences: r.summary.differences,
  streams: r.summary.streams,
});

/**
 * Reconciliations through the API. The upload is multipart/form-data with a `customers` and/or an
 * `invoices` file part (and optionally a `mapping` field, JSON, before them); each part is parsed
 * as it arrives (busboy), never buffered whole, at most IMPORT_MAX_BYTES each. A refused header,
 * a broken file or an upload over the limit writes nothing.
 */
export function createReconciliationService(deps: { orm: MikroORM; maxBytes: number }) {
  async function visible(ctx: RouteContext, id: number): Promise<ReconciliationRow> {
    const rows = await ctx.em
      .getConnection()
      .execute<ReconciliationRow[]>(`select * from reconciliations where id = ?`, [id]);
    const row = rows[0];
    if (!row) throw new AppError('not_found', `Reconciliation ${id} does not exist.`);
    assertVisible(ctx.principal, row.company_id, `Reconciliation ${id}`);
    ctx.audit.companyId = row.company_id;
    return row;
  }

  return {
    async create(
      ctx: RouteContext,
      credentialId: number,
      req: Request,
      period?: { from: string; to: string },
    ): Promise<ReconciliationSummary> {
      await visibleCredential(ctx, credentialId);
      const declared = Number(req.headers['content-length']);
      if (Number.isFinite(declared) && declared > 2 * deps.maxBytes + 64 * 1024)
        throw tooLarge(deps.maxBytes);
      if (!/^multipart\/form-data/i.test(req.headers['content-type'] ?? ''))
        throw new AppError(
          'unsupported_media_type',
          'Send the reports as multipart/form-data with a customers and/or an invoices file part.',
        );
      const parts = busboy({
        headers: req.headers,
        limits: { files: 2, fileSize: deps.maxBytes, fields: 1, fieldSize: 64 * 1024 },
      });
      const session: ReconciliationSession = await startReconciliation(
        { orm: deps.orm },
        { credentialId, startedBy: ctx.principal.name, period },
      );
      let mapping: Partial<Record<ReportKind, ColumnMapping>> = {};
      let over = false;
      const streams: Readable[] = [];
      // Parts are read one after the other, in the order they come.
      let loading: Promise<void> = Promise.resolve();
      let fail: (error: unknown) => void = () => {};
      const failed = new Promise<never>((_resolve, reject) => {
        fail = reject;
      });
      failed.catch(() => {});
      const parsed = new Promise<void>((resolve, reject) => {
        parts.once('close', resolve);
        parts.once('error', reject);
      });
      parts.on('field', (name, value) => {
        try {
          if (name !== 'mapping')
            throw new AppError('validation_failed', `Unknown field "${name}": only "mapping" is read.`);
          mapping = parseReconcileMapping(JSON.parse(value) as unknown);
        } catch (error) {
          fail(
            error instanceof SyntaxError
              ? new AppError('validation_failed', 'The mapping field is not JSON.')
              : error,
          );
        }
      });
      parts.on('file', (name, stream, info) => {
        streams.push(stream);
        stream.once('limit', () => {
          over = true;
          stream.destroy(tooLarge(deps.maxBytes));
        });
        loading = loading
          .then(() => {
            if (name !== 'customers' && name !== 'invoices')
              throw new AppError(
                'validation_failed',
                `Unknown file part "${name}": name the parts customers and invoices.`,
              );
            return session.load(name, stream, info.filename || `${name}.csv`, { mapping: mapping[name] });
          })
          .catch((error: unknown) => {
            stream.resume();
            fail(error);
            throw error;
          });
        loading.catch(() => {});
      });
      try {
        req.pipe(parts);
        await Promise.race([parsed, failed]);
        await Promise.race([loading, failed]);
        return await session.finish();
      } catch (error) {
        await session.abort();
        if (over) throw tooLarge(deps.maxBytes);
        throw error;
      } finally {
        // The rest of a refused upload is read and dropped, so the answer reaches the client.
        for (const stream of streams) stream.resume();
        req.resume();
      }
    },

    async list(ctx: RouteContext, credentialId: number): Promise<{ items: ReconciliationSummary[] }> {
      await visibleCredential(ctx, credentialId);
      const rows = await ctx.em
        .getConnection()
        .execute<ReconciliationRow[]>(
          `select * from reconciliations where credential_id = ? order by id desc limit 100`,
          [credentialId],
        );
      return { items: rows.map(view) };
    },

    async get(ctx: RouteContext, id: number): Promise<ReconciliationSummary> {
      return view(await visible(ctx, id));
    },

    /** The differences as a file, read from the table a page at a time and sent as it is read. */
    async download(ctx: RouteContext, id: number, format: 'csv' | 'json', res: Response): Promise<void> {
      await visible(ctx, id);
      const rows = readDifferences(ctx.em, id);
      res
        .status(200)
        .type(format === 'csv' ? 'text/csv' : 'application/json')
        .setHeader('content-disposition', `attachment; filename="reconciliation-${id}.${format}"`);
      await pipeline(format === 'csv' ? differencesCsv(rows) : differencesJson(rows), res);
    },
  };
}
