import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import { environments } from '../components/status';
import { useCan } from '../session';
import { type CompanyChoice, CompanyStep } from './connect/CompanyStep';
import { CredentialStep } from './connect/CredentialStep';
import { ScheduleStep } from './connect/ScheduleStep';
import { SyncStep } from './connect/SyncStep';
import type { ConnectionTest, Credential, SandboxTenant } from './connect/shared';
import { TestStep } from './connect/TestStep';

type Step = 'company' | 'credentials' | 'test' | 'schedule' | 'sync';

const steps: { key: Step; label: string }[] = [
  { key: 'company', label: 'Company' },
  { key: 'credentials', label: 'ServiceTitan credentials' },
  { key: 'test', label: 'Connection test' },
  { key: 'schedule', label: 'Schedule' },
  { key: 'sync', label: 'First sync' },
];

/**
 * Connect a tenant, step by step: the company (existing or new), the tenant's credentials, a
 * connection test per stream (with guidance and automatic re-checks while the client has not
 * approved the app), the schedule with its next run times, and a first sync watched live.
 * The company is created, and the credential saved, at "Test connection"; the client secret is
 * sent once and never shown again.
 */
export function ConnectTenant() {
  const admin = useCan('admin');
  const [step, setStep] = useState<Step>('company');
  const [company, setCompany] = useState<CompanyChoice | null>(null);
  const [credential, setCredential] = useState<Credential | null>(null);
  const [test, setTest] = useState<ConnectionTest | null>(null);
  const [sandboxTenant, setSandboxTenant] = useState<SandboxTenant | null>(null);
  const [firstRunAt, setFirstRunAt] = useState<string | null>(null);

  // Keyboard and screen-reader users land on the new step's heading, not on a button that is gone.
  const stepRef = useRef<HTMLDivElement>(null);
  const shownStep = useRef(step);
  useEffect(() => {
    if (shownStep.current === step) return;
    shownStep.current = step;
    const heading = stepRef.current?.querySelector('h2');
    if (heading) {
      heading.tabIndex = -1;
      heading.focus();
    }
  }, [step]);

  if (!admin)
    return (
      <section>
        <h1>Connect a tenant</h1>
        <p>Only an admin can connect a tenant. Ask an admin of this installation.</p>
      </section>
    );

  const index = steps.findIndex((s) => s.key === step);
  return (
    <section aria-labelledby="connect-title" className="wizard">
      <h1 id="connect-title">Connect a tenant</h1>
      <ol className="steps" aria-label="Steps">
        {steps.map((s, i) => (
          <li
            key={s.key}
            aria-current={s.key === step ? 'step' : undefined}
            className={i < index ? 'done' : s.key === step ? 'current' : ''}
          >
            <span className="step-number">{i + 1}</span> {s.label}
            {i < index && <span className="visually-hidden"> (done)</span>}
          </li>
        ))}
      </ol>

      {company && step !== 'company' && (
        <p className="wizard-summary">
          <strong>{company.name}</strong> <span className="muted">({company.timeZone})</span>
          {credential && (
            <>
              {' · '}Tenant <span className="mono">{credential.tenantId}</span>
              {' · '}
              {environments[credential.environment]}
              {' · '}Client ID <span className="mono">{credential.clientIdMasked}</span>
              {' · '}Client secret saved (encrypted, never shown again)
            </>
          )}
        </p>
      )}

      <div ref={stepRef}>
        {step === 'company' && (
          <CompanyStep
            initial={company}
            onDone={(choice) => {
              setCompany(choice);
              setStep('credentials');
            }}
          />
        )}
        {step === 'credentials' && company && (
          <CredentialStep
            company={company}
            onCompanyCreated={(created) => setCompany({ ...company, id: created.id, isNew: false })}
            onCompanyRefused={(error) => {
              setCompany({ ...company, error });
              setStep('company');
            }}
            onBack={() => setStep('company')}
            onCreated={(created, result, tenant) => {
              setCredential(created);
              setTest(result);
              setSandboxTenant(tenant);
              setStep('test');
            }}
          />
        )}
        {step === 'test' && credential && test && (
          <TestStep
            credential={credential}
            test={test}
            sandboxTenant={sandboxTenant}
            onTested={setTest}
            onContinue={() => setStep('schedule')}
          />
        )}
        {step === 'schedule' && credential && company && (
          <ScheduleStep
            credentialId={credential.id}
            timeZone={company.timeZone}
            onSaved={(nextRunTimes) => {
              setFirstRunAt(nextRunTimes[0] ?? null);
              setStep('sync');
            }}
          />
        )}
        {step === 'sync' && credential && company && (
          <SyncStep credentialId={credential.id} timeZone={company.timeZone} nextRunAt={firstRunAt} />
        )}
      </div>

      {credential && step !== 'sync' && (
        <p className="muted">
          The credential is saved: you can leave this page and come back to it from the{' '}
          <Link to={`/credentials/${credential.id}`}>credential's page</Link> or the{' '}
          <Link to="/">dashboard</Link>.
        </p>
      )}
    </section>
  );
}
