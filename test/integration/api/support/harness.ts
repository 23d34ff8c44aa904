import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import { pino } from 'pino';
import request from 'supertest';
import { expect } from 'vitest';
import type { AlertPolicy } from '../../../../src/alerts/policy.js';
import type { AdminApiOptions } from '../../../../src/api/admin-api.js';
import { type AppDeps, createApp } from '../../../../src/api/app.js';
import { createTokenService } from '../../../../src/auth/index.js';
import type { TrustProxy } from '../../../../src/config.js';
import type { ApiRole } from '../../../../src/db/entities/index.js';
import { createRateBudgetStore } from '../../../../src/db/repositories/rate-budget.repository.js';
import { redactedPaths } from '../../../../src/logger.js';
import {
  type Sandbox,
  type SandboxOptions,
  sandboxDirectory,
  startSandbox,
} from '../../../../src/sandbox/index.js';
import { createScheduleService } from '../../../../src/schedules/index.js';
import { createServiceTitanClient, type ServiceTitanClient } from '../../../../src/servicetitan/index.js';
import {
  connectTestOrm,
  connectTestTemporal,
  startTestWorker,
  type TestWorkerOptions,
  testInstallationId,
  testKeys,
  testLogger,
  testSecrets,
} from '../../../support/integration.js';

export const ADMIN_TOKEN = 'bootstrap-admin-token-0123456789abcdef-XYZ';

export interface ApiHarness {
  app: ReturnType<typeof createApp>;
  orm: MikroORM;
  temporal: Client;
  sandbox: Sandbox;
  serviceTitan: ServiceTitanClient;
  taskQueue: string;
  logs: string[];
  bodies: string[];
  /** Values that must never appear in a response body or a log line. */
  watched: Set<string>;
  /** A stored token (watched) of that role, optionally limited to a company. */
  token(role: ApiRole, companyId?: number | null): Promise<string>;
  call(
    method: 'get' | 'post' | 'put' | 'patch' | 'delete',
    path: string,
    options?: {
      token?: string | null;
      body?: unknown;
      raw?: string;
      ip?: string;
      exempt?: boolean;
      contentType?: string;
    },
  ): Promise<request.Response>;
  count(table: string): Promise<number>;
  assertNoLeaks(): void;
  close(): Promise<void>;
}

export async function startApiHarness(
  options: {
    sandbox?: SandboxOptions;
    /** Serves GET /api/sandbox for this sandbox, as `npm start` does for its embedded one. */
    exposeSandbox?: boolean;
    /** true, or the worker's options beside its ServiceTitan endpoints (the sandbox). */
    worker?: boolean | Omit<TestWorkerOptions, 'serviceTitan'>;
    /** The worker's alert policy (default: the product's defaults). */
    alerts?: AlertPolicy;
    api?: Partial<AdminApiOptions>;
    trustProxy?: TrustProxy;
    /** The app's metrics and METRICS_TOKEN. */
    app?: Pick<AppDeps, 'metrics' | 'metricsToken'>;
  } = {},
): Promise<ApiHarness> {
  const logs: string[] = [];
  const bodies: string[] = [];
  const watched = new Set<string>([ADMIN_TOKEN, ...testKeys.map((k) => k.key.toString('base64'))]);
  // Everything the app logs, at every level, through the product's redaction.
  const logger = pino(
    { level: 'trace', name: 'api-test', redact: { paths: redactedPaths, censor: '[redacted]' } },
    { write: (line: string) => void logs.push(line) },
  );
  const orm = await connectTestOrm();
  const temporal = await connectTestTemporal();
  const sandbox = await startSandbox({ rateLimitPerSecond: 0, ...options.sandbox });
  for (const t of sandbox.tenants) watched.add(t.clientSecret);
  const endpoints = { authUrl: sandbox.url, apiUrl: sandbox.url };
  const serviceTitan = createServiceTitanClient({
    appKey: sandbox.appKey,
    environments: { integration: endpoints, production: endpoints },
    logger,
    maxAttempts: 2,
  });
  const worker = options.worker
    ? await startTestWorker(orm, {
        ...(typeof options.worker === 'object' ? options.worker : {}),
        serviceTitan: { appKey: sandbox.appKey, url: sandbox.url },
        ...(options.alerts ? { alerts: options.alerts } : {}),
      })
    : undefined;
  const taskQueue = worker?.taskQueue ?? `api-test-${Date.now()}`;
  const schedules = createScheduleService({
    orm,
    temporal: temporal.client,
    taskQueue,
    installationId: testInstallationId,
    logger,
  });
  const rateBudget = createRateBudgetStore(orm);
  const app = createApp({
    orm,
    temporal: temporal.client,
    logger,
    ...options.app,
    ...(options.trustProxy !== undefined ? { trustProxy: options.trustProxy } : {}),
    api: {
      secrets: testSecrets,
      serviceTitan: {
        appKey: sandbox.appKey,
        environments: { integration: endpoints, production: endpoints },
        logger,
        maxAttempts: 2,
        // Connection tests spend the tenant's budget in PostgreSQL, as src/main/api.ts has them.
        rateBudget,
      },
      // A deployment whose SERVICETITAN_* settings point at the sandbox.
      setup: {
        appKey: 'configured',
        environments: { integration: endpoints, production: endpoints },
        encryption: { source: 'environment', versions: testKeys.map((k) => k.version) },
        probeTimeoutMs: 3_000,
      },
      taskQueue,
      installationId: testInstallationId,
      schedules,
      adminToken: ADMIN_TOKEN,
      temporalUi: { url: 'http://temporal-ui.test:8233', namespace: 'default' },
      validateResponses: true,
      progressPollMs: 200,
      ...(options.exposeSandbox ? { sandbox: sandboxDirectory(sandbox) } : {}),
      ...options.api,
    },
  });
  const tokens = createTokenService({});

  const harness: ApiHarness = {
    app,
    orm,
    temporal: temporal.client,
    sandbox,
    serviceTitan,
    taskQueue,
    logs,
    bodies,
    watched,
    async token(role, companyId = null) {
      const created = await tokens.create(orm.em.fork(), {
        role,
        name: `${role}-${companyId ?? 'all'}`,
        companyId,
      });
      watched.add(created.token);
      return created.token;
    },
    async call(method, path, o = {}) {
      let req = request(app)
        [method](path)
        .set('x-forwarded-for', o.ip ?? '10.0.0.1');
      const token = o.token === undefined ? ADMIN_TOKEN : o.token;
      if (token !== null) req = req.set('authorization', `Bearer ${token}`);
      if (o.raw !== undefined) req = req.set('content-type', o.contentType ?? 'application/json').send(o.raw);
      else if (o.body !== undefined) req = req.send(o.body as object);
      const res = await req;
      if (!o.exempt) bodies.push(res.text ?? '');
      return res;
    },
    async count(table) {
      const rows = await orm.em
        .fork()
        .getConnection()
        .execute<{ n: string }[]>(`select count(*) as n from "${table}"`);
      return Number(rows[0]?.n ?? 0);
    },
    assertNoLeaks() {
      expect(logs.length).toBeGreaterThan(0);
      for (const secret of watched) {
        for (const body of bodies)
          expect(body.includes(secret), 'a response body holds a secret').toBe(false);
        for (const line of logs)
          expect(line.includes(secret), `a log line holds a secret: ${line.slice(0, 200)}`).toBe(false);
      }
    },
    async close() {
      await worker?.stop();
      serviceTitan.close();
      await sandbox.close();
      await temporal.close();
      await rateBudget.close();
      await orm.close();
    },
  };
  void testLogger;
  return harness;
}

/** A company (and optionally a credential of a sandbox tenant) through the API itself. */
export async function createCompany(h: ApiHarness, name = 'Acme Heating'): Promise<number> {
  const res = await h.call('post', '/api/companies', { body: { name, timeZone: 'America/Chicago' } });
  expect(res.status).toBe(201);
  return res.body.id as number;
}

export async function createCredential(
  h: ApiHarness,
  companyId: number,
  tenantId: number,
  extra: Record<string, unknown> = {},
): Promise<request.Response> {
  const tenant = h.sandbox.tenants.find((t) => t.tenantId === tenantId)!;
  return h.call('post', '/api/credentials', {
    body: {
      companyId,
      environment: tenant.environment,
      tenantId: String(tenant.tenantId),
      clientId: tenant.clientId,
      clientSecret: tenant.clientSecret,
      ...extra,
    },
  });
}
