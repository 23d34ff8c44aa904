/**
 * What the workflow shares with its callers (API, CLI, schedules, tests): input types, signals,
 * queries and ids. Imported by workflow code, so nothing here may do I/O.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';

export type SyncStreamName = 'customers' | 'customerContacts' | 'invoices';
export const syncStreamNames: readonly SyncStreamName[] = ['customers', 'customerContacts', 'invoices'];
export type SyncMode = 'incremental' | 'full' | { from: string; to: string };
export type SyncTrigger = 'manual' | 'schedule' | 'cli' | 'demo' | 'import';

/** Ids and choices only: no record data and no secrets ever travel through workflow history. */
export interface SyncTenantInput {
  syncRunId: number;
  credentialId: number;
  streams: SyncStreamName[];
  mode: SyncMode;
  trigger: SyncTrigger;
  /** Backfill windows read in parallel, each from the export feed started at its first instant (default 4). */
  windowConcurrency?: number;
  /** Set by continueAsNew: where each stream stood, and the signals received so far. */
  carried?: Record<string, StreamProgress>;
  carriedControl?: {
    paused: boolean;
    cancelRequested: boolean;
    warnings: string[];
    /** The members' email and phone were derived from the run's contacts already. */
    membersDerived?: boolean;
  };
  /** Set by continueAsNew: a full load's windows, as planned by the first execution. */
  carriedPlan?: FullLoadPlan;
  /** Set by continueAsNew: the windows (position keys) already read to their end. */
  carriedWindowsDone?: string[];
}

/**
 * How a full load reads each stream: the modifiedOn instants between its windows (none: one
 * export read from the beginning, as for a small stream). Dates and counts only.
 */
export interface FullLoadPlan {
  streams: Partial<Record<SyncStreamName, { records: number | null; boundaries: string[] }>>;
  /** The readers the windows were counted for, and the server's distance (ms) that chose them. */
  readers?: number;
  serverMs?: number;
}

export interface SyncTenantResult {
  syncRunId: number;
  status: 'completed' | 'completed_with_warnings' | 'failed' | 'cancelled';
  warnings: string[];
  error?: string;
}

export type StreamState = 'pending' | 'running' | 'paused' | 'done' | 'skipped' | 'cancelled' | 'failed';

export interface StreamProgress {
  state: StreamState;
  pages: number;
  fetched: number;
  upserted: number;
  skipped: number;
  /** Position reached (export cursor or last page); never record data. */
  position: string | null;
  chunks: number;
  /** The newest modifiedOn the run stored for the stream (ISO), when known. */
  newestModifiedOn?: string;
}

export interface SyncProgress {
  syncRunId: number;
  paused: boolean;
  cancelRequested: boolean;
  streams: Record<string, StreamProgress>;
}

/**
 * Which run a signal is meant for. The workflow id is the credential's, shared by all its runs, so
 * a signal names its run: the workflow ignores one that names another run. Optional for callers
 * that hold the execution itself (tests, the CLI).
 */
export interface SyncSignalTarget {
  syncRunId?: number;
}

export const pauseSyncSignal = defineSignal<[SyncSignalTarget?]>('pause');
export const resumeSyncSignal = defineSignal<[SyncSignalTarget?]>('resume');
export const cancelSyncSignal = defineSignal<[SyncSignalTarget?]>('cancel');
export const syncProgressQuery = defineQuery<SyncProgress>('progress');

/**
 * One workflow id per credential of an installation: Temporal itself then refuses a second
 * concurrent run of the same tenant, whoever starts it (a schedule starts it as a child under
 * this same id). The installation id (src/db/installation.ts) keeps two databases served by one
 * Temporal from claiming each other's ids; workflow code gets it from its input.
 */
export function syncWorkflowId(installationId: string, credentialId: number): string {
  return `sync-${installationId}-credential-${credentialId}`;
}

export function scheduleId(installationId: string, credentialId: number): string {
  return `sync-schedule-${installationId}-credential-${credentialId}`;
}

/** What a schedule's action starts (Temporal suffixes it with the fire time). */
export function scheduledSyncWorkflowId(installationId: string, credentialId: number): string {
  return `scheduled-sync-${installationId}-credential-${credentialId}`;
}

/**
 * The task queue an installation's workers poll and its workflows run on: TASK_QUEUE scoped by
 * the installation, so a workflow left by another database (one that was reset, or another
 * DATABASE_URL on the same Temporal) is never picked up by this database's workers, whose
 * activities would run it against rows that are not its own.
 */
export function installationTaskQueue(taskQueue: string, installationId: string): string {
  return `${taskQueue}-${installationId}`;
}

/** The end of a window that runs to the export feed's end: no record is dated past it. */
export const openWindowEnd = '9999-12-31T23:59:59.999Z';

/** Splits [from, to) into at most `parts` contiguous windows of whole seconds. */
export function splitWindow(from: string, to: string, parts: number): { from: string; to: string }[] {
  const start = Date.parse(from);
  const end = Date.parse(to);
  if (!(end > start)) return [{ from, to }];
  const n = Math.max(1, Math.min(parts, Math.floor((end - start) / 1000)));
  const step = Math.ceil((end - start) / n / 1000) * 1000;
  const windows: { from: string; to: string }[] = [];
  for (let t = start; t < end; t += step) {
    windows.push({ from: new Date(t).toISOString(), to: new Date(Math.min(t + step, end)).toISOString() });
  }
  return windows;
}

/** A notification delivery's channel: each has its own table of deliveries. */
export type DeliveryChannel = 'webhook' | 'email';

/** How a delivery is retried; also how its row's next attempt time is worked out. */
export interface DeliveryRetry {
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  maximumAttempts: number;
}

/** 30 s doubling to an hour, 12 attempts: retried for about 5½ hours. */
export const defaultDeliveryRetry: DeliveryRetry = {
  initialIntervalMs: 30_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 3_600_000,
  maximumAttempts: 12,
};

/**
 * Ids only: the body, the address and the signing secret are loaded by the activity from the
 * delivery row, so none of them enters Temporal history.
 */
export interface DeliveryInput {
  channel: DeliveryChannel;
  deliveryId: string;
  retry: DeliveryRetry;
}

/** One workflow per delivery; its id makes a repeated start (after a dispatcher crash) a no-op. */
export function deliveryWorkflowId(
  installationId: string,
  channel: DeliveryChannel,
  deliveryId: string,
): string {
  return `${channel}-delivery-${installationId}-${deliveryId}`;
}
