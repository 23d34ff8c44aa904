import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { ServiceTitanCredential } from './servicetitan-credential.entity.js';

export const syncTriggers = ['manual', 'schedule', 'cli', 'demo', 'import'] as const;
export type SyncTrigger = (typeof syncTriggers)[number];

export const syncRunStatuses = [
  'pending',
  'running',
  'paused',
  'completed',
  'completed_with_warnings',
  'failed',
  'cancelled',
  'skipped',
] as const;
export type SyncRunStatus = (typeof syncRunStatuses)[number];

/** `incremental`, `full`, or a date window (a backfill: the export feed read from its start). */
export type SyncMode = 'incremental' | 'full' | { from: string; to: string };

export interface StreamCounts {
  pages: number;
  fetched: number;
  upserted: number;
  skipped: number;
}

/** One sync of one credential: the seeds' ServiceTitanSyncLog. */
export const SyncRun = defineEntity({
  name: 'SyncRun',
  tableName: 'servicetitan_sync_runs',
  properties: {
    id: p.integer().primary(),
    credential: () => p.manyToOne(ServiceTitanCredential).deleteRule('cascade'),
    trigger: p.enum(syncTriggers),
    streams: p.array(),
    mode: p.json<SyncMode>(),
    status: p.enum(syncRunStatuses).default('pending'),
    // onCreate: the ORM would otherwise insert the default as the JSON *string* "{}".
    counts: p
      .json<Record<string, StreamCounts>>()
      .default('{}')
      .onCreate(() => ({})),
    /**
     * Per stream (or window) position reached: a summary of `sync_run_positions`, which holds
     * the committed truth (refreshed during the run, and exactly when it finishes). So are the
     * `counts` of synced streams.
     */
    positions: p
      .json<Record<string, string>>()
      .default('{}')
      .onCreate(() => ({})),
    warnings: p
      .json<string[]>()
      .default('[]')
      .onCreate(() => []),
    error: p.text().nullable(),
    /** The feature flags this run was started with (src/flags), so it can be understood later. */
    flags: p.json<Record<string, boolean | string>>().nullable(),
    /** Where an import's records came from (`import:customers customers.csv`); null for API syncs. */
    source: p.text().nullable(),
    workflowId: p.string().length(200).nullable(),
    runId: p.string().length(64).nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    startedAt: p.datetime().nullable(),
    finishedAt: p.datetime().nullable(),
  },
  indexes: [{ properties: ['credential', 'createdAt'] }, { properties: ['status'] }],
});

export type ISyncRun = InferEntity<typeof SyncRun>;

/**
 * One position key of a run (a stream, or one window of a stream's full load or backfill): the
 * position it reached and its counts, written in the transaction of each page it commits. One row
 * per key, so parallel windows commit without waiting on each other's lock of the run's row.
 */
export const SyncRunPosition = defineEntity({
  name: 'SyncRunPosition',
  tableName: 'sync_run_positions',
  properties: {
    syncRun: () => p.manyToOne(SyncRun).primary().deleteRule('cascade'),
    positionKey: p.string().length(128).primary(),
    stream: p.string().length(64),
    position: p.text().nullable(),
    pages: p.bigint('number').defaultRaw('0'),
    fetched: p.bigint('number').defaultRaw('0'),
    upserted: p.bigint('number').defaultRaw('0'),
    skipped: p.bigint('number').defaultRaw('0'),
  },
});

export type ISyncRunPosition = InferEntity<typeof SyncRunPosition>;
