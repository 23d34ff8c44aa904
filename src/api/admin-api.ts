import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import express, { Router } from 'express';
import { createAuditLog } from '../audit/index.js';
import { createFailureLimiter, createSessionService, createTokenService } from '../auth/index.js';
import { defaultEmailEvents } from '../config.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { Logger } from '../logger.js';
import type { WebhookUrlPolicy } from '../notifications/url-policy.js';
import type { SandboxDirectory } from '../sandbox/directory.js';
import type { ScheduleService } from '../schedules/index.js';
import type { ServiceTitanClientOptions } from '../servicetitan/index.js';
import type { Readiness } from './health.routes.js';
import { authenticate } from './middleware/authenticate.js';
import { buildOpenApiDocument } from './openapi.js';
import { type AnyRoute, mountRoutes } from './route.js';
import { adminRoutes } from './routes/admin.routes.js';
import { companyRoutes } from './routes/companies.routes.js';
import { credentialRoutes } from './routes/credentials.routes.js';
import { flagRoutes } from './routes/flags.routes.js';
import { importRoutes } from './routes/imports.routes.js';
import { reconciliationRoutes } from './routes/reconciliations.routes.js';
import { sandboxRoutes } from './routes/sandbox.routes.js';
import { scheduleRoutes } from './routes/schedules.routes.js';
import { createSessionRoutes, createSignInLinkRoutes } from './routes/session.routes.js';
import { syncRoutes } from './routes/syncs.routes.js';
import { webhookRoutes } from './routes/webhooks.routes.js';
import { createCompanyService } from './services/companies.service.js';
import { createCredentialService } from './services/credentials.service.js';
import { createDashboardService } from './services/dashboard.service.js';
import { createFlagService } from './services/flags.service.js';
import { createImportService, DEFAULT_IMPORT_MAX_BYTES } from './services/imports.service.js';
import { createReconciliationService } from './services/reconciliations.service.js';
import { createScheduleRoutesService } from './services/schedules.service.js';
import { createSetupService, type SetupOptions } from './services/setup.service.js';
import { createSyncService } from './services/syncs.service.js';
import { createWebhookService } from './services/webhooks.service.js';

/** What the admin API needs beyond the app's own deps; absent pieces answer 503 `not_configured`. */
export interface AdminApiOptions {
  /** Encrypts credential secrets at rest (ENCRYPTION_KEYS). */
  secrets?: SecretBox;
  /** Where connection tests go (the app key and per-environment URLs). */
  serviceTitan?: ServiceTitanClientOptions;
  taskQueue: string;
  /** This database's installation (src/db/installation.ts); scopes workflow ids. */
  installationId: string;
  schedules?: ScheduleService;
  /** ADMIN_TOKEN: a bootstrap admin. */
  adminToken?: string | undefined;
  /** The console's external URL (PUBLIC_URL), for links in the events the API writes. */
  publicUrl?: string | undefined;
  /** Links runs to the Temporal Web UI. */
  temporalUi?: { url: string; namespace: string } | undefined;
  /** Failed authentications per address per window before 429 (default 20 per minute). */
  authFailures?: { max: number; windowMs: number };
  /** How long a console session lasts after sign-in (SESSION_TTL_HOURS, default 12). */
  sessionTtlHours?: number;
  /** The embedded ServiceTitan sandbox (`npm start` without an app key); GET /api/sandbox is 404 without it. */
  sandbox?: SandboxDirectory | undefined;
  /** Default 100kb. */
  bodyLimit?: string;
  /** The largest report an import or a reconciliation accepts (IMPORT_MAX_BYTES, default 500 MB); streamed, never held. */
  importMaxBytes?: number;
  progressPollMs?: number;
  /** What the Setup page's checks (GET /api/setup) look at; absent answers 503. */
  setup?: SetupOptions;
  /** Check every response against its schema (tests). */
  validateResponses?: boolean;
  /** Webhooks: the SSRF rule and the `/test` timeout (default: public https only, 10 s). */
  webhooks?: {
    policy: WebhookUrlPolicy;
    timeoutMs?: number;
    defaultEmailEvents?: readonly string[];
    undeliveredAlertMinutes?: number;
  };
}

export function createAdminRoutes(deps: AdminApiOptions) {
  const audit = createAuditLog();
  const tokens = createTokenService({ adminToken: deps.adminToken });
  return {
    audit,
    tokens,
    routes: (
      temporal: Client,
      readiness?: Readiness,
      base?: { orm: MikroORM; logger: Logger },
    ): AnyRoute[] => [
      ...companyRoutes(createCompanyService({ schedules: deps.schedules })),
      ...credentialRoutes(
        createCredentialService({
          secrets: deps.secrets,
          serviceTitan: deps.serviceTitan,
          schedules: deps.schedules,
          temporal: temporal.workflow,
          publicUrl: deps.publicUrl,
        }),
      ),
      ...syncRoutes(
        createSyncService({
          temporal,
          taskQueue: deps.taskQueue,
          installationId: deps.installationId,
          temporalUi: deps.temporalUi,
          ...(deps.progressPollMs ? { progressPollMs: deps.progressPollMs } : {}),
        }),
      ),
      ...webhookRoutes(
        createWebhookService({
          secrets: deps.secrets,
          policy: deps.webhooks?.policy ?? { allowPrivateNetworks: false },
          timeoutMs: deps.webhooks?.timeoutMs ?? 10_000,
          defaultEmailEvents: deps.webhooks?.defaultEmailEvents ?? defaultEmailEvents,
          undeliveredAlertMinutes: deps.webhooks?.undeliveredAlertMinutes ?? 30,
        }),
      ),
      ...scheduleRoutes(createScheduleRoutesService({ schedules: deps.schedules })),
      ...flagRoutes(createFlagService()),
      ...(base
        ? [
            ...importRoutes(
              createImportService({ ...base, maxBytes: deps.importMaxBytes ?? DEFAULT_IMPORT_MAX_BYTES }),
            ),
            ...reconciliationRoutes(
              createReconciliationService({
                orm: base.orm,
                maxBytes: deps.importMaxBytes ?? DEFAULT_IMPORT_MAX_BYTES,
              }),
            ),
          ]
        : []),
      ...adminRoutes({
        // Next run times only where schedules are configured, as every other schedule answer.
        dashboard: createDashboardService({
          schedules: deps.schedules ? temporal.schedule : undefined,
          installationId: deps.installationId,
        }),
        tokens,
        audit,
        setup: createSetupService({ setup: deps.setup, readiness }),
      }),
      ...sandboxRoutes(deps.sandbox),
    ],
  };
}

/**
 * The /api router (the OpenAPI document, console sign-in, then authentication, body parsing and
 * every route) and the router of `/signin` links, which sits outside /api.
 */
export function createAdminApi(
  base: { orm: MikroORM; temporal: Client; logger: Logger; readiness?: Readiness },
  deps: AdminApiOptions,
) {
  const { audit, tokens, routes: build } = createAdminRoutes(deps);
  const routes = build(base.temporal, base.readiness, base);
  const document = buildOpenApiDocument(routes, { version: '1' });
  const limiter = createFailureLimiter(deps.authFailures ?? { max: 20, windowMs: 60_000 });

  const sessions = createSessionService({
    tokens,
    adminToken: deps.adminToken,
    ttlHours: deps.sessionTtlHours ?? 12,
  });
  const sessionDeps = { orm: base.orm, sessions, limiter, audit };

  const router = Router();
  router.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  router.use(createSessionRoutes(sessionDeps));
  router.use(authenticate({ orm: base.orm, tokens, sessions, limiter, logger: base.logger }));
  router.use(express.json({ limit: deps.bodyLimit ?? '100kb', strict: true }));
  mountRoutes(router, routes, { audit, ...(deps.validateResponses ? { validateResponses: true } : {}) });
  return { router, signInRouter: createSignInLinkRoutes(sessionDeps), routes, document };
}
