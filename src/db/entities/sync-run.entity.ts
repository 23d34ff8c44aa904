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

/** One sync of one credential: the seeds' ServiceTitanSyncLog. Updated after every chunk. */
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
    /** Per stream (or window) position reached, written with the data it covers. */
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
