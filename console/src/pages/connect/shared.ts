import type { components } from '../../api/schema';

export type Company = components['schemas']['Company'];
export type Credential = components['schemas']['Credential'];
export type ConnectionTest = components['schemas']['ConnectionTest'];
export type SandboxInfo = components['schemas']['Sandbox'];
export type SandboxTenant = SandboxInfo['tenants'][number];
export type SyncRun = components['schemas']['SyncRun'];
export type Environment = Credential['environment'];

/** The fields of the credential form, as the API names them in its validation errors. */
export type Field = 'companyName' | 'timeZone' | 'environment' | 'tenantId' | 'clientId' | 'clientSecret';
export type FieldErrors = Partial<Record<Field, string>>;

/** An error answer of the API: {error, message, details?}. */
export interface ErrorBody {
  error?: string;
  message?: string;
  details?: Record<string, unknown>;
}

/** What each stream is, in words a client administrator knows from ServiceTitan. */
export const streamLabels: Record<string, { label: string; module: string }> = {
  customers: { label: 'Customers', module: 'CRM' },
  customerContacts: { label: 'Customer contacts', module: 'CRM' },
  locations: { label: 'Locations', module: 'CRM' },
  invoices: { label: 'Invoices', module: 'Accounting' },
};

export const streamAccess: Record<string, string> = {
  ok: 'Readable',
  module_not_licensed: 'Not licensed for this tenant: skipped',
  error: 'Could not be read',
};

/** Field errors from a 400 `validation_failed` answer ({issues: [{path: 'body.tenantId', message}]}). */
export function validationErrors(body: ErrorBody, names: Partial<Record<string, Field>>): FieldErrors {
  const issues = (body.details?.issues ?? []) as { path?: string; message?: string }[];
  const out: FieldErrors = {};
  for (const issue of issues) {
    const key = issue.path?.split('.')[1];
    const field = key ? names[key] : undefined;
    if (field && !out[field]) out[field] = issue.message ?? 'is not valid';
  }
  return out;
}

export function errorMessage(body: unknown, status: number): string {
  const b = (body ?? {}) as ErrorBody;
  return typeof b.message === 'string' ? b.message : `The server answered ${status}.`;
}

/** Every IANA time zone this browser knows, with UTC (some browsers leave it out of the list). */
export function timeZones(): string[] {
  const zones = Intl.supportedValuesOf('timeZone');
  return zones.includes('UTC') ? zones : ['UTC', ...zones];
}

export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** A run time in the company's own time zone, e.g. "Mon, Dec 7, 2026, 3:00 AM CST". */
export function inZone(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat(undefined, {
    timeZone,
    weekday: 'short',
    month: 'short',
    day: 'numeric',
    year: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    timeZoneName: 'short',
  }).format(new Date(iso));
}
