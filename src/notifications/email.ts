import nodemailer from 'nodemailer';
import type { EventType } from './events.js';

export interface Mailer {
  send(message: { to: string; subject: string; text: string }): Promise<void>;
  close(): void;
}

/** A nodemailer SMTP transport from SMTP_URL (which holds a password: never log it). */
export function createMailer(options: { smtpUrl: string; from: string }): Mailer {
  const transport = nodemailer.createTransport(options.smtpUrl);
  return {
    async send(message) {
      await transport.sendMail({ from: options.from, ...message });
    },
    close: () => transport.close(),
  };
}

const titles: Record<EventType, string> = {
  'sync.succeeded': 'Sync succeeded',
  'sync.completed_with_warnings': 'Sync completed with warnings',
  'sync.failed': 'Sync failed',
  'credential.status_changed': 'Connection status changed',
  'schedule.auto_paused': 'Schedule paused automatically',
  'data_quality.anomaly': 'Data quality anomaly',
  'freshness.stale': 'Data is stale',
  'company_data.updated': 'Company data updated',
};

/**
 * A plain-text email a person can act on: what happened, to which company and tenant, the
 * event's own message, and the link. Payloads carry ids, names, counts and messages only (the
 * events' contract), and only those fields are printed.
 */
export function renderEmail(
  type: string,
  payload: Record<string, unknown>,
): { subject: string; text: string } {
  const title = titles[type as EventType] ?? type;
  const str = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);
  const company = str(payload.companyName) ?? (str(payload.companyId) ? `company ${payload.companyId}` : '');
  const where = [
    company,
    str(payload.environment),
    str(payload.tenantId) ? `tenant ${payload.tenantId}` : undefined,
  ]
    .filter(Boolean)
    .join(', ');
  const subject = `[servicetitan-sync] ${title}${where ? `: ${where}` : ''}`.slice(0, 300);
  const lines = [
    `${title}${where ? ` (${where})` : ''}.`,
    '',
    ...(str(payload.message) ? [String(payload.message), ''] : []),
    ...(str(payload.syncRunId) ? [`Run: ${payload.syncRunId}`] : []),
    ...(str(payload.credentialId) ? [`Credential: ${payload.credentialId}`] : []),
    ...(str(payload.link) ? [`Link: ${payload.link}`] : []),
    '',
    `Event: ${type}`,
  ];
  return { subject, text: `${lines.join('\n')}\n` };
}
