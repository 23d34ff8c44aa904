import { useQuery } from '@tanstack/react-query';
import { useId, useMemo, useState } from 'react';
import { ApiError, api, toApiError } from '../api/client';
import type { components } from '../api/schema';

type DashboardView = components['schemas']['Dashboard'];
type Row = DashboardView['credentials'][number];
type RunStatus = NonNullable<Row['lastRun']>['status'];

/** Every credential status in words, with the tone that colours it (the words carry the meaning). */
const credentialStatus: Record<Row['status'], { label: string; tone: Tone }> = {
  untested: { label: 'Not tested yet', tone: 'neutral' },
  connected: { label: 'Connected', tone: 'good' },
  awaiting_approval: { label: 'Awaiting approval', tone: 'warn' },
  invalid_credentials: { label: 'Invalid credentials', tone: 'bad' },
  unreachable: { label: 'Unreachable', tone: 'bad' },
  disabled: { label: 'Disabled', tone: 'neutral' },
};
const runStatus: Record<RunStatus, { label: string; tone: Tone }> = {
  pending: { label: 'Pending', tone: 'neutral' },
  running: { label: 'Running', tone: 'info' },
  paused: { label: 'Paused', tone: 'warn' },
  completed: { label: 'Completed', tone: 'good' },
  completed_with_warnings: { label: 'Completed with warnings', tone: 'warn' },
  failed: { label: 'Failed', tone: 'bad' },
  cancelled: { label: 'Cancelled', tone: 'neutral' },
  skipped: { label: 'Skipped', tone: 'neutral' },
};
type Tone = 'good' | 'warn' | 'bad' | 'info' | 'neutral';
const environments: Record<Row['environment'], string> = {
  integration: 'Integration',
  production: 'Production',
};

/** How often the dashboard asks again: runs move in seconds, a schedule's next run in minutes. */
const REFRESH_MS = 5_000;

function Badge({ label, tone }: { label: string; tone: Tone }) {
  return <span className={`badge badge-${tone}`}>{label}</span>;
}

const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

function ago(iso: string, now: number): string {
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

function When({ iso, now, empty }: { iso: string | null | undefined; now: number; empty: string }) {
  if (!iso) return <span className="muted">{empty}</span>;
  return (
    <time dateTime={iso} title={absolute.format(new Date(iso))}>
      {ago(iso, now)}
    </time>
  );
}

const count = new Intl.NumberFormat();

export function Dashboard({ onUnauthorized }: { onUnauthorized: () => void }) {
  const id = useId();
  const query = useQuery({
    queryKey: ['dashboard'],
    queryFn: async () => {
      const { data, error, response } = await api.GET('/api/dashboard');
      if (response.status === 401) onUnauthorized();
      if (error || !data) throw toApiError(response.status, error);
      return data;
    },
    // TanStack Query refreshes it in the background (not while the tab is hidden) and keeps the
    // last answer on screen meanwhile.
    refetchInterval: REFRESH_MS,
  });
  const [company, setCompany] = useState('');
  const [environment, setEnvironment] = useState('');
  const [status, setStatus] = useState('');

  const rows = query.data?.credentials ?? [];
  const companies = useMemo(
    () =>
      [...new Map(rows.map((r) => [r.companyId, r.companyName])).entries()].sort((a, b) =>
        a[1].localeCompare(b[1]),
      ),
    [rows],
  );
  const shown = rows.filter(
    (r) =>
      (!company || String(r.companyId) === company) &&
      (!environment || r.environment === environment) &&
      (!status || r.status === status),
  );
  const now = query.dataUpdatedAt || Date.now();

  return (
    <section aria-labelledby={`${id}-title`}>
      <div className="section-head">
        <h1 id={`${id}-title`}>Dashboard</h1>
        <p className="muted" aria-live="polite">
          {query.isFetching
            ? 'Refreshing…'
            : query.dataUpdatedAt
              ? `Updated ${ago(new Date(query.dataUpdatedAt).toISOString(), Date.now())}`
              : ''}
        </p>
      </div>

      {query.isError && (
        <p className="banner banner-bad" role="alert">
          {query.error instanceof ApiError && query.error.status === 403
            ? 'This token may not read the dashboard.'
            : `The dashboard could not be loaded: ${query.error.message}`}
          {query.data ? ' Showing the last answer.' : ''}
        </p>
      )}

      {query.data && (
        <dl className="totals" aria-label="Totals">
          <div>
            <dt>Credentials</dt>
            <dd>{query.data.totals.credentials}</dd>
          </div>
          <div>
            <dt>Running</dt>
            <dd>{query.data.totals.running}</dd>
          </div>
          <div>
            <dt>Failing</dt>
            <dd>{query.data.totals.failing}</dd>
          </div>
          <div>
            <dt>Never synced</dt>
            <dd>{query.data.totals.neverSynced}</dd>
          </div>
          {Object.entries(query.data.totals.byStatus).map(([s, n]) => (
            <div key={s}>
              <dt>{credentialStatus[s as Row['status']]?.label ?? s}</dt>
              <dd>{n}</dd>
            </div>
          ))}
        </dl>
      )}

      <fieldset className="filters">
        <legend>Filters</legend>
        <label>
          Company
          <select value={company} onChange={(e) => setCompany(e.target.value)}>
            <option value="">All companies</option>
            {companies.map(([cid, name]) => (
              <option key={cid} value={String(cid)}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Environment
          <select value={environment} onChange={(e) => setEnvironment(e.target.value)}>
            <option value="">All environments</option>
            {Object.entries(environments).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">All statuses</option>
            {Object.entries(credentialStatus).map(([value, { label }]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
      </fieldset>

      {query.isPending ? (
        <p>Loading the dashboard…</p>
      ) : (
        <div className="table-wrap">
          <table>
            <caption>
              {shown.length === rows.length
                ? `${rows.length} credential${rows.length === 1 ? '' : 's'}`
                : `${shown.length} of ${rows.length} credentials match the filters`}
            </caption>
            <thead>
              <tr>
                <th scope="col">Company</th>
                <th scope="col">Environment</th>
                <th scope="col">Tenant ID</th>
                <th scope="col">Status</th>
                <th scope="col">Last run</th>
                <th scope="col">Next run</th>
                <th scope="col">Data fresh as of</th>
                <th scope="col">Failures in a row</th>
              </tr>
            </thead>
            <tbody>
              {shown.length === 0 && (
                <tr>
                  <td colSpan={8} className="muted">
                    {rows.length === 0 ? 'No tenant is connected yet.' : 'No credential matches the filters.'}
                  </td>
                </tr>
              )}
              {shown.map((r) => (
                <tr key={r.credentialId}>
                  <th scope="row">{r.companyName}</th>
                  <td>{environments[r.environment]}</td>
                  <td className="mono">{r.tenantId}</td>
                  <td>
                    <Badge {...credentialStatus[r.status]} />
                  </td>
                  <td>
                    {r.lastRun ? (
                      <span className="stack">
                        <Badge {...runStatus[r.lastRun.status]} />
                        <When iso={r.lastRun.finishedAt ?? r.lastRun.createdAt} now={now} empty="" />
                        <span>{count.format(r.lastRun.totals.upserted)} records</span>
                      </span>
                    ) : (
                      <span className="muted">Never run</span>
                    )}
                  </td>
                  <td>
                    {r.schedulePaused ? (
                      <span>Paused</span>
                    ) : (
                      <When iso={r.nextRunAt} now={now} empty="Not scheduled" />
                    )}
                  </td>
                  <td>
                    <When iso={r.dataFreshAt} now={now} empty="No data yet" />
                  </td>
                  <td className={r.failuresInARow > 0 ? 'num bad-text' : 'num'}>{r.failuresInARow}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
