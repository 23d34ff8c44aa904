import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { api, ok } from '../api/client';
import type { components } from '../api/schema';
import { AdminOnly } from '../components/admin-only';
import { useSession } from '../session';
import { useCompanies } from './Tokens';
import './admin.css';

type Flag = components['schemas']['Flags']['flags'][number];
type FlagValue = Flag['effective'];

const INHERIT = '';

/** A value in words: the same words in the table and in the choices. */
function words(flag: Flag, value: FlagValue | null): string {
  if (value === null) return '—';
  if (flag.type === 'boolean') return value ? 'On' : 'Off';
  return String(value);
}

/**
 * Feature flags (issue 12): the global value of each flag, or one company's own, with what a run
 * started now would see. Every change is audited by the API; a run keeps the flags it started
 * with.
 */
export function Flags() {
  return (
    <AdminOnly title="Feature flags" may="change feature flags">
      <FlagsPage />
    </AdminOnly>
  );
}

function FlagsPage() {
  const id = useId();
  const queryClient = useQueryClient();
  const own = useSession().principal.companyId;
  const companies = useCompanies();
  // A company-limited admin sees and sets only its own company's values.
  const [company, setCompany] = useState(own === null ? '' : String(own));
  const companyId = company ? Number(company) : undefined;
  const flags = useQuery({
    queryKey: ['flags', companyId ?? 'global'],
    queryFn: () =>
      ok(api.GET('/api/flags', { params: { query: companyId ? { companyId: String(companyId) } : {} } })),
  });
  const [error, setError] = useState<string | null>(null);
  const change = useMutation({
    mutationFn: async ({ flag, choice }: { flag: Flag; choice: string }) => {
      const key = { path: { key: flag.key } };
      if (choice === INHERIT)
        return ok(
          api.DELETE('/api/flags/{key}', {
            params: { ...key, query: companyId ? { companyId: String(companyId) } : {} },
          }),
        );
      const value = flag.type === 'boolean' ? choice === 'true' : choice;
      return ok(
        api.PUT('/api/flags/{key}', { params: key, body: { value, ...(companyId ? { companyId } : {}) } }),
      );
    },
    onSuccess: (answer) => {
      setError(null);
      queryClient.setQueryData(['flags', companyId ?? 'global'], answer);
      // Other scopes' effective values may follow this one.
      void queryClient.invalidateQueries({ queryKey: ['flags'] });
    },
    onError: (e) => setError(e.message),
  });

  const scopeName = companyId
    ? (companies.data?.find((c) => c.id === companyId)?.name ?? `Company ${companyId}`)
    : 'every company';
  return (
    <section aria-labelledby={`${id}-title`}>
      <h1 id={`${id}-title`}>Feature flags</h1>
      <p className="muted">
        A run reads the flags once, when it starts, and keeps them on its record. A company's own value wins
        over the global one; without either, the flag has its default.
      </p>
      <label className="field">
        Values for
        <select value={company} onChange={(e) => setCompany(e.target.value)} disabled={own !== null}>
          {own === null && <option value="">Every company (global values)</option>}
          {(companies.data ?? [])
            .filter((c) => own === null || c.id === own)
            .map((c) => (
              <option key={c.id} value={String(c.id)}>
                {c.name}
              </option>
            ))}
        </select>
      </label>
      {error && (
        <p className="banner banner-bad" role="alert">
          The flag was not changed: {error}
        </p>
      )}
      {flags.isPending ? (
        <p>Loading the flags…</p>
      ) : flags.isError ? (
        <p className="banner banner-bad" role="alert">
          The flags could not be loaded: {flags.error.message}
        </p>
      ) : (
        <div className="table-wrap">
          <table>
            <caption>Flags for {scopeName}</caption>
            <thead>
              <tr>
                <th scope="col">Flag</th>
                <th scope="col">What it does</th>
                <th scope="col">Default</th>
                <th scope="col">Global</th>
                {companyId && <th scope="col">This company</th>}
                <th scope="col">Runs now see</th>
                <th scope="col">Change</th>
              </tr>
            </thead>
            <tbody>
              {flags.data.flags.map((flag) => {
                const current = companyId ? flag.company : flag.global;
                const choices: [string, string][] =
                  flag.type === 'boolean'
                    ? [
                        ['true', 'On'],
                        ['false', 'Off'],
                      ]
                    : (flag.values ?? []).map((v) => [v, v]);
                return (
                  <tr key={flag.key}>
                    <th scope="row" className="mono">
                      {flag.key}
                    </th>
                    <td>{flag.description}</td>
                    <td>{words(flag, flag.default)}</td>
                    <td>{words(flag, flag.global)}</td>
                    {companyId && <td>{words(flag, flag.company)}</td>}
                    <td>
                      <strong>{words(flag, flag.effective)}</strong>
                    </td>
                    <td>
                      <label>
                        <span className="visually-hidden">Set {flag.key}</span>
                        <select
                          value={current === null ? INHERIT : String(current)}
                          disabled={change.isPending}
                          onChange={(e) => change.mutate({ flag, choice: e.target.value })}
                        >
                          <option value={INHERIT}>{companyId ? 'Follow the global value' : 'Default'}</option>
                          {choices.map(([value, label]) => (
                            <option key={value} value={value}>
                              {label}
                            </option>
                          ))}
                        </select>
                      </label>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
