import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import express, { type ErrorRequestHandler } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../logger.js';
import { createHealthRoutes } from './health.routes.js';

export interface AppDeps {
  orm: MikroORM;
  temporal: Client;
  logger: Logger;
}

export function createApp(deps: AppDeps) {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(helmet());
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
  app.use(express.json({ limit: '100kb' }));

  app.use(
    createHealthRoutes({
      postgres: async () => {
        await deps.orm.em.getConnection().execute('select 1');
      },
      temporal: async () => {
        await deps.temporal.connection.workflowService.getSystemInfo({});
      },
    }),
  );

  app.use((req, res) => {
    res.status(404).json({ error: 'not_found', message: `No route for ${req.method} ${req.path}` });
  });

  const onError: ErrorRequestHandler = (error, req, res, _next) => {
    const status =
      typeof error?.status === 'number' && error.status >= 400 && error.status < 500 ? error.status : 500;
    if (status >= 500) {
      req.log?.error({ err: error }, 'request failed');
      res.status(500).json({ error: 'internal', message: 'Internal error', requestId: req.id });
    } else {
      res
        .status(status)
        .json({ error: error.type ?? 'bad_request', message: error.expose ? error.message : 'Bad request' });
    }
  };
  app.use(onError);
  return app;
}
