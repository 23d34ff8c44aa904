import { AppError } from '../errors.js';

/**
 * Every failure the ServiceTitan client surfaces is one of these. `retryable` tells a caller
 * (a Temporal activity) whether trying again later can help; `retryAfterMs` is the server's
 * own hint when it gave one.
 */
export abstract class ServiceTitanError extends AppError {
  abstract readonly retryable: boolean;
  readonly retryAfterMs: number | undefined = undefined;
  /** HTTP status of the response that caused the error, when there was one. */
  readonly status: number | undefined;

  constructor(
    code: string,
    message: string,
    details: Record<string, unknown> & { status?: number } = {},
    options?: ErrorOptions,
  ) {
    super(code, message, details, options);
    this.status = details.status;
  }
}

/** The token endpoint refused the client id/secret (`invalid_client`, 400/401). */
export class InvalidCredentials extends ServiceTitanError {
  readonly retryable = false;
  constructor(details: Record<string, unknown> & { status?: number } = {}, options?: ErrorOptions) {
    super(
      'servicetitan_invalid_credentials',
      'ServiceTitan rejected the client ID / client secret. Check that both were copied from ServiceTitan ' +
        '(Settings > Integrations > API Application Access) for the right environment and tenant, and ' +
        'generate a new secret if in doubt.',
      details,
      options,
    );
  }
}

/** A token is issued but the tenant has not (or no longer) approved our application. */
export class AppNotApproved extends ServiceTitanError {
  readonly retryable = false;
  constructor(details: Record<string, unknown> & { status?: number } = {}, options?: ErrorOptions) {
    super(
      'servicetitan_app_not_approved',
      'The ServiceTitan tenant has not approved this application yet. A ServiceTitan administrator must ' +
        'approve it in ServiceTitan under Settings > Integrations > API Application Access; the sync ' +
        'starts working as soon as it is approved.',
      details,
      options,
    );
  }
}

/** 403 on one module (e.g. Accounting) that the tenant has not licensed: skip that stream. */
export class ModuleNotLicensed extends ServiceTitanError {
  readonly retryable = false;
  constructor(
    readonly module: string,
    details: Record<string, unknown> & { status?: number } = {},
    options?: ErrorOptions,
  ) {
    super(
      'servicetitan_module_not_licensed',
      `The ServiceTitan tenant has no access to the "${module}" module (not licensed, or not granted to ` +
        'this application). Its data is skipped; ask ServiceTitan or the tenant administrator to enable ' +
        `the ${module} API scope if you need it.`,
      { ...details, module },
      options,
    );
  }
}

/** 400 (and other unexpected 4xx): our request is wrong; retrying cannot help. */
export class BadRequest extends ServiceTitanError {
  readonly retryable = false;
  constructor(
    message: string,
    details: Record<string, unknown> & { status?: number } = {},
    options?: ErrorOptions,
  ) {
    super('servicetitan_bad_request', message, details, options);
  }
}

export class NotFound extends ServiceTitanError {
  readonly retryable = false;
  constructor(path: string, details: Record<string, unknown> & { status?: number } = {}) {
    super(
      'servicetitan_not_found',
      `ServiceTitan answered 404 for ${path}: check the tenant ID (it must be the numeric tenant ID shown ` +
        'in ServiceTitan) and the environment (integration vs production).',
      { ...details, path },
    );
  }
}

/** 429 after our retries ran out. Retry later, after `retryAfterMs` when known. */
export class RateLimited extends ServiceTitanError {
  readonly retryable = true;
  override readonly retryAfterMs: number | undefined;
  constructor(
    retryAfterMs: number | undefined,
    details: Record<string, unknown> & { status?: number } = {},
    options?: ErrorOptions,
  ) {
    super(
      'servicetitan_rate_limited',
      `ServiceTitan rate limit reached${retryAfterMs === undefined ? '' : `; retry after ${Math.ceil(retryAfterMs / 1000)} s`}.`,
      { ...details, retryAfterMs },
      options,
    );
    this.retryAfterMs = retryAfterMs;
  }
}

export type UnavailableReason =
  | 'server_error'
  | 'timeout'
  | 'network'
  | 'invalid_body'
  | 'unauthorized'
  | 'token_endpoint';

/** 5xx, HTML error pages, timeouts, resets, truncated bodies: transient by nature. */
export class ServiceTitanUnavailable extends ServiceTitanError {
  readonly retryable = true;
  override readonly retryAfterMs: number | undefined;
  constructor(
    readonly reason: UnavailableReason,
    message: string,
    details: Record<string, unknown> & { status?: number; retryAfterMs?: number } = {},
    options?: ErrorOptions,
  ) {
    super('servicetitan_unavailable', message, { ...details, reason }, options);
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** The export feed answered `hasMore=true` without moving its continuation token. */
export class PaginationLoop extends ServiceTitanError {
  readonly retryable = false;
  constructor(stream: string, details: Record<string, unknown> = {}) {
    super(
      'servicetitan_pagination_loop',
      `ServiceTitan's ${stream} feed said there is more data but did not advance (loop detected); ` +
        'stopping rather than fetching the same page forever.',
      { ...details, stream },
    );
  }
}

/** The response envelope (not a single record) does not have the documented shape. */
export class ResponseValidation extends ServiceTitanError {
  readonly retryable = false;
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('servicetitan_response_validation', message, details);
  }
}

/** Misconfiguration detected before any request (e.g. plain-http URL to a non-loopback host). */
export class ServiceTitanConfigError extends ServiceTitanError {
  readonly retryable = false;
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('servicetitan_config', message, details);
  }
}

/** True when trying the same call again later may succeed. Unknown errors are retryable. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof ServiceTitanError) return err.retryable;
  if (isAbortError(err)) return false;
  return true;
}

/** The server-advised delay before the next attempt, when the error carries one. */
export function retryAfterMs(err: unknown): number | undefined {
  return err instanceof ServiceTitanError ? err.retryAfterMs : undefined;
}

/** A caller-initiated cancellation (AbortSignal), as opposed to a timeout we imposed. */
export function isAbortError(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}
