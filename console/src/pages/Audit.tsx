import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { api, ok } from '../api/client';
import type { components } from '../api/schema';
import { AdminOnly } from '../components/admin-only';
import { absolute, Badge, type Tone, When } from '../components/status';
import { useSession } from '../session';
import { useCompanies } from './Tokens';
import './admin.css';

type AuditEvent = components['schemas']['AuditEvent'];

const PAGE_SIZE = 50;

/** Every audited action, in words (src/api/routes/*.routes.ts and the console's sign-in). */
const actions: Record<string, string> = {
  'session.sign_in': 'Signed in',
  'session.sign_in_link': 'Signed in with a link',
  'session.sign_out': 'Signed out',
  'token.create': 'Created a token',
  'token.revoke': 'Revoked a token',
  'company.create': 'Created a company',
  'company.update': 'Changed a company',
  'company.delete': 'Deleted a company',
  'credential.create': 'Added a credential',
  'credential.list': 'Listed credentials',
  'credential.read': 'Read a credential',
  'credential.rotate': 'Rotated a secret',
  'credential.disable': 'Disabled a credential',
  'credential.test': 'Tested a connection',
  'schedule.put': 'Set a schedule',
  'schedule.delete': 'Removed a schedule',
  'schedule.pause': 'Paused a schedule',
  'schedule.unpause': 'Unpaused a schedule',
  'sync.start': 'Started a sync',
  'sync.pause': 'Paused a sync',
  'sync.resume': 'Resumed a sync',
  'sync.cancel': 'Cancelled a sync',
};

const outcomes: Record<AuditEvent['outcome'], { label: string; tone: Tone }> = {
  success: { label: 'Success', tone: 'good' },
  denied: { label: 'Denied', tone: 'warn' },
  failed: { label: 'Failed', tone: 'bad' },
};

/** A `datetime-local` value (the browser's time zone) as an ISO instant for the API. */
function toInstant(local: string): string | undefined {
  if (!local) return undefined;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

export function Audit() {
  return (
    <AdminOnly title="Audit trail" may="read the audit trail">
      <AuditPage />
    </AdminOnly>
  );
}

function AuditPage() {
  const id = useId();
  const limited = useSession().principal.companyId !== null;
  const companies = useCompanies();
  // Only unrestricted admins may list tokens (the API answers 403 to the others).
  const tokens = useQuery({
    queryKey: ['tokens'],
    queryFn: () => ok(api.GET('/api/tokens')),
    enabled: !limited,
  });
  const [action, setAction] = useState('');
  const [outcome, setOutcome] = useState('');
  const [company, setCompany] = useState('');
  const [actor, setActor] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [page, setPage] = useState(1);

  const filter = {
    ...(action ? { action } : {}),
    ...(outcome ? { outcome: outcome as AuditEvent['outcome'] } : {}),
    ...(company ? { companyId: company } : {}),
    ...(actor ? { actorTokenId: actor } : {}),
    ...(toInstant(from) ? { from: toInstant(from) } : {}),
    ...(toInstant(to) ? { to: toInstant(to) } : {}),
  };
  const query = useQuery({
    queryKey: ['audit', filter, page],
    queryFn: () =>
      ok(
        api.GET('/api/audit', {
          params: { query: { ...filter, page: String(page), pageSize: String(PAGE_SIZE) } },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  // Any filter change starts again at the first page.
  const set = (setter: (v: string) => void) => (value: string) => {
    setter(value);
    setPage(1);
  };
  const clear = () => {
    for (const setter of [setAction, setOutcome, setCompany, setActor, setFrom, setTo]) setter('');
    setPage(1);
  };

  const total = query.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const now = query.dataUpdatedAt || Date.now();
  const companyName = (cid: number | null) =>
    cid === null ? '—' : (companies.data?.find((c) => c.id === cid)?.name ?? `Company ${cid}`);

  return (
    <section aria-labelledby={`${id}-title`}>
      <div className="section-head">
        <h1 id={`${id}-title`}>Audit trail</h1>
        <p className="muted">
          Who changed what, and every read or test of a credential. Newest first; never a value.
        </p>
      </div>

      <fieldset className="filters">
        <legend>Filters</legend>
        <div className="field">
          <label htmlFor={`${id}-action`}>Action</label>
          <select id={`${id}-action`} value={action} onChange={(e) => set(setAction)(e.target.value)}>
            <option value="">All actions</option>
            {Object.entries(actions).map(([value, label]) => (
              <option key={value} value={value}>
                {label} ({value})
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-outcome`}>Outcome</label>
          <select id={`${id}-outcome`} value={outcome} onChange={(e) => set(setOutcome)(e.target.value)}>
            <option value="">All outcomes</option>
            {Object.entries(outcomes).map(([value, o]) => (
              <option key={value} value={value}>
                {o.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-company`}>Company</label>
          <select id={`${id}-company`} value={company} onChange={(e) => set(setCompany)(e.target.value)}>
            <option value="">All companies</option>
            {(companies.data ?? []).map((c) => (
              <option key={c.id} value={String(c.id)}>
                {c.name}
              </option>
            ))}
          </select>
        </div>
        {!limited && (
          <div className="field">
            <label htmlFor={`${id}-actor`}>Actor token</label>
            <select id={`${id}-actor`} value={actor} onChange={(e) => set(setActor)(e.target.value)}>
              <option value="">Anyone</option>
              {(tokens.data?.items ?? []).map((t) => (
                <option key={t.id} value={String(t.id)}>
                  {t.name} ({t.role}
                  {t.revokedAt ? ', revoked' : ''})
                </option>
              ))}
            </select>
          </div>
        )}
        <div className="field">
          <label htmlFor={`${id}-from`}>From</label>
          <input
            id={`${id}-from`}
            type="datetime-local"
            value={from}
            onChange={(e) => set(setFrom)(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-to`}>To</label>
          <input
            id={`${id}-to`}
            type="datetime-local"
            value={to}
            onChange={(e) => set(setTo)(e.target.value)}
          />
        </div>
        <div className="form-actions">
          <button type="button" className="secondary" onClick={clear}>
            Clear filters
          </button>
        </div>
      </fieldset>

      {query.isError && (
        <p className="banner banner-bad" role="alert">
          The audit trail could not be loaded: {query.error.message}
        </p>
      )}
      {query.isPending ? (
        <p>Loading the audit trail…</p>
      ) : (
        <>
          <div className="table-wrap">
            <table>
              <caption aria-live="polite">
                {total === 0
                  ? 'No events match.'
                  : `Events ${(page - 1) * PAGE_SIZE + 1}–${Math.min(page * PAGE_SIZE, total)} of ${total}`}
                {query.isFetching ? ' (loading…)' : ''}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Action</th>
                  <th scope="col">Target</th>
                  <th scope="col">Company</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Address</th>
                  <th scope="col">Details</th>
                </tr>
              </thead>
              <tbody>
                {(query.data?.items ?? []).map((e) => (
                  <tr key={e.id}>
                    <td>
                      <span className="stack">
                        {absolute.format(new Date(e.at))}
                        <When iso={e.at} now={now} empty="" />
                      </span>
                    </td>
                    <td>
                      <span className="stack">
                        {e.actor.name}
                        <span className="muted">{e.actor.role}</span>
                      </span>
                    </td>
                    <th scope="row">
                      <span className="stack">
                        {actions[e.action] ?? e.action}
                        <span className="muted mono">{e.action}</span>
                      </span>
                    </th>
                    <td>
                      {e.target.type}
                      {e.target.id ? ` #${e.target.id}` : ''}
                    </td>
                    <td>{companyName(e.companyId)}</td>
                    <td>
                      <Badge {...outcomes[e.outcome]} />
                    </td>
                    <td className="mono">{e.ip ?? '—'}</td>
                    <td className="details mono">
                      {Object.keys(e.details).length ? JSON.stringify(e.details) : '—'}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav className="pager" aria-label="Audit pages">
            <button
              type="button"
              className="secondary"
              disabled={page <= 1}
              onClick={() => setPage((p) => Math.max(1, p - 1))}
            >
              Previous page
            </button>
            <span>
              Page {page} of {pages}
            </span>
            <button
              type="button"
              className="secondary"
              disabled={page >= pages}
              onClick={() => setPage((p) => p + 1)}
            >
              Next page
            </button>
          </nav>
        </>
      )}
    </section>
  );
}
