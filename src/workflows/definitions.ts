/**
 * What the workflow shares with its callers (API, CLI, schedules, tests): input types and ids.
 * Imported by workflow code, so nothing here may do I/O.
 */

export type SyncStreamName = 'customers' | 'customerContacts' | 'invoices';
export type SyncMode = 'incremental' | 'full' | { from: string; to: string };
export type SyncTrigger = 'manual' | 'schedule' | 'cli' | 'demo';

/** Ids and choices only: no record data and no secrets ever travel through workflow history. */
export interface SyncTenantInput {
  syncRunId: number;
  credentialId: number;
  streams: SyncStreamName[];
  mode: SyncMode;
  trigger: SyncTrigger;
}

export interface SyncTenantResult {
  syncRunId: number;
  status: 'completed' | 'completed_with_warnings' | 'failed' | 'cancelled';
}

/**
 * One workflow id per credential: Temporal itself then refuses a second concurrent run of the
 * same tenant, whoever starts it.
 */
export function syncWorkflowId(credentialId: number): string {
  return `sync-credential-${credentialId}`;
}
