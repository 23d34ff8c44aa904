import type { Logger } from '../logger.js';
import { describeNetworkError } from './auth.js';
import { type BackoffOptions, defaultBackoff, nextDelay, sleep } from './backoff.js';
import { type CircuitBreaker, countsAgainstBreaker } from './circuit-breaker.js';
import { RateLimited, type ServiceTitanError, ServiceTitanUnavailable } from './errors.js';
import { parseDataPage } from './json-source.js';
import { classifyApiResponse, refreshMayHelp } from './problem-details.js';
import type { RateLimiter } from './rate-limiter.js';
import type { TokenCache } from './token-cache.js';
import type { HttpAnswer, HttpGet } from './transport.js';
import type { ServiceTitanObserver, TenantCredential } from './types.js';

const utf8 = new TextDecoder();

export interface TenantContext {
  cred: TenantCredential;
  /** API base without trailing slash. */
  apiBase: string;
  limiter: RateLimiter;
  tokens: TokenCache;
  /** The breaker of the credential's environment (shared by every tenant of it). */
  breaker: CircuitBreaker;
}

export interface HttpExecutorOptions {
  appKey: string;
  get: HttpGet;
  timeoutMs: number;
  maxAttempts: number;
  maxElapsedMs: number;
  backoff?: BackoffOptions;
  logger?: Logger;
  now?: () => number;
  random?: () => number;
  observer?: ServiceTitanObserver;
}

/** The path as a label: the tenant id replaced by `{tenant}`, so no id reaches the metrics. */
export function endpointOf(path: string, tenantId: string): string {
  return path.replace(`/tenant/${encodeURIComponent(tenantId)}`, '/tenant/{tenant}');
}

export interface GetJsonOptions {
  /** The API module the path belongs to (crm, accounting): named in ModuleNotLicensed. */
  module: string;
  signal?: AbortSignal;
  maxAttempts?: number;
  maxElapsedMs?: number;
  /** Return true to stop retrying this error at once (e.g. to fall back to a smaller page). */
  giveUpOn?: (err: ServiceTitanError) => boolean;
  /**
   * Called with the answered attempt's time from sending to the response's headers, in ms: the
   * server's distance, without the wait for the budget's slot or the time to read and parse the
   * body.
   */
  onAnswered?: (ms: number) => void;
}

export interface HttpExecutor {
  getJson(
    ctx: TenantContext,
    path: string,
    query: Record<string, string | undefined>,
    options: GetJsonOptions,
  ): Promise<unknown>;
  /** HTTP requests sent so far (attempts included). */
  requestCount(): number;
}

/**
 * One GET with everything around it: rate limit slot, bearer token, per-request timeout,
 * retries with backoff on retryable failures, one token refresh on 401, typed errors.
 */
export function createHttpExecutor(options: HttpExecutorOptions): HttpExecutor {
  const now = options.now ?? Date.now;
  const backoff = options.backoff ?? defaultBackoff;
  let requests = 0;

  async function attemptOnce(
    url: string,
    path: string,
    token: string,
    module: string,
    signal: AbortSignal | undefined,
    report: (status: string) => void,
  ): Promise<
    | { ok: true; body: unknown; headersMs: number }
    | { ok: false; unauthorized: true; error: ServiceTitanError }
    | { ok: false; error: ServiceTitanError }
  > {
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let response: HttpAnswer;
    let bytes: Uint8Array;
    let phase: 'connect' | 'body' = 'connect';
    let headersMs = 0;
    try {
      requests++;
      const sentAt = performance.now();
      response = await options.get(url, {
        headers: {
          Authorization: `Bearer ${token}`,
          'ST-App-Key': options.appKey,
          Accept: 'application/json',
        },
        signal: combined,
      });
      headersMs = performance.now() - sentAt;
      phase = 'body';
      bytes = await response.bytes();
      report(String(response.status));
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      report(timeout.aborted ? 'timeout' : 'network');
      if (timeout.aborted) {
        return {
          ok: false,
          error: new ServiceTitanUnavailable(
            'timeout',
            `ServiceTitan did not answer ${path} within ${Math.round(options.timeoutMs / 1000)} s.`,
            { path },
            { cause: err },
          ),
        };
      }
      return {
        ok: false,
        error: new ServiceTitanUnavailable(
          phase === 'body' ? 'invalid_body' : 'network',
          `${phase === 'body' ? 'The response body of' : 'The request to'} ${path} was cut off (${describeNetworkError(err)}).`,
          { path, phase },
          { cause: err },
        ),
      };
    }
    if (response.status >= 200 && response.status < 300) {
      // A page is parsed record by record from its bytes (see parseDataPage), keeping each
      // record's text; any other body is decoded and parsed whole below.
      const page = parseDataPage(bytes);
      if (page) return { ok: true, body: page.body, headersMs };
    }
    // As Response.text() decodes: UTF-8, a byte-order mark dropped, bad bytes replaced.
    const bodyText = utf8.decode(bytes);
    if (response.status === 401) {
      // The body is what tells a bad app key, another tenant's token, a stale token and an
      // unapproved app apart: classify it now, while we still have it.
      return {
        ok: false,
        unauthorized: true,
        error: classifyApiResponse({ status: 401, headers: response.headers, bodyText, path, module }),
      };
    }
    if (response.status >= 200 && response.status < 300) {
      try {
        const body: unknown = JSON.parse(bodyText);
        return { ok: true, body, headersMs };
      } catch (err) {
        return {
          ok: false,
          error: new ServiceTitanUnavailable(
            'invalid_body',
            `ServiceTitan sent an incomplete or non-JSON body for ${path} (HTTP ${response.status}, ${bodyText.length} chars).`,
            { path, status: response.status, contentType: response.headers.get('content-type') },
            { cause: err },
          ),
        };
      }
    }
    return {
      ok: false,
      error: classifyApiResponse({
        status: response.status,
        headers: response.headers,
        bodyText,
        path,
        module,
        now: now(),
      }),
    };
  }

  return {
    requestCount: () => requests,
    async getJson(ctx, path, query, getOptions) {
      const { signal, module } = getOptions;
      const maxAttempts = getOptions.maxAttempts ?? options.maxAttempts;
      const maxElapsedMs = getOptions.maxElapsedMs ?? options.maxElapsedMs;
      const url = buildUrl(ctx.apiBase, path, query);
      const startedAt = now();
      const environment = ctx.cred.environment;
      const endpoint = endpointOf(path, ctx.cred.tenantId);
      const observer = options.observer;
      let rejectedToken: string | undefined;
      let refreshedAfter401 = false;

      for (let attempt = 1; ; attempt++) {
        // An open breaker fails the request before it costs a token or a rate-limit slot.
        ctx.breaker.check();
        // Token first: a slot taken while waiting for a token would be spent late, in a bunch
        // with the other waiters', and the server's sliding window would see a burst.
        const token = await ctx.tokens.get(ctx.cred, { signal, reject: rejectedToken });
        const queuedAt = performance.now();
        await ctx.limiter.acquire(signal);
        observer?.budgetWait?.({ environment, endpoint, seconds: (performance.now() - queuedAt) / 1000 });
        ctx.breaker.admit();
        const sentAt = performance.now();
        const report = (status: string) =>
          observer?.request?.({
            environment,
            endpoint,
            status,
            seconds: (performance.now() - sentAt) / 1000,
          });
        let outcome: Awaited<ReturnType<typeof attemptOnce>>;
        try {
          outcome = await attemptOnce(url, path, token, module, signal, report);
        } catch (err) {
          ctx.breaker.onAbandon();
          throw err;
        }
        if (outcome.ok) {
          ctx.breaker.onSuccess();
          getOptions.onAnswered?.(outcome.headersMs);
          return outcome.body;
        }
        if (countsAgainstBreaker(outcome.error)) ctx.breaker.onFailure();
        else if (outcome.error instanceof RateLimited || outcome.error.status === undefined)
          // A 429 or a cut-off body says nothing of the server's health: the probe slot is freed.
          ctx.breaker.onAbandon();
        else ctx.breaker.onSuccess();

        if ('unauthorized' in outcome) {
          if (!refreshedAfter401 && refreshMayHelp(outcome.error)) {
            // The token expired early or was revoked: fetch a new one and retry with it at once.
            refreshedAfter401 = true;
            rejectedToken = token;
            options.logger?.info(
              { tenantId: ctx.cred.tenantId, path, code: outcome.error.code },
              'servicetitan 401; refreshing token',
            );
            observer?.retry?.({ environment, endpoint, reason: 'token_refresh' });
            continue;
          }
          throw outcome.error;
        }

        const error = outcome.error;
        if (error instanceof RateLimited) ctx.limiter.onThrottled(error.retryAfterMs);
        if (!error.retryable || getOptions.giveUpOn?.(error)) throw error;
        // This failure opened the breaker: stop here rather than retry into it.
        ctx.breaker.check();
        const delay = nextDelay(attempt, error.retryAfterMs, backoff, options.random);
        const elapsed = now() - startedAt;
        if (attempt >= maxAttempts || elapsed + delay > maxElapsedMs) {
          options.logger?.warn(
            { tenantId: ctx.cred.tenantId, path, attempts: attempt, code: error.code, status: error.status },
            'servicetitan request failed; giving up',
          );
          throw error;
        }
        options.logger?.debug(
          {
            tenantId: ctx.cred.tenantId,
            path,
            attempt,
            delayMs: delay,
            code: error.code,
            status: error.status,
          },
          'servicetitan request failed; retrying',
        );
        observer?.retry?.({
          environment,
          endpoint,
          reason: error instanceof RateLimited ? 'rate_limited' : retryReason(error),
        });
        await sleep(delay, signal);
      }
    },
  };
}

const retryReason = (error: ServiceTitanError): string =>
  error instanceof ServiceTitanUnavailable ? error.reason : error.code;

export function buildUrl(base: string, path: string, query: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, v);
  const qs = params.toString();
  return `${base}${path}${qs ? `?${qs}` : ''}`;
}
