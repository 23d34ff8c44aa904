import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger.js';
import type { Metrics } from './metrics.js';

/** True when METRICS_TOKEN is unset, or the request carries it as a bearer token. */
export function metricsAuthorized(authorization: string | undefined, token: string | undefined): boolean {
  if (!token) return true;
  const given = Buffer.from(/^Bearer (.+)$/i.exec(authorization ?? '')?.[1] ?? '');
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/** Answers a scrape: the exposition, or 401 when METRICS_TOKEN is set and not given. */
export async function answerScrape(
  metrics: Metrics,
  token: string | undefined,
  req: Pick<IncomingMessage, 'headers'>,
): Promise<{ status: number; contentType: string; body: string }> {
  if (!metricsAuthorized(req.headers.authorization, token))
    return {
      status: 401,
      contentType: 'text/plain; charset=utf-8',
      body: 'metrics need the METRICS_TOKEN bearer\n',
    };
  return { status: 200, contentType: metrics.contentType, body: await metrics.text() };
}

export interface MetricsServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** A worker's scrape endpoint: GET /metrics on its own port (METRICS_PORT), nothing else. */
export async function startMetricsServer(options: {
  metrics: Metrics;
  port: number;
  host: string;
  token?: string | undefined;
  logger: Logger;
}): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: GET /metrics\n');
      return;
    }
    answerScrape(options.metrics, options.token, req).then(
      ({ status, contentType, body }) => res.writeHead(status, { 'content-type': contentType }).end(body),
      (error: unknown) => {
        options.logger.error({ err: error }, 'metrics could not be collected');
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics failed\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}/metrics`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
