import { Readable } from 'node:stream';
/**
 * The sandbox HTTP app: ServiceTitan's auth server and API on one origin.
 *
 * Request pipeline: stats → latency → hold (gate) → injected fault → (token endpoint | API guard: app key,
 * bearer token, tenant binding, rate limit, app approval, module licence) → handler.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { registerApprovalPages } from './approvals.js';
import { createSandboxClock } from './clock.js';
import { DEFAULT_APP_KEY, DEMO_TENANTS, defaultClientId, defaultClientSecret } from './demo-tenants.js';
import { encodeContinueFrom, parseFrom, readFeedPage } from './export-feed.js';
import { createFaultInjector } from './faults.js';
import { createGates } from './gate.js';
import { parseListQuery, runListQuery } from './list-query.js';
import { problem, sendDataPage, sendJson, TRUNCATE_LOCAL } from './problem.js';
import { createRateLimiter } from './rate-limiter.js';
import { ID_BASES, type SandboxStream } from './records.js';
import {
  differencesOf,
  type ReportDifferences,
  type ReportExportKind,
  reportExportLines,
} from './report-export.js';
import { createTenantData, type TenantData } from './tenant-data.js';
import { createTokenStore } from './token-store.js';
import type {
  FaultSpec,
  RetryAfterMode,
  SandboxControls,
  SandboxOptions,
  SandboxStats,
  SandboxTenantInfo,
} from './types.js';
import { BUSINESS_UNITS } from './words.js';

export const DEFAULT_START_TIME = new Date('2025-01-01T00:00:00.000Z');
export const DEFAULT_PAGE_SIZES: Record<SandboxStream, number> = {
  customers: 500,
  contacts: 500,
  locations: 500,
  invoices: 200,
};
const HISTORY_MS = 3 * 365 * 86_400_000;
const TOKEN_SCOPE = 'tn.crm:r tn.accounting:r tn.settings:r';

interface TenantRuntime {
  info: SandboxTenantInfo;
  data: TenantData;
  /** Share of records the export feeds no longer serve (loseRecords), 0..1. */
  lost: number;
  /** Share of records served with an unreadable modifiedOn (corruptRecords), 0..1. */
  corrupt: number;
}

/** A record's fixed place in [0, 1): which records a share of "lost" or "corrupt" picks. */
const shareOf = (index: number, salt: number): number =>
  (((index * 2_654_435_761 + salt) >>> 0) % 10_000) / 10_000;

export interface SandboxApp extends SandboxControls {
  app: express.Express;
  /** Clears pending timers (slow faults, latency) so a closing server does not wait for them. */
  dispose(): void;
}

function* lazyMap<T, U>(items: readonly T[], map: (item: T) => U): Generator<U> {
  for (const item of items) yield map(item);
}

export function createSandboxApp(options: SandboxOptions = {}): SandboxApp {
  const seed = options.seed ?? 1;
  const appKey = options.appKey ?? DEFAULT_APP_KEY;
  const startMs = (options.startTime ?? DEFAULT_START_TIME).getTime();
  const tickMs = options.tickMs ?? 3_600_000;
  const latencyMs = options.latencyMs ?? 0;
  const pageSizes = { ...DEFAULT_PAGE_SIZES, ...options.pageSizes };
  const rateLimitRetryAfter: RetryAfterMode = options.rateLimitRetryAfter ?? 'header';
  const clock = createSandboxClock(startMs, options.realTime ?? false);
  const tokens = createTokenStore(options.tokenTtlSeconds ?? 900);
  const limiter = createRateLimiter(options.rateLimitPerSecond ?? 60);
  const faults = createFaultInjector(seed);
  const gates = createGates();
  const timers = new Set<NodeJS.Timeout>();
  const stats: SandboxStats = { requests: 0, tokenRequests: 0, rateLimited: 0, byPath: {}, byTenant: {} };
  const arrivals = new Map<number, number[]>();
  /** Counts an API request of a tenant and the busiest second so far (wall clock). */
  const countArrival = (tenantId: number) => {
    const now = Date.now();
    const t = stats.byTenant[tenantId] ?? { requests: 0, rateLimited: 0, peakPerSecond: 0 };
    stats.byTenant[tenantId] = t;
    t.requests++;
    const stamps = arrivals.get(tenantId) ?? [];
    arrivals.set(tenantId, stamps);
    while (stamps.length > 0 && stamps[0]! <= now - 1000) stamps.shift();
    stamps.push(now);
    t.peakPerSecond = Math.max(t.peakPerSecond, stamps.length);
    return t;
  };

  const tenants = new Map<number, TenantRuntime>();
  for (const t of options.tenants ?? DEMO_TENANTS) {
    if (tenants.has(t.tenantId)) throw new Error(`Sandbox tenant ${t.tenantId} is listed twice`);
    const info: SandboxTenantInfo = {
      tenantId: t.tenantId,
      clientId: t.clientId ?? defaultClientId(t.tenantId),
      clientSecret: t.clientSecret ?? defaultClientSecret(t.tenantId),
      environment: t.environment ?? 'integration',
      approved: t.approved ?? true,
      unapprovedStatus: t.unapprovedStatus ?? 403,
      licensed: { crm: t.licensed?.crm ?? true, accounting: t.licensed?.accounting ?? true },
    };
    const data = createTenantData({
      tenantId: t.tenantId,
      seed: t.seed ?? seed,
      customers: t.customers ?? 1_000,
      invoices: t.invoices ?? 2_500,
      changesPerTick: t.changesPerTick,
      newPerTick: t.newPerTick,
      startMs,
      tickMs,
      historyMs: HISTORY_MS,
    });
    tenants.set(t.tenantId, { info, data, lost: 0, corrupt: 0 });
  }
  const byClientId = new Map([...tenants.values()].map((t) => [t.info.clientId, t]));

  const currentTick = (): number => Math.max(0, Math.floor((clock.nowMs() - startMs) / tickMs));
  /** Brings a tenant's history up to the clock; ticks are generated lazily, on first need. */
  const tenantAtNow = (tenantId: number): TenantRuntime => {
    const tenant = tenants.get(tenantId);
    if (!tenant) throw new Error(`Unknown sandbox tenant ${tenantId}`);
    tenant.data.advanceTo(currentTick());
    return tenant;
  };

  const delay = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const send429 = (res: Response, mode: RetryAfterMode, seconds: number): void => {
    stats.rateLimited++;
    const wait = Math.max(1, Math.ceil(seconds));
    // Azure API Management's wording, which is what ServiceTitan's gateway answers with.
    const message =
      mode === 'message'
        ? `Rate limit is exceeded. Try again in ${wait} seconds.`
        : 'Rate limit is exceeded.';
    sendJson(
      res,
      429,
      { statusCode: 429, message },
      mode === 'header' ? { 'Retry-After': String(wait) } : {},
    );
  };

  const tenantOfRequest = (req: Request): number | undefined => {
    const match = /\/tenant\/(\d+)(\/|$)/.exec(req.path);
    if (match) return Number(match[1]);
    if (req.path === '/connect/token') {
      const client = clientOf(req);
      return client ? byClientId.get(client.clientId)?.info.tenantId : undefined;
    }
    return undefined;
  };

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');

  app.use((req, _res, next) => {
    stats.requests++;
    stats.byPath[req.path] = (stats.byPath[req.path] ?? 0) + 1;
    next();
  });
  app.use(express.urlencoded({ extended: false, limit: '16kb' }));

  app.use(async (req: Request, res: Response, next: NextFunction) => {
    if (latencyMs > 0) await delay(latencyMs);
    const tenantId = tenantOfRequest(req);
    await gates.pass({ path: req.path, tenantId });
    const fault = faults.select({ path: req.path, tenantId });
    if (!fault) return next();
    await applyFault(fault, req, res, next);
  });

  const applyFault = async (
    fault: FaultSpec,
    req: Request,
    res: Response,
    next: NextFunction,
  ): Promise<void> => {
    switch (fault.kind) {
      case 'reset':
        req.socket.destroy();
        return;
      case 'slow':
        await delay(fault.delayMs ?? 2_000);
        return next();
      case 'truncated':
        res.locals[TRUNCATE_LOCAL] = fault;
        return next();
      case 'rate-limit':
        return send429(res, fault.retryAfter ?? 'header', fault.retryAfterSeconds ?? 1);
      case 'server-error': {
        const status = fault.status ?? 500;
        return sendJson(
          res,
          status,
          problem(status, 'An unexpected error occurred while processing the request.'),
        );
      }
      case 'html-503': {
        const status = fault.status ?? 503;
        res
          .status(status)
          .type('text/html')
          .send(
            `<!DOCTYPE html>\n<html><head><title>${status} Service Unavailable</title></head>\n<body><h1>Service Unavailable</h1>\n<p>The server is temporarily unable to service your request due to maintenance downtime or capacity problems. Please try again later.</p></body></html>\n`,
          );
        return;
      }
    }
  };

  // ---- Auth server -------------------------------------------------------------------------

  /** client_secret_post or client_secret_basic (RFC 6749 §2.3.1: form-encoded, then Basic). */
  function clientOf(req: Request): { clientId: string; clientSecret: string | undefined } | undefined {
    const header = req.headers.authorization;
    if (header && /^basic /i.test(header)) {
      const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return undefined;
      const unform = (s: string): string => decodeURIComponent(s.replace(/\+/g, ' '));
      try {
        return { clientId: unform(decoded.slice(0, colon)), clientSecret: unform(decoded.slice(colon + 1)) };
      } catch {
        return undefined;
      }
    }
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (typeof body.client_id !== 'string') return undefined;
    return {
      clientId: body.client_id,
      clientSecret: typeof body.client_secret === 'string' ? body.client_secret : undefined,
    };
  }

  const oauthError = (res: Response, error: string, description?: string): void =>
    sendJson(res, 400, description ? { error, error_description: description } : { error }, {
      'Cache-Control': 'no-store',
    });

  app.get('/.well-known/openid-configuration', (req, res) => {
    const origin = `${req.protocol}://${req.get('host')}`;
    sendJson(res, 200, {
      issuer: origin,
      token_endpoint: `${origin}/connect/token`,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
      scopes_supported: TOKEN_SCOPE.split(' '),
    });
  });

  app.post('/connect/token', (req, res) => {
    stats.tokenRequests++;
    if (!req.is('application/x-www-form-urlencoded')) {
      return oauthError(res, 'invalid_request', 'The request must be application/x-www-form-urlencoded');
    }
    const body = (req.body ?? {}) as Record<string, unknown>;
    const client = clientOf(req);
    const tenant = client ? byClientId.get(client.clientId) : undefined;
    if (!client || !tenant || tenant.info.clientSecret !== client.clientSecret)
      return oauthError(res, 'invalid_client');
    if (body.grant_type === undefined) return oauthError(res, 'invalid_request', 'grant_type is missing');
    if (body.grant_type !== 'client_credentials') return oauthError(res, 'unsupported_grant_type');
    const { token, expiresIn } = tokens.issue(tenant.info.tenantId, tenant.info.environment);
    sendJson(
      res,
      200,
      { access_token: token, expires_in: expiresIn, token_type: 'Bearer', scope: TOKEN_SCOPE },
      { 'Cache-Control': 'no-store', Pragma: 'no-cache' },
    );
  });

  // ---- API guard ---------------------------------------------------------------------------

  const unauthorized = (res: Response, reason: string, title: string): void =>
    sendJson(res, 401, problem(401, title, {}, { reason }), {
      'WWW-Authenticate':
        reason.startsWith('Token') || reason === 'TenantMismatch' ? 'Bearer error="invalid_token"' : 'Bearer',
    });

  const forbidden = (res: Response, reason: string, title: string, data: Record<string, unknown>): void =>
    sendJson(res, 403, problem(403, title, { '': [title] }, { reason, ...data }));

  app.use('/:module/v2/tenant/:tenant', (req, res, next) => {
    const module = req.params.module as string;
    const tenantParam = req.params.tenant as string;
    const givenKey = req.get('st-app-key');
    if (!givenKey) return unauthorized(res, 'MissingAppKey', 'The ST-App-Key header is missing.');
    if (givenKey !== appKey)
      return unauthorized(res, 'InvalidAppKey', 'The ST-App-Key header is not a valid application key.');
    const header = req.get('authorization') ?? '';
    const bearer = /^bearer\s+(\S+)$/i.exec(header)?.[1];
    if (!bearer) return unauthorized(res, 'MissingToken', 'A Bearer access token is required.');
    const check = tokens.check(bearer);
    if (!check.ok) {
      const titles = {
        unknown: 'The access token is invalid.',
        expired: 'The access token has expired.',
        revoked: 'The access token has been revoked.',
      };
      const reasons = { unknown: 'TokenInvalid', expired: 'TokenExpired', revoked: 'TokenRevoked' };
      return unauthorized(res, reasons[check.reason], titles[check.reason]);
    }
    const tenantId = Number(tenantParam);
    const tenant = tenants.get(tenantId);
    if (
      !/^\d+$/.test(tenantParam) ||
      check.grant.tenantId !== tenantId ||
      !tenant ||
      tenant.info.environment !== check.grant.environment
    ) {
      return unauthorized(res, 'TenantMismatch', `The access token is not valid for tenant ${tenantParam}.`);
    }
    const arrival = countArrival(tenantId);
    const limit = limiter.take(`${appKey}:${tenantId}`);
    if (!limit.allowed) {
      arrival.rateLimited++;
      return send429(res, rateLimitRetryAfter, limit.retryAfterMs / 1000);
    }
    if (!tenant.info.approved) {
      const title = `The application is not approved by tenant ${tenantId}. A tenant administrator must approve it in Settings > Integrations > API Application Access.`;
      if (tenant.info.unapprovedStatus === 401) return unauthorized(res, 'AppNotApproved', title);
      return forbidden(res, 'AppNotApproved', title, { tenantId });
    }
    if ((module === 'crm' || module === 'accounting') && !tenant.info.licensed[module]) {
      const label = module === 'crm' ? 'CRM' : 'Accounting';
      return forbidden(
        res,
        'ModuleNotLicensed',
        `Tenant ${tenantId} is not licensed for the ${label} module.`,
        {
          tenantId,
          module,
        },
      );
    }
    res.locals.tenantId = tenantId;
    next();
  });

  // ---- API endpoints -----------------------------------------------------------------------

  const queryGetter =
    (req: Request) =>
    (name: string): string | undefined => {
      const lower = name.toLowerCase();
      for (const [key, value] of Object.entries(req.query)) {
        if (key.toLowerCase() !== lower) continue;
        const first = Array.isArray(value) ? value[0] : value;
        return typeof first === 'string' ? first : undefined;
      }
      return undefined;
    };

  const exportRoute = (path: string, stream: SandboxStream): void => {
    app.get(path, (req, res) => {
      const tenant = tenantAtNow(res.locals.tenantId as number);
      const { data } = tenant;
      const from = queryGetter(req)('from');
      const parsed = parseFrom(stream, from);
      if (!parsed.ok)
        return sendJson(
          res,
          400,
          problem(400, 'One or more validation errors occurred.', { from: [parsed.reason] }),
        );
      const population = data.population(stream);
      const start =
        'time' in parsed.position
          ? population.positionForTime(parsed.position.time, data.currentTick)
          : parsed.position;
      const page = readFeedPage(population, start, pageSizes[stream], data.currentTick);
      sendDataPage(
        res,
        { hasMore: page.hasMore, continueFrom: encodeContinueFrom(stream, page.next) },
        lazyMap(
          page.indices.filter((index) => shareOf(index, 17) >= tenant.lost),
          (index) => {
            const record = data.render(stream, index);
            return shareOf(index, 91) < tenant.corrupt ? { ...record, modifiedOn: 'not a date' } : record;
          },
        ),
      );
    });
  };

  const listRoute = (
    path: string,
    stream: SandboxStream,
    activeParam: 'active' | 'activeState' | undefined,
  ): void => {
    app.get(path, (req, res) => {
      const { data } = tenantAtNow(res.locals.tenantId as number);
      const parsed = parseListQuery(queryGetter(req), activeParam);
      if (!parsed.ok)
        return sendJson(res, 400, problem(400, 'One or more validation errors occurred.', parsed.errors));
      const { query } = parsed;
      const result = runListQuery(
        query,
        data.count(stream),
        (index) => data.meta(stream, index),
        (id) => id - ID_BASES[stream],
        (ms) => data.population(stream).countModifiedBefore(ms, data.count(stream)),
      );
      sendDataPage(
        res,
        {
          page: query.page,
          pageSize: query.pageSize,
          hasMore: result.hasMore,
          totalCount: result.totalCount,
        },
        lazyMap(result.indices, (index) => data.render(stream, index, 'list')),
      );
    });
  };

  exportRoute('/crm/v2/tenant/:tenant/export/customers', 'customers');
  exportRoute('/crm/v2/tenant/:tenant/export/customers/contacts', 'contacts');
  exportRoute('/crm/v2/tenant/:tenant/export/locations', 'locations');
  exportRoute('/accounting/v2/tenant/:tenant/export/invoices', 'invoices');
  listRoute('/crm/v2/tenant/:tenant/customers', 'customers', 'active');
  listRoute('/crm/v2/tenant/:tenant/customers/contacts', 'contacts', undefined);
  listRoute('/crm/v2/tenant/:tenant/locations', 'locations', 'active');
  listRoute('/accounting/v2/tenant/:tenant/invoices', 'invoices', 'activeState');

  app.get('/settings/v2/tenant/:tenant/business-units', (req, res) => {
    const parsed = parseListQuery(queryGetter(req), 'active');
    if (!parsed.ok)
      return sendJson(res, 400, problem(400, 'One or more validation errors occurred.', parsed.errors));
    const { page, pageSize } = parsed.query;
    const created = new Date(startMs - HISTORY_MS).toISOString();
    const all = BUSINESS_UNITS.map(([id, name]) => ({
      id,
      active: true,
      name,
      officialName: `${name} Services`,
      email: null,
      currency: 'USD',
      phoneNumber: null,
      createdOn: created,
      modifiedOn: created,
    }));
    const slice = all.slice((page - 1) * pageSize, page * pageSize);
    sendJson(res, 200, {
      page,
      pageSize,
      hasMore: page * pageSize < all.length,
      totalCount: parsed.query.includeTotal ? all.length : null,
      data: slice,
    });
  });

  const setApproved = (tenantId: number, approved: boolean): void => {
    tenantAtNow(tenantId).info.approved = approved;
  };
  registerApprovalPages(app, { tenants: [...tenants.values()].map((t) => t.info), setApproved });

  function reportExport(
    tenantId: number,
    kind: ReportExportKind,
    differences?: ReportDifferences,
  ): Iterable<string> {
    const { data } = tenantAtNow(tenantId);
    const truth = (stream: SandboxStream): Iterable<Record<string, unknown>> => {
      const count = data.count(stream);
      return {
        *[Symbol.iterator]() {
          for (let index = 1; index <= count; index++) yield data.render(stream, index);
        },
      };
    };
    return { [Symbol.iterator]: () => reportExportLines(truth, kind, differences) };
  }

  // A report export as a user downloads it from ServiceTitan's Reports (extension; no auth).
  app.get('/sandbox/reports/:tenant/:file', (req, res, next) => {
    const match = /^(customers|invoices)\.csv$/.exec(req.params.file ?? '');
    const tenantId = Number(req.params.tenant);
    if (!match || !tenants.has(tenantId)) return next();
    res
      .status(200)
      .type('text/csv')
      .setHeader('content-disposition', `attachment; filename="${match[1]}.csv"`);
    Readable.from(reportExport(tenantId, match[1] as ReportExportKind, differencesOf(req.query))).pipe(res);
  });

  app.use((req, res) => {
    sendJson(res, 404, problem(404, `No endpoint matches ${req.method} ${req.path}.`));
  });
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    // Body-parser errors carry a status (e.g. 400 for a malformed form body); anything else is our bug.
    const status =
      typeof (error as { status?: unknown }).status === 'number' ? (error as { status: number }).status : 500;
    if (status >= 500) console.error('sandbox: unhandled error', error);
    if (!res.headersSent)
      sendJson(
        res,
        status,
        problem(status, status >= 500 ? 'An unexpected error occurred.' : 'The request is invalid.'),
      );
  });

  return {
    app,
    appKey,
    tenants: [...tenants.values()].map((t) => t.info),
    now: () => new Date(clock.nowMs()),
    advanceTime: (ms) => clock.advance(ms),
    injectFault: (spec) => faults.add(spec),
    clearFaults: () => faults.clear(),
    hold: (spec) => gates.hold(spec),
    revokeTokens(tenantId) {
      tenantAtNow(tenantId);
      tokens.revokeTenant(tenantId);
    },
    rotateClientSecret(tenantId, secret) {
      const tenant = tenantAtNow(tenantId);
      tenant.info.clientSecret =
        secret ?? `${tenant.info.clientSecret.slice(0, 8)}-rotated-${Date.now().toString(36)}`;
      tokens.revokeTenant(tenantId);
      return tenant.info.clientSecret;
    },
    loseRecords(tenantId, share) {
      tenantAtNow(tenantId).lost = Math.min(1, Math.max(0, share));
    },
    corruptRecords(tenantId, share) {
      tenantAtNow(tenantId).corrupt = Math.min(1, Math.max(0, share));
    },
    setApproved,
    groundTruth(tenantId, stream) {
      const { data } = tenantAtNow(tenantId);
      const count = data.count(stream);
      return {
        *[Symbol.iterator]() {
          for (let index = 1; index <= count; index++) yield data.render(stream, index);
        },
      };
    },
    countRecords: (tenantId, stream) => tenantAtNow(tenantId).data.count(stream),
    reportExport,
    stats: () => ({
      ...stats,
      byPath: { ...stats.byPath },
      byTenant: Object.fromEntries(Object.entries(stats.byTenant).map(([k, v]) => [k, { ...v }])),
    }),
    dispose() {
      gates.releaseAll();
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
