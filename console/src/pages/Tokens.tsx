import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useId, useRef, useState } from 'react';
import { api, ok } from '../api/client';
import type { components } from '../api/schema';
import { AdminOnly } from '../components/admin-only';
import { absolute, When } from '../components/status';
import './admin.css';

type Token = components['schemas']['Token'];
type Role = Token['role'];

const roles: Record<Role, { label: string; can: string }> = {
  viewer: { label: 'Viewer', can: 'reads the dashboard, runs and their problems' },
  operator: { label: 'Operator', can: 'also starts, pauses and cancels syncs and edits schedules' },
  admin: { label: 'Admin', can: 'also manages companies, credentials, tokens and setup' },
};

export function Tokens() {
  return (
    <AdminOnly title="API tokens" may="manage API tokens" acrossCompanies>
      <TokensPage />
    </AdminOnly>
  );
}

/** Companies by id, for names in tables and the company pickers of admin pages. */
export function useCompanies() {
  return useQuery({
    queryKey: ['companies', 'all'],
    queryFn: () => ok(api.GET('/api/companies', { params: { query: { pageSize: '200' } } })),
    select: (page) => page.items,
  });
}

function TokensPage() {
  const id = useId();
  const queryClient = useQueryClient();
  const tokens = useQuery({ queryKey: ['tokens'], queryFn: () => ok(api.GET('/api/tokens')) });
  const companies = useCompanies();
  const companyName = (cid: number | null) =>
    cid === null ? 'All companies' : (companies.data?.find((c) => c.id === cid)?.name ?? `Company ${cid}`);

  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [company, setCompany] = useState('');
  // The new token lives in this state only: gone once dismissed or on reload, as on the server.
  const [created, setCreated] = useState<(Token & { token: string }) | null>(null);
  const [copied, setCopied] = useState<'idle' | 'copied' | 'failed'>('idle');
  const [confirming, setConfirming] = useState<number | null>(null);
  const secretRef = useRef<HTMLInputElement>(null);

  const create = useMutation({
    mutationFn: () =>
      ok(
        api.POST('/api/tokens', {
          body: { name: name.trim(), role, ...(company ? { companyId: Number(company) } : {}) },
        }),
      ),
    onSuccess: (token) => {
      setCreated(token);
      setCopied('idle');
      setName('');
      void queryClient.invalidateQueries({ queryKey: ['tokens'] });
    },
  });
  const revoke = useMutation({
    mutationFn: (tokenId: number) =>
      ok(api.DELETE('/api/tokens/{id}', { params: { path: { id: String(tokenId) } } })),
    onSuccess: () => {
      setConfirming(null);
      void queryClient.invalidateQueries({ queryKey: ['tokens'] });
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (name.trim()) create.mutate();
  };
  const copy = async () => {
    if (!created) return;
    try {
      await navigator.clipboard.writeText(created.token);
      setCopied('copied');
    } catch {
      // No clipboard permission: select it, so Ctrl+C copies it.
      secretRef.current?.select();
      setCopied('failed');
    }
  };

  const now = tokens.dataUpdatedAt || Date.now();
  const rows = tokens.data?.items ?? [];
  return (
    <section aria-labelledby={`${id}-title`}>
      <h1 id={`${id}-title`}>API tokens</h1>
      <p className="muted">
        A token signs in to this console and authenticates API calls (<code>Authorization: Bearer …</code>).
        Only its hash is stored: it is shown once, when it is made.
      </p>

      {created && (
        <div className="panel panel-warn" role="status" aria-labelledby={`${id}-created`}>
          <h2 id={`${id}-created`}>Token “{created.name}” created</h2>
          <p>
            <strong>Copy it now: it cannot be shown again.</strong> Keep it where passwords are kept; if it is
            lost, revoke it and make a new one.
          </p>
          <div className="inline-field">
            <label htmlFor={`${id}-secret`}>New API token</label>
            <input
              id={`${id}-secret`}
              ref={secretRef}
              className="mono secret"
              readOnly
              value={created.token}
              onFocus={(e) => e.currentTarget.select()}
            />
            <button type="button" onClick={copy}>
              Copy
            </button>
            <button type="button" className="secondary" onClick={() => setCreated(null)}>
              Done
            </button>
          </div>
          <p aria-live="polite" className="muted">
            {copied === 'copied'
              ? 'Copied to the clipboard.'
              : copied === 'failed'
                ? 'The browser refused the clipboard: the token is selected, press Ctrl+C (⌘C) to copy it.'
                : ''}
          </p>
        </div>
      )}

      <form className="panel form-grid" onSubmit={submit} aria-labelledby={`${id}-new`} noValidate>
        <h2 id={`${id}-new`}>Create a token</h2>
        <div className="field">
          <label htmlFor={`${id}-name`}>Name</label>
          <input
            id={`${id}-name`}
            value={name}
            onChange={(e) => setName(e.target.value)}
            maxLength={200}
            required
            placeholder="e.g. Reporting dashboard"
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-role`}>Role</label>
          <select id={`${id}-role`} value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {Object.entries(roles).map(([value, r]) => (
              <option key={value} value={value}>
                {r.label} — {r.can}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-company`}>Company (optional)</label>
          <select id={`${id}-company`} value={company} onChange={(e) => setCompany(e.target.value)}>
            <option value="">All companies (not limited)</option>
            {(companies.data ?? []).map((c) => (
              <option key={c.id} value={String(c.id)}>
                {c.name}
              </option>
            ))}
          </select>
        </div>
        <div className="form-actions">
          <button type="submit" disabled={create.isPending || !name.trim()}>
            {create.isPending ? 'Creating…' : 'Create token'}
          </button>
        </div>
        {create.isError && (
          <p className="field-error" role="alert">
            The token was not created: {create.error.message}
          </p>
        )}
      </form>

      {tokens.isError && (
        <p className="banner banner-bad" role="alert">
          The tokens could not be loaded: {tokens.error.message}
        </p>
      )}
      {revoke.isError && (
        <p className="banner banner-bad" role="alert">
          The token was not revoked: {revoke.error.message}
        </p>
      )}
      {tokens.isPending ? (
        <p>Loading the tokens…</p>
      ) : (
        <div className="table-wrap">
          <table>
            <caption>
              {rows.length} token{rows.length === 1 ? '' : 's'} ({rows.filter((t) => !t.revokedAt).length}{' '}
              active). The <code>ADMIN_TOKEN</code> setting, if set, is not listed.
            </caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Company</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">Status</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((t) => (
                <tr key={t.id}>
                  <th scope="row">{t.name}</th>
                  <td>{roles[t.role].label}</td>
                  <td>{companyName(t.companyId)}</td>
                  <td>
                    <span className="stack">
                      {absolute.format(new Date(t.createdAt))}
                      <When iso={t.createdAt} now={now} empty="" />
                    </span>
                  </td>
                  <td>
                    <When iso={t.lastUsedAt} now={now} empty="Never" />
                  </td>
                  <td>
                    {t.revokedAt ? (
                      <span className="stack">
                        <span className="badge badge-neutral">Revoked</span>
                        <span className="muted">{absolute.format(new Date(t.revokedAt))}</span>
                      </span>
                    ) : (
                      <span className="badge badge-good">Active</span>
                    )}
                  </td>
                  <td>
                    {!t.revokedAt &&
                      (confirming === t.id ? (
                        <fieldset className="confirm">
                          <legend>Revoke “{t.name}”?</legend>
                          <p>
                            Every API client and console session using it stops working at once. This cannot
                            be undone.
                          </p>
                          <button
                            type="button"
                            className="danger"
                            disabled={revoke.isPending}
                            onClick={() => revoke.mutate(t.id)}
                          >
                            Yes, revoke “{t.name}”
                          </button>{' '}
                          <button type="button" className="secondary" onClick={() => setConfirming(null)}>
                            Keep it
                          </button>
                        </fieldset>
                      ) : (
                        <button
                          type="button"
                          className="secondary"
                          aria-label={`Revoke ${t.name}`}
                          onClick={() => setConfirming(t.id)}
                        >
                          Revoke
                        </button>
                      ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
