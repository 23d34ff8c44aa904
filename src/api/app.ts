import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import express from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import type { TrustProxy } from '../config.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { answerScrape, type Metrics } from '../metrics/index.js';
import { type AdminApiOptions, createAdminApi } from './admin-api.js';
import { createErrorHandler } from './errors.js';
import { createHealthRoutes, createReadinessChecks } from './health.routes.js';

export interface AppDeps {
  orm: MikroORM;
  temporal: Client;
  logger: Logger;
  /** The admin API under /api; without it /api answers 503. */
  api?: AdminApiOptions;
  /** Express's `trust proxy` (TRUST_PROXY): whose X-Forwarded-For gives the client's address. Default loopback. */
  trustProxy?: TrustProxy;
  /** The built web console (console/dist, `npm run build:console`) served at `/`; null serves none. */
  consoleDir?: string | null;
  /** The process's metrics: served at GET /metrics, and request durations recorded into them. */
  metrics?: Metrics;
  /** METRICS_TOKEN: when set, GET /metrics wants it as a bearer token. */
  metricsToken?: string | undefined;
}

/** Where `npm run build:console` puts the console. */
export const defaultConsoleDir = fileURLToPath(new URL('../../console/dist', import.meta.url));

/** Paths the console never answers: the API, the probes and the one-time sign-in link. */
const notConsole = /^\/(api|healthz|readyz|signin|metrics)(\/|$)/;

/**
 * The route pattern a request matched, for a metric label: the admin API's routes note theirs
 * (src/api/route.ts); others give Express's, and anything unrouted (static files, 404) is `other`,
 * so no id or raw URL ever becomes a label.
 */
function routeLabel(req: express.Request, res: express.Response): string {
  const noted = res.locals.routePattern;
  if (typeof noted === 'string') return noted;
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? `${req.baseUrl}${path}` : 'other';
}

export function createApp(deps: AppDeps) {
  const app = express();
  app.disable('x-powered-by');
  const trust = deps.trustProxy ?? ['loopback'];
  app.set('trust proxy', Array.isArray(trust) ? [...trust] : trust);
  app.use(
    helmet({
      // The console's scripts and styles come from 'self' (no inline script). Upgrading its
      // requests to https would blank it for anyone reaching a plain-http deployment by address
      // (TLS, where there is any, ends at a proxy that serves the same relative URLs).
      contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
    }),
  );
  const metrics = deps.metrics;
  if (metrics) {
    app.use((req, res, next) => {
      const end = metrics.httpRequestDuration.startTimer();
      res.once('finish', () =>
        end({ method: req.method, route: routeLabel(req, res), status: String(res.statusCode) }),
      );
      next();
    });
    app.get('/metrics', async (req, res) => {
      const answer = await answerScrape(metrics, deps.metricsToken, req);
      res.status(answer.status).type(answer.contentType).send(answer.body);
    });
  }
  app.use(
    pinoHttp({
      logger: deps.logger.child({ component: 'api' }),
      genReqId: (req, res) => {
        const incoming = req.headers['x-request-id'];
        const id = typeof incoming === 'string' && /^[\w-]{1,64}$/.test(incoming) ? incoming : randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      autoLogging: { ignore: (req) => req.url === '/healthz' },
      // Method, path and status are enough; headers would carry tokens.
      serializers: {
        req: (req) => ({ id: req.id, method: req.method, url: req.url?.split('?')[0] }),
        res: (res) => ({ statusCode: res.statusCode }),
      },
    }),
  );
  const readiness = createReadinessChecks(deps);
  if (deps.api) {
    const adminApi = createAdminApi({ ...deps, readiness }, deps.api);
    app.use('/api', adminApi.router);
    app.use(adminApi.signInRouter);
  } else {
    app.use('/api', () => {
      throw new AppError('not_configured', 'The admin API is not configured on this server.');
    });
  }
  app.use(express.json({ limit: '100kb' }));

  app.use(createHealthRoutes(readiness));

  const consoleDir = deps.consoleDir === undefined ? defaultConsoleDir : deps.consoleDir;
  if (consoleDir && existsSync(consoleDir)) {
    // Hashed file names under assets/ never change content; index.html must be asked for again.
    app.use(
      express.static(consoleDir, {
        index: false,
        setHeaders: (res, file) => {
          res.setHeader(
            'cache-control',
            file.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
          );
        },
      }),
    );
    // The console routes in the browser: any other page GET gets its index.html.
    app.get(/.*/, (req, res, next) => {
      if (notConsole.test(req.path) || !req.accepts('html')) return next();
      res.setHeader('cache-control', 'no-cache');
      res.sendFile('index.html', { root: consoleDir });
    });
  }

  app.use((req, res) => {
    res.status(404).json({ error: 'not_found', message: `No route for ${req.method} ${req.path}` });
  });

  app.use(createErrorHandler());
  return app;
}
