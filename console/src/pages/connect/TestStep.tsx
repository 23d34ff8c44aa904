import { useMutation } from '@tanstack/react-query';
import { useEffect, useId, useState } from 'react';
import { api, ok } from '../../api/client';
import { Badge, credentialStatus, environments } from '../../components/status';
import {
  type ConnectionTest,
  type Credential,
  type SandboxTenant,
  streamAccess,
  streamLabels,
} from './shared';

/** While the client has not approved the app, the test runs again this often. */
const RECHECK_SECONDS = 10;

export function TestStep({
  credential,
  test,
  sandboxTenant,
  onTested,
  onContinue,
}: {
  credential: Credential;
  test: ConnectionTest;
  sandboxTenant: SandboxTenant | null;
  onTested: (test: ConnectionTest) => void;
  onContinue: () => void;
}) {
  const id = useId();
  const retest = useMutation({
    mutationFn: () =>
      ok(api.POST('/api/credentials/{id}/test', { params: { path: { id: String(credential.id) } } })),
    onSuccess: onTested,
  });
  const awaiting = test.status === 'awaiting_approval';

  // Automatic re-checks while awaiting approval; they stop once connected, or when this step
  // unmounts (the user left the page or moved on).
  const [secondsLeft, setSecondsLeft] = useState(RECHECK_SECONDS);
  const { mutate, isPending } = retest;
  useEffect(() => {
    if (!awaiting || isPending) return;
    const due = Date.now() + RECHECK_SECONDS * 1000;
    setSecondsLeft(RECHECK_SECONDS);
    const timer = setInterval(() => {
      const left = Math.ceil((due - Date.now()) / 1000);
      if (left > 0) return setSecondsLeft(left);
      clearInterval(timer);
      mutate();
    }, 1000);
    return () => clearInterval(timer);
  }, [awaiting, isPending, mutate]);

  const status = credentialStatus[test.status];
  return (
    <section className="wizard-step" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Connection test</h2>
      <div role="status" className="test-result">
        <p>
          <Badge {...status} />{' '}
          <span className="muted">
            tested at {new Date(test.testedAt).toLocaleTimeString(undefined, { timeStyle: 'medium' })}
          </span>
        </p>
        <p>{test.message}</p>
      </div>
      {test.status !== 'connected' && (
        <div className="actions">
          <button
            type="button"
            className={awaiting ? 'secondary' : undefined}
            onClick={() => retest.mutate()}
            disabled={retest.isPending}
          >
            {retest.isPending ? 'Testing…' : 'Test again'}
          </button>
          {awaiting && (
            <span className="muted recheck">
              {retest.isPending ? 'Checking now…' : `Checking again in ${secondsLeft} s`}
            </span>
          )}
        </div>
      )}
      {retest.isError && (
        <p className="banner banner-bad" role="alert">
          The test could not be run: {retest.error.message}
        </p>
      )}

      <table className="compact">
        <caption>What each stream answered</caption>
        <thead>
          <tr>
            <th scope="col">Stream</th>
            <th scope="col">ServiceTitan module</th>
            <th scope="col">Result</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(test.streams).map(([stream, access]) => (
            <tr key={stream}>
              <th scope="row">{streamLabels[stream]?.label ?? stream}</th>
              <td>{streamLabels[stream]?.module ?? ''}</td>
              <td>
                {awaiting && access === 'error'
                  ? 'Refused until the app is approved'
                  : (streamAccess[access] ?? access)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      {test.status === 'connected' && (
        <div className="actions">
          <button type="button" onClick={onContinue}>
            Continue to the schedule
          </button>
        </div>
      )}

      {awaiting && <ApprovalGuidance credential={credential} sandboxTenant={sandboxTenant} />}

      {(test.status === 'invalid_credentials' || test.status === 'unreachable') && (
        <p className="hint">
          To enter a new client secret, open the credential’s page from the dashboard and rotate it; then test
          again here or there.
        </p>
      )}
    </section>
  );
}

/** What the client's administrator must do in ServiceTitan, and a message to send them. */
function ApprovalGuidance({
  credential,
  sandboxTenant,
}: {
  credential: Credential;
  sandboxTenant: SandboxTenant | null;
}) {
  const id = useId();
  const env = environments[credential.environment];
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  const message = [
    'Hello,',
    '',
    `To finish connecting your ServiceTitan account (tenant ID ${credential.tenantId}, ${env} environment) to our data sync, please allow our application access in ServiceTitan:`,
    '',
    `1. Sign in to ServiceTitan${credential.environment === 'integration' ? ' (the Integration environment)' : ''} as an administrator with the "Manage API Application Access" permission.`,
    '2. Go to Settings > Integrations > API Application Access.',
    '3. Find our application in the list; if it is not there, click "Connect New App" and choose it.',
    '4. Review the access it asks for (read only: customers, invoices and business units) and click "Allow Access".',
    '',
    'That is all: we see the approval on our side within a minute, and nothing needs to be sent back.',
    'If you generate a new client secret while doing this, tell us and we will arrange a secure way to receive it (please never send it by plain e-mail).',
    '',
    'Thank you!',
  ].join('\n');

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(message);
      setCopied('yes');
    } catch {
      setCopied('no');
    }
  };

  return (
    <section className="guidance" aria-labelledby={`${id}-h`}>
      <h3 id={`${id}-h`}>Waiting for the client to approve the application</h3>
      <p>
        ServiceTitan accepted the client ID and secret, but tenant{' '}
        <span className="mono">{credential.tenantId}</span> has not yet allowed this application to read its
        data. Only an administrator of the client’s ServiceTitan account can do that, in a minute:
      </p>
      <ol>
        <li>
          Sign in to ServiceTitan ({env}) as an administrator with the <em>Manage API Application Access</em>{' '}
          permission.
        </li>
        <li>
          Open <strong>Settings &gt; Integrations &gt; API Application Access</strong>.
        </li>
        <li>
          Find our application in the list; if it is not there, click <strong>Connect New App</strong> and
          choose it. (If it is not offered at all, the application does not list this tenant ID yet: add{' '}
          <span className="mono">{credential.tenantId}</span> to the application in the ServiceTitan Developer
          Portal, under My Apps.)
        </li>
        <li>
          Review the access it asks for (read only) and click <strong>Allow Access</strong>.
        </li>
      </ol>
      <p>
        This page tests the connection again every {RECHECK_SECONDS} seconds until it connects; you can also
        leave it and come back later.
      </p>

      {sandboxTenant && (
        <p className="sandbox-note">
          <strong>Sandbox tenant:</strong> play the client administrator’s part on the sandbox’s own{' '}
          <a href={sandboxTenant.approvalUrl} target="_blank" rel="noreferrer">
            API Application Access page (opens in a new tab)
          </a>{' '}
          and click “Allow Access” for tenant {sandboxTenant.tenantId}.
        </p>
      )}

      <div className="field">
        <label htmlFor={`${id}-message`}>Message for the client’s administrator</label>
        <textarea id={`${id}-message`} readOnly rows={14} value={message} aria-describedby={`${id}-copy`} />
        <span className="actions">
          <button type="button" className="secondary" onClick={copy}>
            Copy the message
          </button>
          <span id={`${id}-copy`} className="muted" aria-live="polite">
            {copied === 'yes'
              ? 'Copied.'
              : copied === 'no'
                ? 'This browser did not allow copying: select the text and copy it.'
                : 'Send it by e-mail or chat; it holds no secret.'}
          </span>
        </span>
      </div>
    </section>
  );
}
