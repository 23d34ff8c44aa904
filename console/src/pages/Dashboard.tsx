import { useQuery } from '@tanstack/react-query';
import { useId, useMemo, useState } from 'react';
import { Link } from 'react-router';
import { ApiError, api, ok } from '../api/client';
import type { components } from '../api/schema';
import { ago, Badge, count, credentialStatus, environments, runStatus, When } from '../components/status';
import { useCan } from '../session';

type DashboardView = components['schemas']['Dashboard'];
type Row = DashboardView['credentials'][number];
type Breaker = DashboardView['breakers'][number];

const STALE_BREAKER_MS = 5 * 60_000;
const clockTime = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/**
 * What a tripped ServiceTitan circuit breaker means for the syncs, in words; null when it is
 * closed. The workers report its transitions; `retryAt` is when they let a probe through.
 */
function breakerMessage(b: Breaker, now: number): string | null {
  const api = `ServiceTitan ${environments[b.environment].toLowerCase()} API failing`;
  // A worker that stopped while its breaker was open never reports it closed: past a few
  // minutes without news, the row says nothing about now.
  const lastNews = Math.max(Date.parse(b.updatedAt), b.retryAt ? Date.parse(b.retryAt) : 0);
  if (b.state === 'closed' || now - lastNews > STALE_BREAKER_MS) return null;
  if (b.state === 'half_open') return `${api}: testing whether it has recovered; syncs resume if it answers.`;
  if (b.retryAt && Date.parse(b.retryAt) > now)
    return `${api}: requests paused until ${clockTime.format(new Date(b.retryAt))}, then syncs retry on their own.`;
  return `${api}: requests were paused; the next sync attempt tests whether it has recovered.`;
}

/** How often the dashboard asks again: runs move in seconds, a schedule's next run in minutes. */
const REFRESH_MS = 5_000;

export function Dashboard() {
  const id = useId();
  const admin = useCan('admin');
  const query = useQuery({
    queryKey: ['dashboard'],
    queryFn: () => ok(api.GET('/api/dashboard')),
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
        {admin && (
          <Link className="button" to="/connect">
            Connect a tenant
          </Link>
        )}
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

      {query.data?.breakers.map((b) => {
        const message = breakerMessage(b, now);
        return message ? (
          <p key={b.environment} className="banner banner-bad" role="alert">
            {message}
          </p>
        ) : null;
      })}

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
                  <th scope="row">
                    <Link to={`/credentials/${r.credentialId}`}>{r.companyName}</Link>
                  </th>
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
                      // The reason, in words: an auto-pause says how many runs failed.
                      <span className={r.pause?.by === 'auto' ? 'bad-text' : undefined}>
                        {r.pause?.reason ?? 'Paused'}
                      </span>
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
