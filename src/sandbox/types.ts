/** The sandbox's public types (re-exported by index.ts). */
import type { Hold, HoldSpec } from './gate.js';
import type { SandboxStream } from './records.js';
import type { ReportDifferences, ReportExportKind } from './report-export.js';

export type { Hold, HoldSpec, SandboxStream };

export type SandboxEnvironment = 'integration' | 'production';

export interface SandboxTenantOptions {
  tenantId: number;
  /** Default: derived deterministically from tenantId. */
  clientId?: string;
  clientSecret?: string;
  /** Default 'integration'. */
  environment?: SandboxEnvironment;
  /** Default: the sandbox seed. */
  seed?: number;
  /** Number of customers at the start time (locations = customers, contacts = 2 × customers). */
  customers?: number;
  /** Number of invoices at the start time. */
  invoices?: number;
  /** Default true. */
  approved?: boolean;
  /**
   * How API calls of an unapproved tenant are refused (extension): 403 (default) or 401, both of
   * which ServiceTitan is known to answer (API-NOTES).
   */
  unapprovedStatus?: 401 | 403;
  /** Default both true. */
  licensed?: { crm?: boolean; accounting?: boolean };
  /** Existing records re-modified per tick, per stream. Default ≈ 0.2 % of the stream, 1..200. */
  changesPerTick?: number;
  /** Customers (with their location and 2 contacts) and invoices created per tick. Default ≈ 0.1 %, 1..100. */
  newPerTick?: number;
}

export type RetryAfterMode = 'header' | 'message' | 'none';

export interface FaultSpec {
  kind: 'rate-limit' | 'server-error' | 'html-503' | 'slow' | 'truncated' | 'reset';
  /** Default: any tenant. Token requests match via the tenant of their client id. */
  tenantId?: number;
  /** A substring of the request path, or a RegExp tested against it. Default: any path. */
  path?: string | RegExp;
  /** Probability per matching request (seeded PRNG). */
  rate?: number;
  /** Fire on the Nth matching request (1-based), and on the following ones while `count` allows (default count 1). */
  nth?: number;
  /** Fire at most this many times (default: unlimited, or 1 with `nth`). */
  count?: number;
  /** 'slow': delay before the normal response (default 2000 ms). */
  delayMs?: number;
  /** 'rate-limit': where to say when to retry (default 'header'). */
  retryAfter?: RetryAfterMode;
  retryAfterSeconds?: number;
  /** 'server-error' (default 500) / 'html-503' (default 503) status code. */
  status?: number;
  /**
   * 'truncated' (extension): 'content-length' (default) announces the full length, sends about half
   * and destroys the socket; 'invalid-json' sends a complete response whose JSON is cut mid-way.
   */
  truncateMode?: 'content-length' | 'invalid-json';
}

export interface SandboxOptions {
  /** Default 0 (random free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  appKey?: string;
  /** Default 900. Expiry runs on the wall clock, not on the sandbox clock. */
  tokenTtlSeconds?: number;
  /** Requests per second per (app, tenant), sliding 1-second window. Default 60; 0 or Infinity disables. */
  rateLimitPerSecond?: number;
  /** How the rate limiter's 429 says when to retry (extension; default 'header'). */
  rateLimitRetryAfter?: RetryAfterMode;
  /** Added delay before every response. Default 0. */
  latencyMs?: number;
  /** Export page sizes. Defaults: customers 500, contacts 500, locations 500, invoices 200. */
  pageSizes?: Partial<Record<SandboxStream, number>>;
  /** Sandbox clock at start. Default 2025-01-01T00:00:00Z (fixed, so runs are reproducible). */
  startTime?: Date;
  /** Default 1. */
  seed?: number;
  /** Default: the demo tenants (see demo-tenants.ts). */
  tenants?: SandboxTenantOptions[];
  /** Length of a change tick in sandbox ms (extension). Default 3_600_000 (one hour). */
  tickMs?: number;
  /** When true (extension), the sandbox clock also follows the wall clock from the start time. Default false. */
  realTime?: boolean;
}

export interface SandboxTenantInfo {
  tenantId: number;
  clientId: string;
  clientSecret: string;
  environment: SandboxEnvironment;
  approved: boolean;
  unapprovedStatus: 401 | 403;
  licensed: { crm: boolean; accounting: boolean };
}

export interface SandboxStats {
  requests: number;
  tokenRequests: number;
  rateLimited: number;
  /** Request counts keyed by the request path (without the query string). */
  byPath: Record<string, number>;
  /**
   * API requests per tenant id: how many arrived, how many were answered 429, and the most that
   * arrived within any one second (a sliding window, refused ones included): what a client sent,
   * whatever the limiter let through.
   */
  byTenant: Record<string, { requests: number; rateLimited: number; peakPerSecond: number }>;
}

export interface SandboxControls {
  appKey: string;
  tenants: SandboxTenantInfo[];
  now(): Date;
  /** Moves the sandbox clock forward (ms ≥ 0); ticks that complete become visible at once. */
  advanceTime(ms: number): void;
  injectFault(spec: FaultSpec): void;
  clearFaults(): void;
  /** Parks matching requests until the returned hold is released (see gate.ts). */
  hold(spec?: HoldSpec): Hold;
  revokeTokens(tenantId: number): void;
  /**
   * The tenant's administrator generates a new client secret (extension): the old one is refused
   * from now on and tokens issued with it are revoked. Returns the new secret.
   */
  rotateClientSecret(tenantId: number, secret?: string): string;
  /**
   * The export feeds stop serving `share` (0..1) of the tenant's records, a fixed pick (extension):
   * as when records are deleted or hidden by a permission change. 0 serves them all again.
   */
  loseRecords(tenantId: number, share: number): void;
  /**
   * The export feeds serve `share` (0..1) of the records with an unreadable `modifiedOn`
   * (extension), which a sync must skip. 0 ends it.
   */
  corruptRecords(tenantId: number, share: number): void;
  setApproved(tenantId: number, approved: boolean): void;
  /** Every record a complete sync must hold right now, latest version, in id order (lazy). */
  groundTruth(tenantId: number, stream: SandboxStream): Iterable<Record<string, unknown>>;
  countRecords(tenantId: number, stream: SandboxStream): number;
  /**
   * A report export of the tenant's customers or invoices as CSV lines, header first (lazy), with
   * known differences injected if asked (extension; also GET /sandbox/reports/:tenant/:kind.csv).
   */
  reportExport(tenantId: number, kind: ReportExportKind, differences?: ReportDifferences): Iterable<string>;
  stats(): SandboxStats;
}

export interface Sandbox extends SandboxControls {
  /** Origin serving /connect/token and the API paths, e.g. http://127.0.0.1:40123. */
  url: string;
  close(): Promise<void>;
}
