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
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  sendText(res, status, JSON.stringify(body));
}

const CHUNK_CHARS = 64 * 1024;

/**
 * Sends `{...head, data: [records]}` rendering and serialising one record at a time, in 64 KB
 * chunks. Rendered objects then die young instead of a whole page (up to ~1 MB of invoices)
 * living until one big JSON.stringify — that keeps the heap, and RSS, small under load.
 */
export function sendDataPage(res: Response, head: Record<string, unknown>, records: Iterable<unknown>): void {
  const prefix = `${JSON.stringify(head).slice(0, -1)}${Object.keys(head).length > 0 ? ',' : ''}"data":[`;
  if (res.locals[TRUNCATE_LOCAL]) {
    const parts: string[] = [];
    for (const record of records) parts.push(JSON.stringify(record));
    sendText(res, 200, `${prefix}${parts.join(',')}]}`);
    return;
  }
  res.status(200).setHeader('Content-Type', 'application/json; charset=utf-8');
  let chunk = prefix;
  let first = true;
  for (const record of records) {
    chunk += (first ? '' : ',') + JSON.stringify(record);
    first = false;
    if (chunk.length >= CHUNK_CHARS) {
      res.write(chunk);
      chunk = '';
    }
  }
  res.end(`${chunk}]}`);
}

function sendText(res: Response, status: number, text: string): void {
  const truncate = res.locals[TRUNCATE_LOCAL] as FaultSpec | undefined;
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
