import type { Readable } from 'node:stream';
import type { MikroORM } from '@mikro-orm/postgresql';
import busboy from 'busboy';
import type { Request } from 'express';
import { AppError } from '../../errors.js';
import { type ImportResult, importReport } from '../../ingest/import/import-report.js';
import type { ReportKind } from '../../ingest/import/report-columns.js';
import type { Logger } from '../../logger.js';
import type { RouteContext } from '../route.js';
import { visibleCompany } from './scope.js';

export const DEFAULT_IMPORT_MAX_BYTES = 500 * 1024 * 1024;

export interface ImportQuery {
  kind: ReportKind;
  environment: 'production' | 'integration';
  dryRun?: boolean | undefined;
}

const tooLarge = (max: number) =>
  new AppError(
    'payload_too_large',
    `The report is larger than the import limit (IMPORT_MAX_BYTES = ${max} bytes).`,
  );

/**
 * POST /api/companies/:id/imports: the multipart body's one file part is parsed as it arrives
 * (busboy), never buffered whole; over IMPORT_MAX_BYTES the import stops and its transaction
 * rolls back, so nothing is written. A Content-Length over the limit is refused before reading.
 */
export function createImportService(deps: { orm: MikroORM; logger: Logger; maxBytes: number }) {
  return {
    async create(
      ctx: RouteContext,
      companyId: number,
      query: ImportQuery,
      req: Request,
    ): Promise<ImportResult> {
      await visibleCompany(ctx, companyId);
      const declared = Number(req.headers['content-length']);
      if (Number.isFinite(declared) && declared > deps.maxBytes + 64 * 1024) throw tooLarge(deps.maxBytes);
      if (!/^multipart\/form-data/i.test(req.headers['content-type'] ?? ''))
        throw new AppError(
          'unsupported_media_type',
          'Send the report as multipart/form-data with one file part.',
        );
      const parts = busboy({
        headers: req.headers,
        limits: { files: 1, fileSize: deps.maxBytes, fields: 10 },
      });
      const file = new Promise<{ stream: Readable; filename: string }>((resolve, reject) => {
        parts.once('file', (_name, stream, info) =>
          resolve({ stream, filename: info.filename || 'upload.csv' }),
        );
        parts.once('error', reject);
        parts.once('close', () => reject(new AppError('validation_failed', 'The upload has no file part.')));
      });
      req.pipe(parts);
      const { stream, filename } = await file;
      let over = false;
      stream.once('limit', () => {
        over = true;
        stream.destroy(tooLarge(deps.maxBytes));
      });
      try {
        return await importReport(
          { orm: deps.orm, logger: deps.logger },
          {
            companyId,
            environment: query.environment,
            kind: query.kind,
            source: stream,
            sourceName: filename,
            dryRun: query.dryRun,
          },
        );
      } catch (error) {
        if (over) throw tooLarge(deps.maxBytes);
        throw error;
      } finally {
        // The rest of a refused upload is read and dropped, so the answer reaches the client.
        stream.resume();
        req.resume();
      }
    },
  };
}
