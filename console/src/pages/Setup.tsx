import { useQuery } from '@tanstack/react-query';
import { useId } from 'react';
import { Link } from 'react-router';
import { api, ok } from '../api/client';
import type { components } from '../api/schema';
import { AdminOnly } from '../components/admin-only';
import { absolute, Badge, environments, type Tone } from '../components/status';
import './admin.css';

type Check = components['schemas']['SetupCheck'];

const checkStatus: Record<Check['status'], { label: string; tone: Tone }> = {
  ok: { label: 'OK', tone: 'good' },
  warning: { label: 'Warning', tone: 'warn' },
  failed: { label: 'Failed', tone: 'bad' },
};

export function Setup() {
  return (
    <AdminOnly title="Setup" may="see this deployment's setup" acrossCompanies>
      <SetupPage />
    </AdminOnly>
  );
}

function SetupPage() {
  const id = useId();
  const query = useQuery({
    queryKey: ['setup'],
    queryFn: () => ok(api.GET('/api/setup')),
    // Each look is a live check (URLs are requested): only on arrival and on "Check again".
    staleTime: Number.POSITIVE_INFINITY,
    refetchOnWindowFocus: false,
  });
  const checks = query.data?.checks ?? [];
  const failed = checks.filter((c) => c.status === 'failed').length;
  const warnings = checks.filter((c) => c.status === 'warning').length;

  return (
    <section aria-labelledby={`${id}-title`}>
      <h1 id={`${id}-title`}>Setup</h1>
      <p className="muted">
        What an administrator does once so that this deployment can reach ServiceTitan, and a live check of
        its configuration.
      </p>

      {query.data?.appKey === 'sandbox' && (
        <p className="panel panel-warn">
          This deployment runs on the embedded <strong>ServiceTitan sandbox</strong> (a local simulator
          started by <code>npm start</code> when <code>SERVICETITAN_APP_KEY</code> is not set), with the
          sandbox’s own app key. Everything works as with ServiceTitan, on made-up tenants. Follow the steps
          below to connect real ones.
        </p>
      )}

      <section className="panel" aria-labelledby={`${id}-checks`}>
        <div className="section-head">
          <h2 id={`${id}-checks`}>Configuration check</h2>
          <button type="button" onClick={() => void query.refetch()} disabled={query.isFetching}>
            {query.isFetching ? 'Checking…' : 'Check again'}
          </button>
          <p className="muted" aria-live="polite">
            {query.isFetching
              ? 'Checking this deployment…'
              : query.data
                ? `Checked ${absolute.format(new Date(query.data.checkedAt))}: ${
                    failed + warnings === 0
                      ? `all ${checks.length} checks pass.`
                      : `${failed} failed, ${warnings} warning${warnings === 1 ? '' : 's'}.`
                  }`
                : ''}
          </p>
        </div>
        {query.isError && (
          <p className="banner banner-bad" role="alert">
            The configuration could not be checked: {query.error.message}
          </p>
        )}
        {query.isPending ? (
          <p>Checking this deployment…</p>
        ) : (
          <ul className="checks" aria-label="Checks">
            {checks.map((c) => (
              <li key={c.id} aria-label={`${c.label}: ${checkStatus[c.status].label}`}>
                <span>
                  <Badge {...checkStatus[c.status]} />
                </span>
                <div>
                  <p className="check-label">{c.label}</p>
                  <p>{c.detail}</p>
                </div>
                {c.fix && (
                  <p className="fix">
                    <strong>To fix:</strong> {c.fix}
                  </p>
                )}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section className="panel" aria-labelledby={`${id}-register`}>
        <h2 id={`${id}-register`}>Register the application with ServiceTitan</h2>
        <p>
          Two kinds of keys are involved. The <strong>app key</strong> belongs to your registered application:
          one key for every client and both environments, set once on this server. The{' '}
          <strong>client ID and client secret</strong> belong to one client’s tenant in one environment: each
          client generates its own, and you enter them when you connect that tenant.
        </p>
        <ol className="steps">
          <li>
            Sign in to the <strong>ServiceTitan Developer Portal</strong> (developer.servicetitan.io) and
            create an application. Give it read access to the <strong>CRM</strong> (customers, contacts) and{' '}
            <strong>Accounting</strong> (invoices) APIs: that is all this product reads.
          </li>
          <li>
            Copy the application’s <strong>app key</strong> and put it in <code>SERVICETITAN_APP_KEY</code> in
            the environment of this server’s API and worker (for example in <code>.env</code>), then restart
            them. The key is never typed into this console and never shown by it; the check above only says
            whether it is set.
          </li>
          <li>
            In the portal, add each client’s <strong>tenant ID</strong> to the application, in the environment
            you will use: <strong>Integration</strong> for ServiceTitan’s test tenants,{' '}
            <strong>Production</strong> for live ones. A tenant of one environment cannot be reached in the
            other.
          </li>
          <li>
            Each client’s ServiceTitan administrator approves the application in ServiceTitan under{' '}
            <strong>Settings &gt; Integrations &gt; API Application Access</strong>, generates its{' '}
            <strong>client ID and client secret</strong> there, and sends you those with the tenant ID. Until
            they approve it, a connection test says “Awaiting approval”, not “Invalid credentials”.
          </li>
          <li>
            <Link to="/connect">Connect the tenant</Link> (the dashboard’s “Connect a tenant”): environment,
            tenant ID, client ID and client secret, then <em>Test connection</em>. The secret is encrypted at
            rest and never shown again.
          </li>
        </ol>
        {query.data && (
          <div className="table-wrap">
            <table>
              <caption>Where this deployment sends each environment’s requests</caption>
              <thead>
                <tr>
                  <th scope="col">Environment</th>
                  <th scope="col">Auth URL (token endpoint: …/connect/token)</th>
                  <th scope="col">API URL</th>
                </tr>
              </thead>
              <tbody>
                {query.data.environments.map((e) => (
                  <tr key={e.environment}>
                    <th scope="row">{environments[e.environment]}</th>
                    <td className="mono">{e.authUrl}</td>
                    <td className="mono">{e.apiUrl}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </section>
  );
}
