import { z } from 'zod';
import {
  PaginationLoop,
  ResponseValidation,
  type ServiceTitanError,
  ServiceTitanUnavailable,
} from './errors.js';
import { fastParser } from './fast-parse.js';
import { dataElementTextsOf, type RecordText, releasePageBody, rememberRecordText } from './json-source.js';
import type { StreamDefinition } from './streams/define-stream.js';
import type { ExportPage, InvalidRecord, ListPage } from './types.js';

/** Fetches one page: query in, parsed JSON out (retries, auth and rate limit are the caller's). */
export type PageFetcher = (
  query: Record<string, string | undefined>,
  options: {
    signal: AbortSignal;
    giveUpOn?: (err: ServiceTitanError) => boolean;
    /** Called with the time from sending to the answer's headers, in ms. */
    onAnswered?: (ms: number) => void;
  },
) => Promise<unknown>;

const exportEnvelope = z.object({
  hasMore: z.boolean(),
  continueFrom: z.string().nullish(),
  data: z.array(z.unknown()),
});

const listEnvelope = z.object({
  page: z.number().int().nullish(),
  pageSize: z.number().int().nullish(),
  hasMore: z.boolean(),
  totalCount: z.number().int().nullish(),
  data: z.array(z.unknown()),
});

/**
 * Validates each record on its own: one bad record is reported, the rest of the page goes on. A
 * record the fast parser accepts comes back as the input object itself, with the schema's
 * transforms written into it; zod parses (and copies) only the others, and has the last word.
 */
export function splitRecords<T>(
  schema: z.ZodType<T>,
  data: unknown[],
  /** The JSON text of each element of `data`, where known: kept for the records it stays true of. */
  texts?: readonly (RecordText | undefined)[],
): { records: T[]; invalid: InvalidRecord[] } {
  const records: T[] = [];
  const invalid: InvalidRecord[] = [];
  const fast = fastParser(schema);
  for (let i = 0; i < data.length; i++) {
    const raw = data[i];
    const quick = fast?.(raw);
    if (quick) {
      const text = texts?.[i];
      // A record the schema changed (a null list made []) is no longer what its text says.
      if (text !== undefined && !quick.changed) rememberRecordText(quick.value as object, text);
      records.push(quick.value as T);
      continue;
    }
    const parsed = schema.safeParse(raw);
    if (parsed.success) {
      records.push(parsed.data);
    } else {
      const id = raw && typeof raw === 'object' ? (raw as { id?: unknown }).id : undefined;
      const reason = parsed.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join('.') || '(record)'}: ${i.message}`)
        .join('; ');
      invalid.push({ id, reason, raw });
    }
  }
  return { records, invalid };
}

/** The JSON text of each record of a page, when the body's texts are known and agree with `data`. */
function elementTexts(body: unknown, data: unknown[]): readonly (RecordText | undefined)[] | undefined {
  const texts = dataElementTextsOf(body);
  return texts?.length === data.length ? texts : undefined;
}

function parseEnvelope<S extends z.ZodType>(
  envelope: S,
  body: unknown,
  stream: string,
  kind: string,
): z.output<S> {
  const parsed = envelope.safeParse(body);
  if (!parsed.success) {
    throw new ResponseValidation(
      `ServiceTitan's ${stream} ${kind} response does not have the documented shape: ${parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`)
        .join('; ')}`,
      { stream, kind },
    );
  }
  return parsed.data;
}

/**
 * Runs `produce` one step ahead of the consumer: while the caller handles page N, page N+1 is
 * already being fetched (never more). Stopping early or aborting cancels the prefetch.
 */
async function* prefetchOne<P>(
  signal: AbortSignal | undefined,
  first: (signal: AbortSignal) => Promise<P>,
  next: (page: P, signal: AbortSignal) => Promise<P> | undefined,
): AsyncGenerator<P> {
  const controller = new AbortController();
  const combined = signal ? AbortSignal.any([signal, controller.signal]) : controller.signal;
  let pending: Promise<P> | undefined = first(combined);
  try {
    while (pending) {
      const page: P = await pending;
      pending = next(page, combined);
      // If the consumer stops before awaiting it, the prefetch's failure must not go unhandled.
      pending?.catch(() => {});
      yield page;
    }
  } finally {
    controller.abort(new DOMException('pagination stopped', 'AbortError'));
  }
}

export interface ExportPaginationOptions {
  from?: string;
  includeRecentChanges?: boolean;
  signal?: AbortSignal;
}

/**
 * One page of the export feed from `from` (a token, a date, or the beginning when absent). Fails
 * with PaginationLoop when the server says there is more but hands back the token it was given.
 */
export async function fetchExportPage<T>(
  stream: StreamDefinition<z.ZodType<T>>,
  fetchPage: PageFetcher,
  options: { from?: string | undefined; includeRecentChanges?: boolean; signal: AbortSignal },
): Promise<ExportPage<T>> {
  const from = options.from || undefined;
  const body = await fetchPage(
    { from, includeRecentChanges: options.includeRecentChanges ? 'true' : undefined },
    { signal: options.signal },
  );
  const envelope = parseEnvelope(exportEnvelope, body, stream.name, 'export');
  const continueFrom = envelope.continueFrom ?? '';
  if (envelope.hasMore && (continueFrom === '' || continueFrom === from)) {
    throw new PaginationLoop(stream.name, { from, continueFrom, records: envelope.data.length });
  }
  const { records, invalid } = splitRecords(stream.schema, envelope.data, elementTexts(body, envelope.data));
  // A final page without a token keeps the last one: it stays valid for the next sync.
  return {
    records,
    invalid,
    continueFrom: continueFrom || (from ?? ''),
    hasMore: envelope.hasMore,
    release: () => releasePageBody(body),
  };
}

/** The export feed: `from` → `continueFrom` until `hasMore=false`. */
export function paginateExport<T>(
  stream: StreamDefinition<z.ZodType<T>>,
  fetchPage: PageFetcher,
  options: ExportPaginationOptions = {},
): AsyncIterable<ExportPage<T>> {
  const load = (from: string | undefined, signal: AbortSignal) =>
    fetchExportPage(stream, fetchPage, {
      from,
      includeRecentChanges: options.includeRecentChanges ?? false,
      signal,
    });
  return {
    [Symbol.asyncIterator]: () =>
      prefetchOne<ExportPage<T>>(
        options.signal,
        (signal) => load(options.from, signal),
        (page, signal) => (page.hasMore ? load(page.continueFrom, signal) : undefined),
      ),
  };
}

export interface ListPaginationOptions {
  modifiedOnOrAfter?: string;
  modifiedBefore?: string;
  /** Default 5000 (the maximum); falls back to 1000 when big pages come back truncated. */
  pageSize?: number;
  startPage?: number;
  signal?: AbortSignal;
}

export const defaultListPageSize = 5000;
export const fallbackListPageSize = 1000;

/**
 * The page-numbered list endpoint over a modifiedOn window, inactive records included. Yields
 * one page at a time; `page`/`pageSize` of a yielded page are what a caller persists to resume.
 */
export function paginateList<T>(
  stream: StreamDefinition<z.ZodType<T>>,
  fetchPage: PageFetcher,
  options: ListPaginationOptions = {},
): AsyncIterable<ListPage<T>> {
  interface Position {
    page: number;
    pageSize: number;
    /** Records to drop from the front after a page-size change that did not divide evenly. */
    skip: number;
  }
  type Fetched = ListPage<T> & { next: Position };

  const isTruncation = (err: ServiceTitanError) =>
    err instanceof ServiceTitanUnavailable && err.reason === 'invalid_body';

  const load = async (position: Position, signal: AbortSignal): Promise<Fetched> => {
    let { page, pageSize, skip } = position;
    let body: unknown;
    const query = () => ({
      ...stream.listParams,
      page: String(page),
      pageSize: String(pageSize),
      modifiedOnOrAfter: options.modifiedOnOrAfter,
      modifiedBefore: options.modifiedBefore,
    });
    try {
      body = await fetchPage(query(), {
        signal,
        giveUpOn: (err) => pageSize > fallbackListPageSize && isTruncation(err),
      });
    } catch (err) {
      if (!(pageSize > fallbackListPageSize && err instanceof ServiceTitanUnavailable && isTruncation(err)))
        throw err;
      // Very large pages have been seen cut off: re-read the same records 1000 at a time.
      const firstIndex = (page - 1) * pageSize + skip;
      pageSize = fallbackListPageSize;
      page = Math.floor(firstIndex / pageSize) + 1;
      skip = firstIndex % pageSize;
      body = await fetchPage(query(), { signal });
    }
    const envelope = parseEnvelope(listEnvelope, body, stream.name, 'list');
    if (envelope.hasMore && envelope.data.length === 0) {
      throw new PaginationLoop(stream.name, { page, pageSize });
    }
    const texts = elementTexts(body, envelope.data);
    const { records, invalid } = splitRecords(
      stream.schema,
      skip > 0 ? envelope.data.slice(skip) : envelope.data,
      skip > 0 ? texts?.slice(skip) : texts,
    );
    return {
      records,
      invalid,
      page,
      pageSize,
      hasMore: envelope.hasMore,
      next: { page: page + 1, pageSize, skip: 0 },
    };
  };

  const pageSize = options.pageSize ?? defaultListPageSize;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > defaultListPageSize) {
    throw new RangeError(`pageSize must be an integer in 1..${defaultListPageSize}`);
  }
  const startPage = options.startPage ?? 1;
  return {
    [Symbol.asyncIterator]: () =>
      mapPages(
        prefetchOne<Fetched>(
          options.signal,
          (signal) => load({ page: startPage, pageSize, skip: 0 }, signal),
          (page, signal) => (page.hasMore ? load(page.next, signal) : undefined),
        ),
        ({ next: _next, ...page }) => page,
      ),
  };
}

async function* mapPages<A, B>(source: AsyncGenerator<A>, map: (a: A) => B): AsyncGenerator<B> {
  for await (const item of source) yield map(item);
}
