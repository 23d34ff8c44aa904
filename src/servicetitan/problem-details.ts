import {
  AppNotApproved,
  BadRequest,
  CredentialForAnotherTenant,
  InvalidAppKey,
  ModuleNotLicensed,
  NotFound,
  RateLimited,
  type ServiceTitanError,
  ServiceTitanUnavailable,
  TokenRejected,
} from './errors.js';
import { parseRetryAfter } from './retry-after.js';

/** The RFC 7807-like error body ServiceTitan sends on 400/403/404/409 (all fields optional here). */
export interface ProblemDetails {
  type?: string;
  title?: string;
  detail?: string;
  status?: number;
  traceId?: string;
  errors?: Record<string, unknown>;
  message?: string;
  /** Some gateways (and the sandbox) put a machine-readable reason in `data.reason`. */
  reason?: string;
}

export function parseProblemDetails(bodyText: string | undefined): ProblemDetails | undefined {
  if (!bodyText) return undefined;
  try {
    const parsed: unknown = JSON.parse(bodyText);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const o = parsed as Record<string, unknown>;
      const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
      return {
        type: str(o.type),
        title: str(o.title) ?? str(o.Title),
        detail: str(o.detail),
        status: typeof o.status === 'number' ? o.status : undefined,
        traceId: str(o.traceId),
        errors: o.errors && typeof o.errors === 'object' ? (o.errors as Record<string, unknown>) : undefined,
        message: str(o.message) ?? str(o.Message) ?? str(o.error_description),
        reason:
          o.data && typeof o.data === 'object' ? str((o.data as Record<string, unknown>).reason) : undefined,
      };
    }
  } catch {
    // not JSON: an HTML page or plain text
  }
  return undefined;
}

const notLicensedWords = /licens|subscri|not enabled|module|scope|feature/i;
const notApprovedWords =
  /approv|not authori[sz]ed for|application access|app(lication)? (is )?not (connected|installed)|connect(ed)? the app/i;

/**
 * 403 means either "the tenant has not approved the app" or "the tenant has not licensed this
 * module". Only the body tells them apart; we match keywords in type/title/detail/message:
 * "licens"/"subscri"/"module"/"scope" → ModuleNotLicensed, "approv"/"application access" →
 * AppNotApproved. A 403 whose body says neither defaults to AppNotApproved, the loud choice (the
 * whole tenant stops with an actionable message) rather than silently skipping every stream;
 * `details.evidence = 'default'` marks such a guess so the connection test can refine it (a 403 on
 * one stream while another stream works is a module the tenant lacks, not a missing approval).
 */
export function classifyForbidden(
  problem: ProblemDetails | undefined,
  bodyText: string | undefined,
  module: string,
) {
  const text = problem
    ? [problem.reason, problem.title, problem.detail, problem.message, formatValidationErrors(problem.errors)]
        .filter(Boolean)
        .join(' ')
    : (bodyText ?? '').slice(0, 2000);
  const details = { status: 403, title: problem?.title, detail: problem?.detail, traceId: problem?.traceId };
  if (notApprovedWords.test(text)) return new AppNotApproved({ ...details, evidence: 'body' });
  if (notLicensedWords.test(text)) return new ModuleNotLicensed(module, { ...details, evidence: 'body' });
  return new AppNotApproved({ ...details, evidence: 'default' });
}

/** Turns a non-2xx API response into a typed error (the caller decides whether to retry). */
export function classifyApiResponse(input: {
  status: number;
  headers: Headers;
  bodyText: string | undefined;
  path: string;
  module: string;
  now?: number;
}): ServiceTitanError {
  const { status, headers, bodyText, path, module } = input;
  const problem = parseProblemDetails(bodyText);
  const retryAfter = parseRetryAfter(headers.get('retry-after'), bodyText, input.now);
  if (status === 429) return new RateLimited(retryAfter, { status, path });
  if (status >= 500 || status === 408) {
    const html = /^\s*</.test(bodyText ?? '');
    return new ServiceTitanUnavailable(
      status === 408 ? 'timeout' : 'server_error',
      `ServiceTitan answered HTTP ${status}${html ? ' (an HTML error page)' : ''} for ${path}.`,
      { status, path, retryAfterMs: retryAfter, traceId: problem?.traceId },
    );
  }
  if (status === 403) return classifyForbidden(problem, bodyText, module);
  if (status === 401) return classifyUnauthorized(problem, bodyText, headers, path);
  if (status === 404) return new NotFound(path, { status, title: problem?.title, traceId: problem?.traceId });
  const summary = [problem?.title, problem?.detail, formatValidationErrors(problem?.errors)]
    .filter(Boolean)
    .join(' ');
  return new BadRequest(
    `ServiceTitan rejected the request to ${path} (HTTP ${status})${summary ? `: ${summary}` : '.'}`,
    { status, path, title: problem?.title, errors: problem?.errors, traceId: problem?.traceId },
  );
}

/**
 * A 401 says which of our three credentials failed; its body tells them apart (ServiceTitan does
 * not specify 401 bodies, so we match the reason/title words gateways use):
 * - the app key (ST-App-Key): our configuration → InvalidAppKey;
 * - a token "not valid for tenant": the client id belongs to another tenant → CredentialForAnotherTenant;
 * - an expired/revoked/invalid token → TokenRejected (the caller refreshes once before believing it);
 * - anything else is what an unapproved app looks like (ServiceTitan issues tokens before
 *   approval, API-NOTES) → AppNotApproved, `evidence: 'status_401'` when the body said nothing.
 */
function classifyUnauthorized(
  problem: ProblemDetails | undefined,
  bodyText: string | undefined,
  headers: Headers,
  path: string,
): ServiceTitanError {
  const text = problem
    ? [problem.reason, problem.title, problem.detail, problem.message].filter(Boolean).join(' ')
    : (bodyText ?? '').slice(0, 2000);
  const details = {
    status: 401,
    path,
    title: problem?.title,
    reason: problem?.reason,
    traceId: problem?.traceId,
  };
  if (/app[- ]?key/i.test(text)) {
    return new InvalidAppKey(
      /missing|no app|not (been )?(sent|provided|supplied)|required/i.test(text),
      details,
    );
  }
  if (/TenantMismatch|not valid for (the )?tenant|another tenant|tenant mismatch/i.test(text)) {
    return new CredentialForAnotherTenant(/\/tenant\/(\d+)(\/|$)/.exec(path)?.[1], details);
  }
  if (notApprovedWords.test(text)) return new AppNotApproved({ ...details, evidence: 'body' });
  const challenge = headers.get('www-authenticate') ?? '';
  if (/token/i.test(text) || /invalid_token/i.test(challenge)) {
    const reason = /expired/i.test(text) ? 'expired' : /revoked/i.test(text) ? 'revoked' : 'invalid';
    return new TokenRejected(reason, details);
  }
  return new AppNotApproved({ ...details, evidence: 'status_401' });
}

/**
 * Whether a 401 may be a stale token that a fresh one cures: a refused token, or a body that says
 * nothing. A bad app key, another tenant's token or an explicit "not approved" will not change.
 */
export function refreshMayHelp(error: ServiceTitanError): boolean {
  if (error instanceof TokenRejected) return true;
  return error instanceof AppNotApproved && error.details?.evidence === 'status_401';
}

function formatValidationErrors(errors: Record<string, unknown> | undefined): string | undefined {
  if (!errors) return undefined;
  const parts = Object.entries(errors).map(
    ([field, msgs]) => `${field}: ${Array.isArray(msgs) ? msgs.join('; ') : String(msgs)}`,
  );
  return parts.length ? parts.join(', ') : undefined;
}
