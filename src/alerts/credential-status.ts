import type { CredentialStatus } from '../db/entities/index.js';
import { emitEvent } from '../notifications/events.js';
import { linkTo, type TxSql } from './sql.js';

/** What a person does about each status a credential can fall into. */
const advice: Partial<Record<CredentialStatus, string>> = {
  connected: 'Scheduled syncs run again.',
  invalid_credentials:
    'Update the client secret (or client id) in the console and test the connection; scheduled syncs are skipped until a test succeeds.',
  awaiting_approval:
    "Ask the tenant's administrator to approve the application (Settings > Integrations > API Application Access), then test the connection; scheduled syncs are skipped until a test succeeds.",
  unreachable: 'ServiceTitan could not be reached; test the connection again later.',
};

/**
 * Sets a credential's status inside the caller's transaction and, when it really changes between
 * `connected` and a problem (invalid_credentials, awaiting_approval, unreachable), leaves a
 * `credential.status_changed` event. The row is locked first, so two writers never both see the
 * old status and announce the same change twice. `untested` and `disabled` are an operator's own
 * doing (a rotated secret, a disable): set without an event.
 */
export async function setCredentialStatus(
  sql: TxSql,
  input: {
    credentialId: number;
    status: CredentialStatus;
    message: string | null;
    testedAt?: Date;
    publicUrl?: string | undefined;
  },
): Promise<{ changed: boolean; from: CredentialStatus | null }> {
  const [row] = await sql.all<{
    status: CredentialStatus;
    company_id: number;
    company_name: string;
    environment: 'integration' | 'production';
    tenant_id: string;
  }>(
    `select c.status, c.company_id, co.name as company_name, c.environment, c.tenant_id
       from servicetitan_credentials c join companies co on co.id = c.company_id
      where c.id = ? for update of c`,
    [input.credentialId],
  );
  if (!row) return { changed: false, from: null };
  await sql.run(
    `update servicetitan_credentials set status = ?, status_message = ?,
       last_tested_at = coalesce(?::timestamptz, last_tested_at), updated_at = now() where id = ?`,
    [input.status, input.message, input.testedAt ?? null, input.credentialId],
  );
  const from = row.status;
  const to = input.status;
  const watched: CredentialStatus[] = [
    'connected',
    'invalid_credentials',
    'awaiting_approval',
    'unreachable',
  ];
  if (from === to) return { changed: false, from };
  // untested → connected is a first successful test: nothing was wrong, nothing to announce.
  if (!watched.includes(to) || (to === 'connected' && !watched.includes(from)))
    return { changed: true, from };
  const target = `${row.company_name}'s ${row.environment} tenant ${row.tenant_id}`;
  const what =
    to === 'connected'
      ? `The ServiceTitan connection of ${target} works again (was ${from}).`
      : `The ServiceTitan connection of ${target} is now ${to} (was ${from})${input.message ? `: ${input.message}` : ''}.`;
  await emitEvent(sql, {
    type: 'credential.status_changed',
    companyId: row.company_id,
    payload: {
      companyId: row.company_id,
      companyName: row.company_name,
      credentialId: input.credentialId,
      environment: row.environment,
      tenantId: row.tenant_id,
      ...linkTo(input.publicUrl, `/credentials/${input.credentialId}`),
      from,
      to,
      message: `${what} ${advice[to] ?? ''}`.trim(),
    },
  });
  return { changed: true, from };
}

/** Statuses under which a scheduled run does not call ServiceTitan until a connection test succeeds. */
export const authFailureStatuses: readonly CredentialStatus[] = ['invalid_credentials', 'awaiting_approval'];
