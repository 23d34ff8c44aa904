import * as oidc from 'openid-client';
import type { Logger } from '../logger.js';
import { type BackoffOptions, defaultBackoff, nextDelay, sleep } from './backoff.js';
import {
  InvalidCredentials,
  RateLimited,
  ServiceTitanConfigError,
  ServiceTitanError,
  ServiceTitanUnavailable,
} from './errors.js';
import { parseRetryAfter } from './retry-after.js';
import type { AccessToken, TokenFetcher } from './token-cache.js';
import type { TenantCredential } from './types.js';
import { requireSecureBaseUrl, trimBase } from './url-policy.js';

export interface OidcTokenFetcherOptions {
  authUrlOf: (cred: TenantCredential) => string;
  timeoutMs: number;
  maxAttempts: number;
  backoff?: BackoffOptions;
  fetch?: typeof fetch;
  logger?: Logger;
  now?: () => number;
  random?: () => number;
}

/**
 * Client-credentials grant through openid-client, with our retry policy around it: the token
 * endpoint is throttled too, so 429/5xx/network failures are retried with backoff; a refusal of
 * the credential fails at once with InvalidCredentials.
 */
export function createOidcTokenFetcher(options: OidcTokenFetcherOptions): TokenFetcher {
  const now = options.now ?? Date.now;
  return async (cred) => {
    const base = requireSecureBaseUrl(options.authUrlOf(cred), `ServiceTitan ${cred.environment} auth URL`);
    const authUrl = trimBase(base);
    const config = new oidc.Configuration(
      { issuer: authUrl, token_endpoint: `${authUrl}/connect/token` },
      cred.clientId,
      { client_secret: cred.clientSecret },
      oidc.ClientSecretPost(cred.clientSecret),
    );
    if (base.protocol === 'http:') oidc.allowInsecureRequests(config);
    config.timeout = Math.max(1, Math.ceil(options.timeoutMs / 1000));
    if (options.fetch) config[oidc.customFetch] = options.fetch as oidc.CustomFetch;

    for (let attempt = 1; ; attempt++) {
      const startedAt = now();
      try {
        const response = await oidc.clientCredentialsGrant(config);
        const expiresIn = typeof response.expires_in === 'number' ? response.expires_in : 900;
        const token: AccessToken = {
          value: response.access_token,
          obtainedAt: startedAt,
          expiresAt: startedAt + expiresIn * 1000,
        };
        options.logger?.debug(
          { environment: cred.environment, tenantId: cred.tenantId, expiresIn },
          'servicetitan token obtained',
        );
        return token;
      } catch (raw) {
        const err = await classifyTokenError(raw);
        if (!err.retryable || attempt >= options.maxAttempts) throw err;
        const delay = nextDelay(attempt, err.retryAfterMs, options.backoff ?? defaultBackoff, options.random);
        options.logger?.warn(
          { tenantId: cred.tenantId, attempt, delayMs: delay, code: err.code, status: err.status },
          'servicetitan token request failed; retrying',
        );
        await sleep(delay);
      }
    }
  };
}

/** Maps what openid-client throws onto our error classes (aborts are rethrown). Never includes the secret. */
export async function classifyTokenError(err: unknown): Promise<ServiceTitanError> {
  if (err instanceof ServiceTitanError) return err;
  if (err instanceof oidc.ResponseBodyError) {
    return classifyTokenStatus(err.status, err.error, err.response);
  }
  if (err instanceof oidc.WWWAuthenticateChallengeError) {
    return new InvalidCredentials({ status: err.status, error: 'www_authenticate_challenge' });
  }
  if (err instanceof oidc.ClientError) {
    const cause: unknown = err.cause;
    if (cause instanceof Response) {
      return classifyTokenStatus(cause.status, undefined, cause, await safeText(cause));
    }
    if (err.code === 'OAUTH_TIMEOUT') {
      return new ServiceTitanUnavailable(
        'timeout',
        'The ServiceTitan token endpoint did not answer in time.',
        {},
        { cause: err },
      );
    }
    if (err.code === 'OAUTH_ABORT') throw abortError(err);
    if (err.code === 'OAUTH_HTTP_REQUEST_FORBIDDEN') {
      return new ServiceTitanConfigError('The ServiceTitan auth URL must use https://.');
    }
    // Not JSON, unparsable or incomplete body on a 200: transient (truncated) more often than not.
    return new ServiceTitanUnavailable(
      'token_endpoint',
      `The ServiceTitan token endpoint sent an unusable response (${err.message}).`,
      { clientErrorCode: err.code },
      { cause: err },
    );
  }
  if (err instanceof Error && err.name === 'AbortError') throw err;
  return new ServiceTitanUnavailable(
    'network',
    `Could not reach the ServiceTitan token endpoint (${describeNetworkError(err)}).`,
    {},
    { cause: err },
  );
}

function classifyTokenStatus(
  status: number,
  oauthError: string | undefined,
  response: Response | undefined,
  bodyText?: string,
): ServiceTitanError {
  if (
    oauthError === 'invalid_client' ||
    oauthError === 'unauthorized_client' ||
    oauthError === 'invalid_grant' ||
    status === 400 ||
    status === 401 ||
    status === 403
  ) {
    return new InvalidCredentials({ status, error: oauthError });
  }
  if (status === 429) {
    return new RateLimited(parseRetryAfter(response?.headers.get('retry-after'), bodyText), {
      status,
      endpoint: 'token',
    });
  }
  if (status === 404) {
    return new ServiceTitanConfigError(
      'The ServiceTitan token endpoint answered 404: check the configured auth URL of this environment.',
      { status },
    );
  }
  return new ServiceTitanUnavailable(
    'token_endpoint',
    `The ServiceTitan token endpoint answered HTTP ${status}.`,
    {
      status,
      retryAfterMs: parseRetryAfter(response?.headers.get('retry-after'), bodyText),
    },
  );
}

async function safeText(response: Response): Promise<string | undefined> {
  try {
    return response.bodyUsed ? undefined : (await response.text()).slice(0, 4096);
  } catch {
    return undefined;
  }
}

function abortError(cause: unknown): Error {
  return Object.assign(new Error('The operation was aborted', { cause }), { name: 'AbortError' });
}

/** "fetch failed" hides the useful part (ECONNRESET, ECONNREFUSED, ...) in its cause. */
export function describeNetworkError(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current && depth < 4; depth++) {
    if (current instanceof Error) {
      const code = (current as { code?: unknown }).code;
      parts.push(typeof code === 'string' ? `${current.message} [${code}]` : current.message);
      current = current.cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join(': ') || 'unknown error';
}
