import type { ErrorRequestHandler } from 'express';
import { z } from 'zod';
import { DatabaseError, toSafeDatabaseError } from '../db/errors.js';
import { AppError } from '../errors.js';

/** The one table from error codes to HTTP statuses. Codes not listed are answered 500. */
export const statusByCode: Readonly<Record<string, number>> = {
  invalid_json: 400,
  validation_failed: 400,
  invalid_schedule: 400,
  invalid_flag_value: 400,
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  csrf_failed: 403,
  not_found: 404,
  conflict: 409,
  sync_in_progress: 409,
  sync_not_running: 409,
  sync_not_allowed: 409,
  credential_disabled: 409,
  payload_too_large: 413,
  invalid_import: 422,
  unsupported_media_type: 415,
  connection_failed: 422,
  webhook_url_refused: 422,
  rate_limited: 429,
  encryption_not_configured: 503,
  not_configured: 503,
  audit_unavailable: 503,
  // Database errors (src/db/errors.ts): messages without values, so they may be answered.
  database_conflict: 409,
  database_invalid_value: 400,
  database_busy: 503,
  database_unavailable: 503,
};

/** Body-parser's error types, as our codes. */
const parserCodes: Record<string, string> = {
  'entity.parse.failed': 'invalid_json',
  'entity.too.large': 'payload_too_large',
  'encoding.unsupported': 'unsupported_media_type',
  'charset.unsupported': 'unsupported_media_type',
  'request.aborted': 'bad_request',
  'request.size.invalid': 'bad_request',
  'entity.verify.failed': 'bad_request',
  'stream.encoding.set': 'bad_request',
};

const parserMessages: Record<string, string> = {
  invalid_json: 'The request body is not valid JSON.',
  payload_too_large: 'The request body is too large.',
  unsupported_media_type: 'The request body encoding or charset is not supported.',
  bad_request: 'The request could not be read.',
};

/** zod issues as `path: message` details; never the received values (they may be secrets). */
export function validationError(where: string, error: z.ZodError): AppError {
  const issues = error.issues.map((i) => ({
    path: [where, ...i.path.map(String)].join('.'),
    message: i.message,
  }));
  return new AppError('validation_failed', issues.map((i) => `${i.path}: ${i.message}`).join('; '), {
    issues,
  });
}

export const errorBodySchema = z
  .object({
    error: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
    requestId: z.string().optional(),
  })
  .meta({ id: 'Error' });

/**
 * JSON errors `{error, message, details?}` for every failure; unknown errors are 500
 * `{error:'internal', requestId}` with the detail only in the log, never a stack trace.
 */
export function createErrorHandler(): ErrorRequestHandler {
  return (error, req, res, _next) => {
    if (res.headersSent) {
      req.log?.error({ err: error }, 'request failed after the response started');
      res.end();
      return;
    }
    if (error instanceof AppError && statusByCode[error.code] !== undefined) {
      const status = statusByCode[error.code]!;
      if (error.code === 'rate_limited' && typeof error.details?.retryAfterSeconds === 'number')
        res.setHeader('retry-after', String(error.details.retryAfterSeconds));
      if (status === 401) res.setHeader('www-authenticate', 'Bearer');
      res.status(status).json({
        error: error.code,
        message: error.message,
        ...(error.details ? { details: error.details } : {}),
      });
      return;
    }
    const database = toSafeDatabaseError(error, req.log);
    if (database instanceof DatabaseError) {
      // Logged (redacted) by toSafeDatabaseError; never `err: error`, whose detail quotes values.
      const status = statusByCode[database.code];
      if (status === undefined) {
        res.status(500).json({ error: 'internal', message: 'Internal error', requestId: String(req.id) });
        return;
      }
      if (status === 503) res.setHeader('retry-after', '5');
      res.status(status).json({ error: database.code, message: database.message, details: database.details });
      return;
    }
    const parserCode = typeof error?.type === 'string' ? parserCodes[error.type] : undefined;
    if (parserCode) {
      res.status(statusByCode[parserCode]!).json({ error: parserCode, message: parserMessages[parserCode] });
      return;
    }
    req.log?.error({ err: error }, 'request failed');
    res.status(500).json({ error: 'internal', message: 'Internal error', requestId: String(req.id) });
  };
}
