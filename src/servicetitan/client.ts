import type { z } from 'zod';
import { createOidcTokenFetcher } from './auth.js';
import { defaultBackoff } from './backoff.js';
import { type BreakerState, type CircuitBreaker, createCircuitBreaker } from './circuit-breaker.js';
import { type ConnectionTestResult, runConnectionTest } from './connection-test.js';
import { InvalidAppKey, ServiceTitanConfigError } from './errors.js';
import { createHttpExecutor, type TenantContext } from './http.js';
import {
  fetchExportPage,
  type ListPaginationOptions,
  type PageFetcher,
  paginateExport,
  paginateList,
} from './paginate.js';
import { createSharedRateLimiter, rateBudgetKey } from './rate-budget.js';
import { createRateLimiterRegistry, type RateLimiter } from './rate-limiter.js';
import {
  modulePath,
  type RecordOf,
  type StreamDefinition,
  type StreamName,
  streamNames,
  streams,
} from './streams/index.js';
import { createTokenCache } from './token-cache.js';
import { createUndiciTransport, fetchTransport } from './transport.js';
import type {
  ExportPage,
  ListPage,
  ServiceTitanClientOptions,
  ServiceTitanEnvironment,
  TenantCredential,
} from './types.js';
import { requireSecureBaseUrl, trimBase } from './url-policy.js';

export interface ExportPagesOptions {
  /** A previous `continueFrom`, or a date such as "2020-01-01"; absent = from the beginning. */
  from?: string;
  includeRecentChanges?: boolean;
  signal?: AbortSignal;
}

export type ListPagesOptions = ListPaginationOptions;

export interface TenantApi {
  readonly tenantId: string;
  readonly environment: ServiceTitanEnvironment;
  exportPages<S extends StreamName>(
    stream: S,
    opts?: ExportPagesOptions,
  ): AsyncIterable<ExportPage<RecordOf<S>>>;
  /** One page of the export feed, without reading ahead (the feed's first page when `from` is absent). */
  exportPage<S extends StreamName>(stream: S, opts?: ExportPagesOptions): Promise<ExportPage<RecordOf<S>>>;
  listPages<S extends StreamName>(stream: S, opts?: ListPagesOptions): AsyncIterable<ListPage<RecordOf<S>>>;
  testConnection(opts?: { signal?: AbortSignal }): Promise<ConnectionTestResult>;
  /**
   * Has the tenant's access token ready: fetched now, unless a fresh one is cached. Requests sent
   * after it do not wait for the token (a planner timing the server's round trip needs that).
   */
  authorize(opts?: { signal?: AbortSignal }): Promise<void>;
  /**
   * How many records the list endpoint holds (in a modifiedOn window when given): one request,
   * page 1 of size 1 with `includeTotal`. Null when the API gives no total.
   */
  countRecords(
    stream: StreamName,
    opts?: {
      modifiedOnOrAfter?: string;
      modifiedBefore?: string;
      signal?: AbortSignal;
      /** Called with the request's time from sending to the answer's headers, in ms. */
      onAnswered?: (ms: number) => void;
    },
  ): Promise<number | null>;
}

export interface ServiceTitanClientStats {
  /** HTTP requests sent to the API (retries included). */
  apiRequests: number;
  /** Requests sent to the token endpoint. */
  tokenRequests: number;
}

export interface ServiceTitanClient {
  /** Cheap: tenants with the same credential share the token cache and the rate limiter. */
  tenant(cred: TenantCredential): TenantApi;
  stats(): ServiceTitanClientStats;
  /** The circuit breaker of each environment (this process's view). */
  breakerStates(): Record<ServiceTitanEnvironment, BreakerState>;
  /** Aborts every request in flight; later calls fail. */
  close(): void;
}

const environments: ServiceTitanEnvironment[] = ['integration', 'production'];

/** The streams table is heterogeneous; this recovers one entry's precise record type. */
function definitionOf<S extends StreamName>(stream: S): StreamDefinition<z.ZodType<RecordOf<S>>> {
  return streams[stream] as unknown as StreamDefinition<z.ZodType<RecordOf<S>>>;
}

export function createServiceTitanClient(opts: ServiceTitanClientOptions): ServiceTitanClient {
  // A blank key would be sent as an empty header, which the API reads as a missing one.
  if (!opts.appKey?.trim()) throw new InvalidAppKey(true, { where: 'configuration' });
  const bases = Object.fromEntries(
    environments.map((env) => {
      const endpoints = opts.environments[env];
      requireSecureBaseUrl(endpoints.authUrl, `ServiceTitan ${env} auth URL`);
      return [env, trimBase(requireSecureBaseUrl(endpoints.apiUrl, `ServiceTitan ${env} API URL`))];
    }),
  ) as Record<ServiceTitanEnvironment, string>;

  const now = opts.now ?? Date.now;
  const transport = opts.fetch ? fetchTransport(opts.fetch) : createUndiciTransport();
  const timeoutMs = opts.requestTimeoutMs ?? 100_000;
  const maxAttempts = opts.maxAttempts ?? 8;
  const backoff = opts.backoff ?? defaultBackoff;
  const closing = new AbortController();
  const breakers = Object.fromEntries(
    environments.map((environment) => [
      environment,
      createCircuitBreaker({
        environment,
        failureThreshold: opts.breaker?.failureThreshold ?? 10,
        cooldownMs: opts.breaker?.cooldownMs ?? 60_000,
        now,
        onTransition: (transition) => {
          opts.logger?.[transition.state === 'closed' ? 'info' : 'warn'](
            { ...transition },
            `servicetitan ${environment} circuit breaker ${transition.state}`,
          );
          opts.observer?.breakerTransition?.(transition);
        },
      }),
    ]),
  ) as Record<ServiceTitanEnvironment, CircuitBreaker>;

  const ratePerSecond = (opts.rateLimitPerSecond ?? 60) * (opts.rateLimitTarget ?? 0.95);
  const localLimiters = createRateLimiterRegistry({ ratePerSecond, burst: opts.rateLimitBurst, now });
  const sharedLimiters = new Map<string, RateLimiter>();
  const limiterOf = (cred: TenantCredential): RateLimiter => {
    const key = rateBudgetKey(opts.appKey, cred.environment, cred.tenantId);
    const store = opts.rateBudget;
    if (!store) return localLimiters.get(key);
    let limiter = sharedLimiters.get(key);
    if (!limiter) {
      // Processes wake from their slots' sleeps with more jitter than one process's timers, and a
      // late request lands in the next second beside on-time ones: a wider margin (90 %). Requests
      // may start together (readers asking after their round trips go at once): at most 90 % of
      // the server's limit in any second, and at most the limit in any 1/0.9 s, so a request
      // late by up to 0.11 s still lands in a second of its own, and a later one rarely meets a
      // full second.
      const limit = opts.rateLimitPerSecond ?? 60;
      const shared = Math.min(ratePerSecond, limit * 0.9);
      limiter = createSharedRateLimiter({
        store,
        key,
        limits: {
          ratePerSecond: shared,
          minRatePerSecond: Math.min(1, shared),
          recoveryMs: 10_000,
          burst: Math.max(1, Math.floor(shared / 0.9 + 1e-9)),
        },
      });
      sharedLimiters.set(key, limiter);
    }
    return limiter;
  };
  const tokens = createTokenCache({
    now,
    fetchToken: createOidcTokenFetcher({
      authUrlOf: (cred) => opts.environments[cred.environment].authUrl,
      timeoutMs: Math.min(timeoutMs, 30_000),
      maxAttempts,
      backoff,
      fetch: opts.fetch,
      logger: opts.logger,
      now,
      random: opts.random,
    }),
  });
  const http = createHttpExecutor({
    appKey: opts.appKey,
    get: transport.get,
    timeoutMs,
    maxAttempts,
    maxElapsedMs: opts.maxElapsedMs ?? 5 * 60_000,
    backoff,
    logger: opts.logger,
    now,
    random: opts.random,
    observer: opts.observer,
  });

  const withClose = (signal: AbortSignal | undefined) => {
    closing.signal.throwIfAborted();
    return signal ? AbortSignal.any([signal, closing.signal]) : closing.signal;
  };

  return {
    tenant(cred) {
      if (!/^\d{1,19}$/.test(cred.tenantId)) {
        throw new ServiceTitanConfigError(
          `The ServiceTitan tenant ID must be a number; got "${cred.tenantId}".`,
        );
      }
      if (!environments.includes(cred.environment)) {
        throw new ServiceTitanConfigError(`Unknown ServiceTitan environment "${String(cred.environment)}".`);
      }
      const ctx: TenantContext = {
        cred,
        apiBase: bases[cred.environment],
        limiter: limiterOf(cred),
        tokens,
        breaker: breakers[cred.environment],
      };
      const fetcherFor =
        (stream: StreamName, kind: 'export' | 'list'): PageFetcher =>
        (query, { signal, giveUpOn, onAnswered }) =>
          http.getJson(ctx, modulePath(streams[stream], cred.tenantId, kind), query, {
            module: streams[stream].module,
            signal: withClose(signal),
            giveUpOn,
            onAnswered,
          });

      return {
        tenantId: cred.tenantId,
        environment: cred.environment,
        exportPages(stream, options = {}) {
          return paginateExport(definitionOf(stream), fetcherFor(stream, 'export'), options);
        },
        exportPage(stream, { signal, ...options } = {}) {
          return fetchExportPage(definitionOf(stream), fetcherFor(stream, 'export'), {
            ...options,
            signal: signal ?? new AbortController().signal,
          });
        },
        listPages(stream, options = {}) {
          return paginateList(definitionOf(stream), fetcherFor(stream, 'list'), options);
        },
        async countRecords(stream, { modifiedOnOrAfter, modifiedBefore, signal, onAnswered } = {}) {
          const body = await fetcherFor(stream, 'list')(
            {
              ...streams[stream].listParams,
              modifiedOnOrAfter,
              modifiedBefore,
              page: '1',
              pageSize: '1',
              includeTotal: 'true',
            },
            { signal: signal ?? new AbortController().signal, onAnswered },
          );
          const total = (body as { totalCount?: unknown } | null)?.totalCount;
          return typeof total === 'number' && Number.isInteger(total) ? total : null;
        },
        async authorize({ signal } = {}) {
          await tokens.get(cred, { signal: withClose(signal) });
        },
        testConnection({ signal } = {}) {
          return runConnectionTest(
            {
              streamNames,
              moduleOf: (stream) => streams[stream].module,
              getToken: (s) => tokens.get(cred, { signal: withClose(s) }),
              probe: (stream, s) =>
                http.getJson(
                  ctx,
                  modulePath(streams[stream], cred.tenantId, 'list'),
                  { ...streams[stream].listParams, page: '1', pageSize: '1' },
                  {
                    module: streams[stream].module,
                    signal: withClose(s),
                    maxAttempts: 3,
                    maxElapsedMs: 20_000,
                  },
                ),
            },
            signal,
          );
        },
      };
    },
    breakerStates: () =>
      Object.fromEntries(environments.map((e) => [e, breakers[e].state()])) as Record<
        ServiceTitanEnvironment,
        BreakerState
      >,
    stats: () => ({ apiRequests: http.requestCount(), tokenRequests: tokens.fetchCount() }),
    close() {
      closing.abort(new DOMException('ServiceTitan client closed', 'AbortError'));
      transport.close();
    },
  };
}
