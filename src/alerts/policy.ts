/**
 * When the product raises an alert (settings: src/config.ts, README "Alerts"). Plain data, no
 * imports: the freshness workflow receives part of it as its input.
 */
export interface AlertPolicy {
  /** Failed runs in a row (since the last success or resume) that pause a schedule; 0 = never. */
  readonly autoPauseAfterFailures: number;
  /** A full run fetching less than this percentage of the last successful full run's records is an anomaly. */
  readonly fullRunMinPercent: number;
  /** Skipped records above this percentage of those fetched in a run is an anomaly. */
  readonly skippedPercent: number;
  /**
   * An incremental run that finds nothing is an anomaly when each of this many previous successful
   * incremental runs found something (the tenant "usually changes"); 0 = never.
   */
  readonly quietIncrementalRuns: number;
  /** Minutes beyond a schedule's period before a credential's data counts as stale. */
  readonly freshnessGraceMinutes: number;
  /** How often the freshness schedule looks. */
  readonly freshnessCheckMinutes: number;
  /** The console's external URL, for links in events; unset: events carry no link. */
  readonly publicUrl?: string | undefined;
}

export const defaultAlertPolicy: AlertPolicy = {
  autoPauseAfterFailures: 3,
  fullRunMinPercent: 50,
  skippedPercent: 1,
  quietIncrementalRuns: 5,
  freshnessGraceMinutes: 60,
  freshnessCheckMinutes: 15,
};

/** What the freshness check needs (the workflow's input). */
export interface FreshnessPolicy {
  graceMinutes: number;
  publicUrl?: string | undefined;
}
