/**
 * Response writing. Every JSON answer goes through `sendJson`, which is where an injected
 * 'truncated' fault (stored on res.locals by the fault middleware) cuts the body.
 */
import { randomBytes } from 'node:crypto';
import type { Response } from 'express';
import type { FaultSpec } from './types.js';

export const TRUNCATE_LOCAL = 'sandboxTruncate';

const PROBLEM_TYPES: Record<number, string> = {
  400: 'https://tools.ietf.org/html/rfc7231#section-6.5.1',
  401: 'https://tools.ietf.org/html/rfc7235#section-3.1',
  403: 'https://tools.ietf.org/html/rfc7231#section-6.5.3',
  404: 'https://tools.ietf.org/html/rfc7231#section-6.5.4',
  500: 'https://tools.ietf.org/html/rfc7231#section-6.6.1',
};

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  traceId: string;
  errors: Record<string, string[]>;
  data: Record<string, unknown>;
}

export function traceId(): string {
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-00`;
}

/** An RFC 7807-like body in the shape of the specs' ApiErrorResponse. */
export function problem(
  status: number,
  title: string,
  errors: Record<string, string[]> = {},
  data: Record<string, unknown> = {},
): ProblemBody {
  return {
    type: PROBLEM_TYPES[status] ?? PROBLEM_TYPES[500]!,
    title,
    status,
    traceId: traceId(),
    errors,
    data,
  };
}

export function sendJson(
  res: Response,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  const truncate = res.locals[TRUNCATE_LOCAL] as FaultSpec | undefined;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  if (!truncate) {
    res.status(status).send(text);
    return;
  }
  const full = Buffer.from(text);
  const cut = full.subarray(0, Math.max(1, Math.floor(full.length / 2)));
  if (truncate.truncateMode === 'invalid-json') {
    res.status(status).setHeader('Content-Length', String(cut.length));
    res.end(cut);
    return;
  }
  // Promise the whole body, deliver half, then drop the connection like a dying proxy would.
  res.status(status).setHeader('Content-Length', String(full.length));
  res.flushHeaders();
  res.write(cut, () => res.socket?.destroy());
}
