import type { Logger } from '../logger.js';
import type { BreakerTransition } from './circuit-breaker.js';
import type { RateBudgetStore } from './rate-budget.js';

export type ServiceTitanEnvironment = 'integration' | 'production';

export interface ServiceTitanEndpoints {
  /** e.g. https://auth.servicetitan.io (the token endpoint is `${authUrl}/connect/token`). */
  authUrl: string;
  /** e.g. https://api.servicetitan.io */
  apiUrl: string;
}

export interface ServiceTitanClientOptions {
  /** The application's key, sent as `ST-App-Key`: one for every tenant and environment. */
  appKey: string;
  environments: Record<ServiceTitanEnvironment, ServiceTitanEndpoints>;
  /** Requests per second per (app key, tenant). Default 60, ServiceTitan's documented limit. */
  rateLimitPerSecond?: number;
  /** Requests that may start back to back; default 1 (smooth spacing). In-process limiter only. */
  rateLimitBurst?: number;
  /**
   * Where each tenant's budget is kept when several processes call ServiceTitan (workers, the
   * API): requests of all of them together stay within `rateLimitPerSecond`. Without it, each
   * client limits only its own requests.
   */
  rateBudget?: RateBudgetStore;
  /**
   * Fraction of the limit we actually aim for, so that network jitter never pushes a sliding
   * one-second window over the limit. Default 0.95 (57 req/s of 60).
   */
  rateLimitTarget?: number;
  /** Per HTTP request, headers and body included. Default 100 s (the server's own timeout). */
  requestTimeoutMs?: number;
  /** Attempts per request, the first included. Default 8. */
  maxAttempts?: number;
  /** Give up retrying a request once this much time has passed since its first attempt. Default 5 min. */
  maxElapsedMs?: number;
  /** Backoff scale: first retry waits up to baseMs, doubling up to maxMs. Default 250 ms / 20 s. */
  backoff?: { baseMs: number; maxMs: number };
  logger?: Logger;
  /**
   * Per environment: consecutive 5xx/timeouts/network failures that open the circuit breaker
   * (0 = never), and how long it stays open before one probe. Default 10 and 60 s.
   */
  breaker?: { failureThreshold: number; cooldownMs: number };
  /** Told of every request, retry and breaker transition (the metrics; src/metrics). */
  observer?: ServiceTitanObserver;
  /** Injectable for unit tests only. */
  fetch?: typeof fetch;
  /** Injectable clock for unit tests. */
  now?: () => number;
  random?: () => number;
}

/**
 * What the client reports as it works. `endpoint` is the path template (the tenant id replaced by
 * `{tenant}`, no query): never an id or a value.
 */
export interface ServiceTitanObserver {
  request?(event: {
    environment: ServiceTitanEnvironment;
    endpoint: string;
    /** The HTTP status, or `timeout` / `network` / `circuit_open` when there was none. */
    status: string;
    seconds: number;
  }): void;
  /** How long a request waited for its slot in the tenant's request budget, reservation included. */
  budgetWait?(event: { environment: ServiceTitanEnvironment; endpoint: string; seconds: number }): void;
  retry?(event: { environment: ServiceTitanEnvironment; endpoint: string; reason: string }): void;
  breakerTransition?(transition: BreakerTransition): void;
}

export interface TenantCredential {
  environment: ServiceTitanEnvironment;
  /** int64, kept as a string. */
  tenantId: string;
  clientId: string;
  clientSecret: string;
}

/** A record that failed its stream's schema: stored as skipped by the caller, never dropped silently. */
export interface InvalidRecord {
  id?: unknown;
  reason: string;
  raw: unknown;
}

export interface ExportPage<T> {
  records: T[];
  invalid: InvalidRecord[];
  /** Token to resume after this page (persist it with the page's data). */
  continueFrom: string;
  hasMore: boolean;
  /**
   * The page is stored and its records no longer needed: the buffer its body was read into may
   * be reused (see page-buffers). Optional to call; the records' JSON texts read as empty after it.
   */
  release?(): void;
}

export interface ListPage<T> {
  records: T[];
  invalid: InvalidRecord[];
  /** The page number this page was fetched as, at `pageSize`. */
  page: number;
  /** Page size actually used (drops from 5000 to 1000 when big pages come back truncated). */
  pageSize: number;
  hasMore: boolean;
}
