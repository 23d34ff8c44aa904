import type { components } from '../api/schema';

/** Shared words and formats for statuses, times and counts: every page says them the same way. */

type Row = components['schemas']['Dashboard']['credentials'][number];
export type CredentialStatus = Row['status'];
export type RunStatus = NonNullable<Row['lastRun']>['status'];
export type Environment = Row['environment'];
export type Tone = 'good' | 'warn' | 'bad' | 'info' | 'neutral';

/** Every credential status in words, with the tone that colours it (the words carry the meaning). */
export const credentialStatus: Record<CredentialStatus, { label: string; tone: Tone }> = {
  untested: { label: 'Not tested yet', tone: 'neutral' },
  connected: { label: 'Connected', tone: 'good' },
  awaiting_approval: { label: 'Awaiting approval', tone: 'warn' },
  invalid_credentials: { label: 'Invalid credentials', tone: 'bad' },
  unreachable: { label: 'Unreachable', tone: 'bad' },
  disabled: { label: 'Disabled', tone: 'neutral' },
};

export const runStatus: Record<RunStatus, { label: string; tone: Tone }> = {
  pending: { label: 'Pending', tone: 'neutral' },
  running: { label: 'Running', tone: 'info' },
  paused: { label: 'Paused', tone: 'warn' },
  completed: { label: 'Completed', tone: 'good' },
  completed_with_warnings: { label: 'Completed with warnings', tone: 'warn' },
  failed: { label: 'Failed', tone: 'bad' },
  cancelled: { label: 'Cancelled', tone: 'neutral' },
  skipped: { label: 'Skipped', tone: 'neutral' },
};

export const environments: Record<Environment, string> = {
  integration: 'Integration',
  production: 'Production',
};

export function Badge({ label, tone }: { label: string; tone: Tone }) {
  return <span className={`badge badge-${tone}`}>{label}</span>;
}

export const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

export function ago(iso: string, now: number): string {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const units: [Intl.RelativeTimeFormatUnit, number][] = [
    ['day', 86_400],
    ['hour', 3_600],
    ['minute', 60],
  ];
  for (const [unit, size] of units)
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
  return relative.format(seconds, 'second');
}

/** A time relative to now, with the absolute time on hover. */
export function When({ iso, now, empty }: { iso: string | null | undefined; now: number; empty: string }) {
  if (!iso) return <span className="muted">{empty}</span>;
  return (
    <time dateTime={iso} title={absolute.format(new Date(iso))}>
      {ago(iso, now)}
    </time>
  );
}

export const count = new Intl.NumberFormat();

/** A stream's state inside a run (the workflow's progress), in words. */
export const streamState: Record<string, { label: string; tone: Tone }> = {
  pending: { label: 'Waiting', tone: 'neutral' },
  running: { label: 'Running', tone: 'info' },
  paused: { label: 'Paused', tone: 'warn' },
  done: { label: 'Completed', tone: 'good' },
  skipped: { label: 'Skipped', tone: 'neutral' },
  cancelled: { label: 'Cancelled', tone: 'neutral' },
  failed: { label: 'Failed', tone: 'bad' },
};

/** What a sync can fetch, in words (the order a run lists them in). */
export const syncStreams = {
  customers: 'Customers',
  customerContacts: 'Customer contacts',
  invoices: 'Invoices',
} as const;
export type SyncStream = keyof typeof syncStreams;

/** Every stream name in words, the connection test's `locations` included. */
export const streamNames: Record<string, string> = { ...syncStreams, locations: 'Locations' };

/** Whether a run may still move (pause, resume and cancel apply; progress is live). */
export const isActive = (status: RunStatus) =>
  status === 'pending' || status === 'running' || status === 'paused';

/** "1 h 2 min", "3 min 4 s", "5 s". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** What a run's mode means, in words. */
export function modeLabel(mode: 'incremental' | 'full' | { from: string; to: string }): string {
  if (mode === 'incremental') return 'Incremental';
  if (mode === 'full') return 'Full';
  return `Date range ${mode.from.slice(0, 10)} to ${mode.to.slice(0, 10)}`;
}

export const triggers: Record<string, string> = {
  manual: 'Manual',
  schedule: 'Schedule',
  cli: 'Command line',
  demo: 'Demo',
  import: 'Report import',
};
