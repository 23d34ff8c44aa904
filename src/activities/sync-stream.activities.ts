import type { EntityManager } from '@mikro-orm/postgresql';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Pool } from 'pg';
import type { StreamCounts } from '../db/entities/index.js';
import { mapContact, mapCustomer, mapInvoice } from '../ingest/maps/index.js';
import type { MapResult } from '../ingest/maps/types.js';
import {
  insertSkipped,
  type SkippedInput,
  upsertContacts,
  upsertInvoices,
  upsertMembers,
} from '../ingest/upsert.js';
import {
  AppNotApproved,
  InvalidCredentials,
  type InvalidRecord,
  ModuleNotLicensed,
  retryAfterMs,
  ServiceTitanError,
  type TenantApi,
} from '../servicetitan/index.js';
import { loadCredential } from '../sync/credentials.js';
import type { SyncStreamName } from '../workflows/definitions.js';
import type { ActivityDeps } from './index.js';

/** Where a chunk starts when its run has not committed a position for it yet. */
export type ChunkStart =
  | { kind: 'export'; from: 'stored-cursor' | 'beginning' }
  | { kind: 'list'; modifiedOnOrAfter: string; modifiedBefore: string };

export interface SyncChunkInput {
  syncRunId: number;
  credentialId: number;
  stream: SyncStreamName;
  /** The run's position key: the stream, or the stream and window for a backfill. */
  positionKey: string;
  start: ChunkStart;
}

export interface SyncChunkResult {
  done: boolean;
  /** The stream's counts in the run so far (all chunks, all windows). */
  counts: StreamCounts;
  /** Position reached: a continueFrom token or a page number. Never record data. */
  position: string | null;
  warning?: string;
}

interface PageWork {
  upserted: number;
  skipped: number;
}

/**
 * List page sizes: invoices carry ~5 KB each with their items, so 1000 of them (not the API's
 * 5000) keep a backfill's parallel windows, each with a page of look-ahead, within memory.
 */
const listPageSizes: Record<SyncStreamName, number> = {
  customers: 5000,
  customerContacts: 5000,
  invoices: 1000,
};

class SupersededAttempt extends Error {
  constructor(positionKey: string) {
    super(`position of ${positionKey} moved on under another attempt; this attempt stops`);
  }
}

const emptyCounts: StreamCounts = { pages: 0, fetched: 0, upserted: 0, skipped: 0 };

/**
 * One chunk of one stream: pulls pages for up to `chunkMs`, maps them, and per page commits the
 * rows, the skipped records, the run's counts and position, and (for the export feed) the
 * stream's cursor in ONE transaction. A retried chunk resumes from the committed position, so a
 * crash re-reads at most one page, which the modifiedOn-guarded upsert makes harmless.
 */
export function createSyncStreamActivities(deps: ActivityDeps) {
  const { orm, logger, serviceTitan, secrets } = deps;
  const chunkMs = deps.chunkMs ?? 30_000;

  async function commitPage(
    input: SyncChunkInput,
    companyId: number,
    page: { records: unknown[]; invalid: InvalidRecord[] },
    previous: string | null,
    position: string,
    streamCursor: { cursor: string; highWaterMark: Date | null } | null,
  ): Promise<PageWork> {
    const skipped: SkippedInput[] = page.invalid.map((bad) => ({
      externalId: bad.id == null ? null : String(bad.id),
      reason: bad.reason,
      raw: bad.raw,
    }));
    const ctx = { companyId };
    const collect = <R extends { externalId: string }>(results: MapResult<R>[]): R[] => {
      const rows: R[] = [];
      results.forEach((r, i) => {
        if (r.ok) rows.push(r.row);
        else skipped.push({ externalId: r.externalId, reason: r.reason, raw: page.records[i] });
      });
      return rows;
    };
    const members =
      input.stream === 'customers' ? collect(page.records.map((r) => mapCustomer(r as never, ctx))) : [];
    const contacts =
      input.stream === 'customerContacts'
        ? collect(page.records.map((r) => mapContact(r as never, ctx)))
        : [];
    const invoices =
      input.stream === 'invoices' ? collect(page.records.map((r) => mapInvoice(r as never, ctx))) : [];

    // The hot path speaks to the ORM's own pg pool directly: COPY needs the raw connection.
    const pool = (await orm.em.getConnection().getNativeClient()) as unknown as Pool;
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('begin');
      // Data and cursor commit together, so an unflushed commit lost in a PostgreSQL crash loses
      // both: the pages are simply fetched again. That makes waiting for the WAL flush unneeded.
      await client.query('set local synchronous_commit = off');
      const upserted =
        (await upsertMembers(client, members, input.syncRunId)) +
        (await upsertContacts(client, contacts)) +
        (await upsertInvoices(client, invoices, input.syncRunId));
      await insertSkipped(client, input.syncRunId, input.stream, skipped);
      if (streamCursor) {
        await client.query(
          `insert into sync_stream_state (credential_id, stream, cursor, high_water_mark, updated_at)
           values ($1, $2, $3, $4, now())
           on conflict (credential_id, stream) do update set cursor = excluded.cursor,
             high_water_mark = greatest(sync_stream_state.high_water_mark, excluded.high_water_mark), updated_at = now()`,
          [input.credentialId, input.stream, streamCursor.cursor, streamCursor.highWaterMark],
        );
      }
      await client
        .query(
          `update servicetitan_sync_runs set
           counts = counts || jsonb_build_object($1::text, jsonb_build_object(
             'pages', coalesce((counts -> $1::text ->> 'pages')::bigint, 0) + 1,
             'fetched', coalesce((counts -> $1::text ->> 'fetched')::bigint, 0) + $2::bigint,
             'upserted', coalesce((counts -> $1::text ->> 'upserted')::bigint, 0) + $3::bigint,
             'skipped', coalesce((counts -> $1::text ->> 'skipped')::bigint, 0) + $4::bigint)),
           positions = positions || jsonb_build_object($5::text, $6::text)
         where id = $7 and (positions ->> $5::text) is not distinct from $8::text`,
          [
            input.stream,
            page.records.length + page.invalid.length,
            upserted,
            skipped.length,
            input.positionKey,
            position,
            input.syncRunId,
            previous,
          ],
        )
        .then((result) => {
          // Another attempt of this chunk (this one timed out but kept running) is further on:
          // committing would count its pages twice and move the cursor back.
          if (result.rowCount === 0) throw new SupersededAttempt(input.positionKey);
        });
      await client.query('commit');
      return { upserted, skipped: skipped.length };
    } catch (error) {
      broken = error as Error;
      await client.query('rollback').catch(() => {});
      throw error;
    } finally {
      // A connection that failed mid-transaction is discarded, not returned to the pool.
      client.release(broken);
    }
  }

  async function readRun(syncRunId: number, stream: string, positionKey: string) {
    const rows = await orm.em
      .fork()
      .getConnection()
      .execute<{ counts: StreamCounts | null; position: string | null }[]>(
        `select counts -> ?::text as counts, positions ->> ?::text as position from servicetitan_sync_runs where id = ?`,
        [stream, positionKey, syncRunId],
      );
    const row = rows[0];
    return { counts: { ...emptyCounts, ...(row?.counts ?? {}) }, position: row?.position ?? null };
  }

  async function setCredentialStatus(credentialId: number, status: string, message: string) {
    await orm.em
      .fork()
      .getConnection()
      .execute(
        `update servicetitan_credentials set status = ?, status_message = ?, updated_at = now() where id = ?`,
        [status, message, credentialId],
      );
  }

  /** Latest modifiedOn among the page's records, for the stream's high-water mark. */
  function newestModifiedOn(records: unknown[]): Date | null {
    let newest: number | null = null;
    for (const r of records) {
      const t = Date.parse((r as { modifiedOn?: string }).modifiedOn ?? '');
      if (!Number.isNaN(t) && (newest === null || t > newest)) newest = t;
    }
    return newest === null ? null : new Date(newest);
  }

  return {
    async syncStreamChunk(input: SyncChunkInput): Promise<SyncChunkResult> {
      const context = Context.current();
      const log = logger.child({
        syncRunId: input.syncRunId,
        stream: input.stream,
        position: input.positionKey,
      });
      const em = orm.em.fork() as EntityManager;
      const credential = await loadCredential(em, secrets, input.credentialId);
      const api: TenantApi = serviceTitan.tenant(credential.tenant);
      const signal = context.cancellationSignal;
      const deadline = Date.now() + chunkMs;

      const resume = await readRun(input.syncRunId, input.stream, input.positionKey);
      let position = resume.position;
      // Heartbeats go on while a page is slow or the client waits out a 429, so the heartbeat
      // timeout can stay short and a crashed worker's chunk is retried elsewhere quickly.
      const beat = setInterval(() => context.heartbeat({ position }), 5_000);
      /** What the workflow gets back: the run's committed counts for the stream, and where it stands. */
      const result = async (done: boolean): Promise<SyncChunkResult> => ({
        done,
        counts: (await readRun(input.syncRunId, input.stream, input.positionKey)).counts,
        position,
      });
      try {
        if (input.start.kind === 'export') {
          let from: string | undefined = position ?? undefined;
          if (from === undefined && input.start.from === 'stored-cursor') {
            const rows = await em
              .getConnection()
              .execute<{ cursor: string | null }[]>(
                `select cursor from sync_stream_state where credential_id = ? and stream = ?`,
                [input.credentialId, input.stream],
              );
            from = rows[0]?.cursor ?? undefined;
          }
          for await (const page of api.exportPages(input.stream, { from, signal })) {
            await commitPage(input, credential.companyId, page, position, page.continueFrom, {
              cursor: page.continueFrom,
              highWaterMark: newestModifiedOn(page.records),
            });
            position = page.continueFrom;
            context.heartbeat({ position });
            if (!page.hasMore) return result(true);
            if (Date.now() >= deadline) break;
          }
        } else {
          // A list position is "<page>@<pageSize>": page numbers only mean something at the size
          // they were read with, and the client may have dropped to a smaller size mid-way.
          const [lastPage, lastSize] = (position ?? '0@').split('@');
          const pageSize = Number(lastSize) || listPageSizes[input.stream];
          for await (const page of api.listPages(input.stream, {
            modifiedOnOrAfter: input.start.modifiedOnOrAfter,
            modifiedBefore: input.start.modifiedBefore,
            startPage: Number(lastPage) + 1,
            pageSize,
            signal,
          })) {
            const previous = position;
            position = `${page.page}@${page.pageSize}`;
            await commitPage(input, credential.companyId, page, previous, position, null);
            context.heartbeat({ position });
            if (!page.hasMore) return result(true);
            if (Date.now() >= deadline) break;
          }
        }
        return await result(false);
      } catch (error) {
        if (error instanceof ModuleNotLicensed) {
          log.warn({ code: error.code }, 'stream skipped: module not licensed');
          return { done: true, counts: resume.counts, position, warning: error.message };
        }
        if (error instanceof InvalidCredentials || error instanceof AppNotApproved) {
          const status = error instanceof InvalidCredentials ? 'invalid_credentials' : 'awaiting_approval';
          await setCredentialStatus(input.credentialId, status, error.message);
          throw ApplicationFailure.nonRetryable(error.message, error.code);
        }
        if (error instanceof ServiceTitanError) {
          if (!error.retryable) throw ApplicationFailure.nonRetryable(error.message, error.code);
          const delay = retryAfterMs(error);
          throw ApplicationFailure.create({
            message: error.message,
            type: error.code,
            ...(delay ? { nextRetryDelay: delay } : {}),
          });
        }
        throw error;
      } finally {
        clearInterval(beat);
      }
    },
  };
}
