import type { EntityManager } from '@mikro-orm/postgresql';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Pool, PoolClient } from 'pg';
import { setCredentialStatus } from '../alerts/credential-status.js';
import { txSql } from '../alerts/sql.js';
import type { CredentialStatus, StreamCounts } from '../db/entities/index.js';
import { loadCredential } from '../db/repositories/credential.repository.js';
import type { MapContext } from '../ingest/maps/types.js';
import { type SyncStream, syncStreams } from '../ingest/streams/index.js';
import { insertSkipped, type KeyLookup, type SkippedInput, upsertRows } from '../ingest/upsert.js';
import {
  AppNotApproved,
  InvalidCredentials,
  type InvalidRecord,
  ModuleNotLicensed,
  retryAfterMs,
  ServiceTitanError,
  type TenantApi,
} from '../servicetitan/index.js';
import {
  commitPositionSql,
  commitPositionWithCursorSql,
  readPositionSql,
  summariseRunSql,
} from '../sync/run-positions.js';
import { createRunSummaries } from '../sync/run-summaries.js';
import type { SyncStreamName } from '../workflows/definitions.js';
import type { ActivityDeps } from './deps.js';
import { toActivityFailure } from './failures.js';

/** A record's modifiedOn in ms, NaN when it has none. */
const modifiedOn = (record: unknown) => Date.parse((record as { modifiedOn?: string }).modifiedOn ?? '');

/** The newest or oldest modifiedOn among a page's records (null when none has one). */
function extremeModifiedOn(records: unknown[], pick: (a: number, b: number) => number): Date | null {
  let found: number | null = null;
  for (const r of records) {
    const t = modifiedOn(r);
    if (!Number.isNaN(t)) found = found === null ? t : pick(found, t);
  }
  return found === null ? null : new Date(found);
}
/** For the stream's high-water mark. */
const newestModifiedOn = (records: unknown[]) => extremeModifiedOn(records, Math.max);
const oldestModifiedOn = (records: unknown[]) => extremeModifiedOn(records, Math.min);
const later = (a: Date | null, b: Date | null) => (a === null || (b !== null && b > a) ? b : a);

/**
 * Where a chunk starts when its run has not committed a position for it yet: the export feed at
 * the stored cursor or the beginning, or — for a date-range backfill — the export feed started at
 * the window's first instant and read until it is past the window's end.
 */
export type ChunkStart =
  | { kind: 'export'; from: 'stored-cursor' | 'beginning' }
  | { kind: 'window'; from: string; to: string };

export interface SyncChunkInput {
  syncRunId: number;
  credentialId: number;
  stream: SyncStreamName;
  /** The run's position key: the stream, or the stream and window for a backfill. */
  positionKey: string;
  start: ChunkStart;
  /**
   * The newest modifiedOn a full load's windows stored (ISO): the export chunk that takes over
   * from them keeps it as the stream's high-water mark, which its own pages may not reach.
   */
  highWaterMark?: string;
}

export interface SyncChunkResult {
  done: boolean;
  /** The stream's counts in the run so far (all chunks, all windows). */
  counts: StreamCounts;
  /** Position reached: a continueFrom token or a page number. Never record data. */
  position: string | null;
  /** The newest modifiedOn among the records this chunk stored (ISO), when any had one. */
  newestModifiedOn?: string;
  warning?: string;
}

interface PageWork {
  upserted: number;
  skipped: number;
}

class SupersededAttempt extends Error {
  constructor(positionKey: string) {
    super(`position of ${positionKey} moved on under another attempt; this attempt stops`);
  }
}

const emptyCounts: StreamCounts = { pages: 0, fetched: 0, upserted: 0, skipped: 0 };

/**
 * One chunk of one stream: pulls pages for up to `chunkMs`, maps them, and per page commits the
 * rows, the skipped records, its position key's counts and position (sync_run_positions), and
 * (for the export feed) the stream's cursor in ONE transaction. A retried chunk resumes from the
 * committed position, so a crash re-reads at most one page, which the modifiedOn-guarded upsert
 * makes harmless.
 */
export function createSyncStreamActivities(deps: ActivityDeps) {
  const { orm, logger, serviceTitan, secrets, metrics } = deps;
  const chunkMs = deps.chunkMs ?? 30_000;

  /**
   * Adds the time since the last mark to a phase of `stream` (stsync_sync_phase_seconds_total).
   * The first mark counts from the timer's creation.
   */
  function phaseTimer(stream: string) {
    let last = performance.now();
    return (phase: 'fetch' | 'map' | 'write' | 'commit') => {
      const now = performance.now();
      metrics?.syncPhaseSeconds.inc({ stream, phase }, (now - last) / 1000);
      last = now;
    };
  }

  async function commitPage(
    input: SyncChunkInput,
    ctx: MapContext,
    page: { records: unknown[]; invalid: InvalidRecord[] },
    previous: string | null,
    position: string,
    streamCursor: { cursor: string; highWaterMark: Date | null } | null,
    lookup: KeyLookup,
  ): Promise<PageWork> {
    const skipped: SkippedInput[] = page.invalid.map((bad) => ({
      externalId: bad.id == null ? null : String(bad.id),
      reason: bad.reason,
      raw: bad.raw,
    }));
    const stream = syncStreams[input.stream] as SyncStream;
    const phase = phaseTimer(input.stream);
    const rows: object[] = [];
    page.records.forEach((record, i) => {
      const mapped = stream.map(record as never, ctx);
      if (mapped.ok) rows.push(mapped.row as object);
      else skipped.push({ externalId: mapped.externalId, reason: mapped.reason, raw: page.records[i] });
    });

    phase('map');
    // The stream's export cursor commits with the data, so a commit lost in a PostgreSQL crash
    // (not yet flushed) loses both and the next sync fetches those pages again: the WAL flush is
    // not worth waiting for. A backfill has no such cursor: nothing would ever re-read a lost page
    // after its run ends, so its commits wait for the flush.
    const upserted = await inTransaction(streamCursor !== null, async (client) => {
      const upserted = await upsertRows(client, stream.target, rows, input.syncRunId, lookup);
      await insertSkipped(client, input.syncRunId, input.stream, skipped);
      phase('write');
      const positionParams = [
        input.syncRunId,
        input.positionKey,
        input.stream,
        position,
        page.records.length + page.invalid.length,
        upserted,
        skipped.length,
        previous,
      ];
      // The position and the stream's cursor in one statement: one round trip a page fewer.
      // Named, so each connection parses and plans it once rather than every page.
      const committed = streamCursor
        ? await client.query({
            name: 'stsync_commit_position_with_cursor',
            text: commitPositionWithCursorSql,
            values: [...positionParams, input.credentialId, streamCursor.cursor, streamCursor.highWaterMark],
          })
        : await client.query({
            name: 'stsync_commit_position',
            text: commitPositionSql,
            values: positionParams,
          });
      // Another attempt of this chunk (this one timed out but kept running) is further on:
      // committing would count its pages twice and move the cursor back.
      if (committed.rowCount === 0) throw new SupersededAttempt(input.positionKey);
      return upserted;
    });
    phase('commit');
    const labels = { stream: input.stream, environment: ctx.environment };
    metrics?.recordsWritten.inc(labels, upserted);
    metrics?.recordsSkipped.inc(labels, skipped.length);
    return { upserted, skipped: skipped.length };
  }

  /**
   * `work` in one transaction on a connection of the ORM's own pg pool (the hot path speaks to it
   * directly: COPY needs the raw connection). With `asyncCommit` the commit does not wait for the
   * WAL flush.
   */
  async function inTransaction<T>(
    asyncCommit: boolean,
    work: (client: PoolClient) => Promise<T>,
  ): Promise<T> {
    const pool = (await orm.em.getConnection().getNativeClient()) as unknown as Pool;
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query(asyncCommit ? 'begin; set local synchronous_commit = off' : 'begin');
      const result = await work(client);
      await client.query('commit');
      return result;
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
      .execute<{ counts: StreamCounts; position: string | null }[]>(readPositionSql, [
        syncRunId,
        positionKey,
        syncRunId,
        stream,
      ]);
    const row = rows[0];
    return { counts: { ...emptyCounts, ...(row?.counts ?? {}) }, position: row?.position ?? null };
  }

  const runSummaries = createRunSummaries();

  /**
   * The run's row takes up its positions' counts, so whoever reads the row sees the run progress.
   * A summary the finish recomputes, so its commit need not wait for the WAL flush.
   */
  async function summariseRun(syncRunId: number) {
    await inTransaction(true, (client) => client.query(summariseRunSql('$1'), [syncRunId]));
  }

  /** The credential's status after an auth failure, with its `credential.status_changed` event. */
  async function markCredential(credentialId: number, status: CredentialStatus, message: string) {
    await (orm.em.fork() as EntityManager).transactional((tem) =>
      setCredentialStatus(txSql(tem), { credentialId, status, message, publicUrl: deps.alerts?.publicUrl }),
    );
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
      const mapContext: MapContext = {
        companyId: credential.companyId,
        environment: credential.tenant.environment,
      };
      const signal = context.cancellationSignal;
      const deadline = Date.now() + chunkMs;

      const resume = await readRun(input.syncRunId, input.stream, input.positionKey);
      let position = resume.position;
      let newest: Date | null = null;
      // Heartbeats go on while a page is slow or the client waits out a 429, so the heartbeat
      // timeout can stay short and a crashed worker's chunk is retried elsewhere quickly.
      const beat = setInterval(() => context.heartbeat({ position }), 5_000);
      // The run's row shows the committed progress at most a second late (src/sync/run-summaries.ts).
      // Only a summary: a failed one is logged, never fails the chunk (the finish recomputes it).
      const summaries = runSummaries.forChunk(input.syncRunId, () =>
        summariseRun(input.syncRunId).catch((error: unknown) =>
          // Only a code: a PostgreSQL message may quote values.
          log.warn({ code: (error as { code?: string }).code }, 'run summary not refreshed'),
        ),
      );
      const progressed = async () => {
        context.heartbeat({ position });
        await summaries.committed();
      };
      /** What the workflow gets back: the run's committed counts for the stream, and where it stands. */
      const result = async (done: boolean): Promise<SyncChunkResult> => {
        await summaries.flush();
        return {
          done,
          counts: (await readRun(input.syncRunId, input.stream, input.positionKey)).counts,
          position,
          ...(newest ? { newestModifiedOn: newest.toISOString() } : {}),
        };
      };
      const handedOver = input.highWaterMark ? new Date(input.highWaterMark) : null;
      // The chunk's pages follow each other: a first load's new rows skip the stored-key lookup.
      const lookup: KeyLookup = { skip: false };
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
          let fetched = phaseTimer(input.stream);
          for await (const page of api.exportPages(input.stream, { from, signal })) {
            fetched('fetch');
            const pageNewest = newestModifiedOn(page.records);
            await commitPage(
              input,
              mapContext,
              page,
              position,
              page.continueFrom,
              { cursor: page.continueFrom, highWaterMark: later(pageNewest, handedOver) },
              lookup,
            );
            // Stored: the buffer the page was read into serves a later page.
            page.release?.();
            newest = later(newest, pageNewest);
            position = page.continueFrom;
            await progressed();
            if (!page.hasMore) return result(true);
            if (Date.now() >= deadline || deps.draining?.aborted) break;
            fetched = phaseTimer(input.stream);
          }
        } else {
          // A backfill reads the export feed from the window's start, never page-numbered lists:
          // a record edited mid-backfill moves to the feed's end instead of shifting every later
          // record up one slot, so no untouched record can fall between two pages.
          const windowEnd = Date.parse(input.start.to);
          const from = position ?? input.start.from;
          let fetched = phaseTimer(input.stream);
          for await (const page of api.exportPages(input.stream, { from, signal })) {
            fetched('fetch');
            // Records past the window's end (changed since, or simply later) are not the
            // backfill's to store: the incremental sync brings them.
            const inWindow = page.records.filter((r) => !(modifiedOn(r) >= windowEnd));
            const windowPage = { records: inWindow, invalid: page.invalid };
            await commitPage(input, mapContext, windowPage, position, page.continueFrom, null, lookup);
            page.release?.();
            newest = later(newest, newestModifiedOn(inWindow));
            position = page.continueFrom;
            await progressed();
            // The feed is ordered by modifiedOn, records sharing a timestamp straddling pages, so
            // the window is over once a whole page lies past its end, or the feed is caught up.
            const oldest = oldestModifiedOn(page.records);
            if (!page.hasMore || (oldest !== null && oldest.getTime() >= windowEnd)) return result(true);
            if (Date.now() >= deadline || deps.draining?.aborted) break;
            fetched = phaseTimer(input.stream);
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
          await markCredential(input.credentialId, status, error.message);
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
        // A PostgreSQL error can quote a record's value: only a coded, value-free failure leaves.
        throw toActivityFailure(error, log);
      } finally {
        clearInterval(beat);
        summaries.stop();
      }
    },
  };
}
