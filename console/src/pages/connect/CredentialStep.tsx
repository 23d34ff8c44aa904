import { useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useId, useRef, useState } from 'react';
import { api } from '../../api/client';
import { environments } from '../../components/status';
import type { CompanyChoice } from './CompanyStep';
import {
  type Company,
  type ConnectionTest,
  type Credential,
  type Environment,
  type ErrorBody,
  errorMessage,
  type FieldErrors,
  type SandboxTenant,
  validationErrors,
} from './shared';

const fieldNames = { tenantId: 'tenantId', clientId: 'clientId', clientSecret: 'clientSecret' } as const;

/** Where a refused connection is shown, in words the client's administrator can act on. */
function connectionErrors(
  test: ConnectionTest,
  environment: Environment,
  tenantId: string,
): {
  fields: FieldErrors;
  banner?: string;
} {
  const env = environments[environment];
  if (test.status === 'invalid_credentials') {
    // Our own app key refused: nothing the client can fix; the message names the setting.
    if (/SERVICETITAN_APP_KEY|application key/i.test(test.message))
      return { fields: {}, banner: `Not saved: ${test.message}` };
    return {
      fields: {
        clientSecret: `ServiceTitan refused this client ID and secret for tenant ${tenantId} in ${env}. Check that both were copied whole, without spaces, from this tenant's ${env} account (each environment has its own pair); if in doubt, ask the client's administrator to generate a new secret.`,
      },
    };
  }
  return {
    fields: {
      environment: `ServiceTitan's ${env} environment did not answer properly, so nothing was saved. ${test.message}`,
    },
  };
}

export function CredentialStep({
  company,
  onCompanyCreated,
  onCompanyRefused,
  onBack,
  onCreated,
}: {
  company: CompanyChoice;
  onCompanyCreated: (company: Company) => void;
  onCompanyRefused: (error: CompanyChoice['error']) => void;
  onBack: () => void;
  onCreated: (credential: Credential, test: ConnectionTest, sandboxTenant: SandboxTenant | null) => void;
}) {
  const id = useId();
  const queryClient = useQueryClient();
  const [environment, setEnvironment] = useState<Environment>('integration');
  const [tenantId, setTenantId] = useState('');
  const [clientId, setClientId] = useState('');
  // The secret stays in the input alone (uncontrolled): React would mirror a controlled value
  // into the element's `value` attribute, i.e. into the page's markup.
  const secretRef = useRef<HTMLInputElement>(null);
  const [showSecret, setShowSecret] = useState(false);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [banner, setBanner] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const [filledFrom, setFilledFrom] = useState<SandboxTenant | null>(null);

  const sandbox = useQuery({
    queryKey: ['sandbox'],
    queryFn: async () => {
      const { data, response } = await api.GET('/api/sandbox');
      // 404: this deployment talks to the real ServiceTitan; the box is simply not shown.
      return response.ok && data ? data : null;
    },
    retry: false,
    staleTime: 60_000,
  });

  const fill = (t: SandboxTenant) => {
    setEnvironment(t.environment);
    setTenantId(t.tenantId);
    setClientId(t.clientId);
    if (secretRef.current) secretRef.current.value = t.clientSecret;
    setFilledFrom(t);
    setErrors({});
    setBanner(null);
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const secret = secretRef.current?.value ?? '';
    const tenant = tenantId.trim();
    const found: FieldErrors = {};
    if (!/^\d{1,18}$/.test(tenant))
      found.tenantId = tenant
        ? 'A tenant ID is digits only, e.g. 1234567890.'
        : 'Enter the tenant ID (digits only) from ServiceTitan.';
    if (!clientId.trim()) found.clientId = 'Enter the client ID the client’s administrator sent you.';
    if (!secret) found.clientSecret = 'Enter the client secret the client’s administrator sent you.';
    setErrors(found);
    setBanner(null);
    if (Object.keys(found).length > 0) return;

    setPending(true);
    try {
      let companyId = company.id;
      if (companyId === null) {
        const created = await api.POST('/api/companies', {
          body: { name: company.name, timeZone: company.timeZone },
        });
        if (!created.data) {
          const body = (created.error ?? {}) as ErrorBody;
          const fields = validationErrors(body, { name: 'companyName', timeZone: 'timeZone' });
          const field = fields.timeZone ? 'timeZone' : 'companyName';
          onCompanyRefused({
            field,
            message: fields[field] ?? errorMessage(created.error, created.response.status),
          });
          return;
        }
        companyId = created.data.id;
        onCompanyCreated(created.data);
        void queryClient.invalidateQueries({ queryKey: ['companies'] });
      }

      const res = await api.POST('/api/credentials', {
        body: {
          companyId,
          environment,
          tenantId: tenant,
          clientId: clientId.trim(),
          clientSecret: secret,
          test: true,
        },
      });
      if (res.data?.test) {
        if (secretRef.current) secretRef.current.value = '';
        const sandboxTenant =
          filledFrom && filledFrom.tenantId === tenant && filledFrom.environment === environment
            ? filledFrom
            : (sandbox.data?.tenants.find((t) => t.tenantId === tenant && t.environment === environment) ??
              null);
        onCreated(res.data, res.data.test, sandboxTenant);
        return;
      }
      const body = (res.error ?? {}) as ErrorBody;
      const status = res.response.status;
      if (body.error === 'connection_failed' && body.details?.test) {
        const { fields, banner: b } = connectionErrors(
          body.details.test as ConnectionTest,
          environment,
          tenant,
        );
        setErrors(fields);
        setBanner(b ?? null);
      } else if (body.error === 'validation_failed') {
        const fields = validationErrors(body, fieldNames);
        setErrors(fields);
        if (Object.keys(fields).length === 0) setBanner(errorMessage(body, status));
      } else if (status === 409) {
        setErrors({
          tenantId: `Tenant ${tenant} is already connected in ${environments[environment]}, or this company already has a ${environments[environment]} credential. Open it from the dashboard instead.`,
        });
      } else {
        setBanner(`Not saved: ${errorMessage(body, status)}`);
      }
    } catch (error) {
      setBanner(`The server could not be reached: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      setPending(false);
    }
  };

  const describedBy = (field: keyof FieldErrors, hint = true) =>
    [hint ? `${id}-${field}-hint` : null, errors[field] ? `${id}-${field}-error` : null]
      .filter(Boolean)
      .join(' ') || undefined;
  const fieldError = (field: keyof FieldErrors) =>
    errors[field] ? (
      <p id={`${id}-${field}-error`} className="field-error">
        {errors[field]}
      </p>
    ) : null;

  return (
    <div className="wizard-columns">
      <form onSubmit={submit} noValidate className="wizard-step" aria-labelledby={`${id}-h`}>
        <h2 id={`${id}-h`}>The tenant’s ServiceTitan credentials</h2>
        <p className="muted">
          The client’s ServiceTitan administrator finds these under Settings &gt; Integrations &gt; API
          Application Access once our application is connected there.
        </p>
        <fieldset
          className="choice"
          aria-invalid={errors.environment ? true : undefined}
          aria-describedby={describedBy('environment')}
        >
          <legend>Environment</legend>
          {(Object.keys(environments) as Environment[]).map((env) => (
            <label key={env}>
              <input
                type="radio"
                name="environment"
                value={env}
                checked={environment === env}
                onChange={() => setEnvironment(env)}
              />
              {environments[env]}
            </label>
          ))}
          <p id={`${id}-environment-hint`} className="hint">
            Production holds the client’s live data; Integration is ServiceTitan’s test copy. Each has its own
            client ID and secret.
          </p>
          {fieldError('environment')}
        </fieldset>

        <div className="field">
          <label htmlFor={`${id}-tenant`}>Tenant ID</label>
          <input
            id={`${id}-tenant`}
            value={tenantId}
            inputMode="numeric"
            autoComplete="off"
            onChange={(e) => setTenantId(e.target.value)}
            aria-invalid={errors.tenantId ? true : undefined}
            aria-describedby={describedBy('tenantId')}
          />
          <p id={`${id}-tenantId-hint`} className="hint">
            Digits only.
          </p>
          {fieldError('tenantId')}
        </div>

        <div className="field">
          <label htmlFor={`${id}-client`}>Client ID</label>
          <input
            id={`${id}-client`}
            value={clientId}
            autoComplete="off"
            spellCheck={false}
            onChange={(e) => setClientId(e.target.value)}
            aria-invalid={errors.clientId ? true : undefined}
            aria-describedby={describedBy('clientId', false)}
          />
          {fieldError('clientId')}
        </div>

        <div className="field">
          <label htmlFor={`${id}-secret`}>Client secret</label>
          <span className="with-button">
            <input
              id={`${id}-secret`}
              ref={secretRef}
              type={showSecret ? 'text' : 'password'}
              autoComplete="off"
              spellCheck={false}
              aria-invalid={errors.clientSecret ? true : undefined}
              aria-describedby={describedBy('clientSecret')}
            />
            <button
              type="button"
              className="secondary"
              aria-controls={`${id}-secret`}
              aria-pressed={showSecret}
              onClick={() => setShowSecret((s) => !s)}
            >
              {showSecret ? 'Hide' : 'Show'}
              <span className="visually-hidden"> the client secret</span>
            </button>
          </span>
          <p id={`${id}-clientSecret-hint`} className="hint">
            Stored encrypted and never shown again, here or anywhere else.
          </p>
          {fieldError('clientSecret')}
        </div>

        {banner && (
          <p className="banner banner-bad" role="alert">
            {banner}
          </p>
        )}
        <div className="actions">
          <button type="button" className="secondary" onClick={onBack} disabled={pending}>
            Back
          </button>
          <button type="submit" disabled={pending}>
            {pending ? 'Testing the connection…' : 'Test connection'}
          </button>
        </div>
        <p className="muted" aria-live="polite">
          {pending ? 'Asking ServiceTitan for a token and reading one record of each stream…' : ''}
        </p>
      </form>

      {sandbox.data && (
        <aside className="sandbox-box" aria-labelledby={`${id}-sandbox`}>
          <h2 id={`${id}-sandbox`}>Try it with the sandbox</h2>
          <p>
            This installation runs a ServiceTitan simulator (the sandbox) at{' '}
            <span className="mono">{sandbox.data.url}</span>. Fill the form with one of its demo tenants:
          </p>
          <ul>
            {sandbox.data.tenants.map((t) => (
              <li key={`${t.environment}-${t.tenantId}`}>
                <button type="button" className="secondary" onClick={() => fill(t)}>
                  Use tenant {t.tenantId} ({environments[t.environment]})
                </button>
                <span className="hint">{t.demonstrates}</span>
              </li>
            ))}
          </ul>
          <p className="hint">Their client IDs and secrets are the simulator’s own and open nothing else.</p>
        </aside>
      )}
    </div>
  );
}
