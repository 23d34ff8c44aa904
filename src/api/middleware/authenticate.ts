import type { MikroORM } from '@mikro-orm/postgresql';
import type { RequestHandler } from 'express';
import type { FailureLimiter, TokenService } from '../../auth/index.js';
import { AppError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { RouteContext } from '../route.js';

/**
 * Bearer authentication for /api: 429 while the address has too many recent failures, 401 for a
 * missing or unknown token (counted as a failure), otherwise a request context with the
 * principal and the request's own EntityManager.
 */
export function authenticate(deps: {
  orm: MikroORM;
  tokens: TokenService;
  limiter: FailureLimiter;
  logger: Logger;
}): RequestHandler {
  return async (req, res, next) => {
    const ip = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    const retryAfterSeconds = deps.limiter.blockedFor(ip);
    if (retryAfterSeconds > 0)
      throw new AppError('rate_limited', 'Too many failed authentication attempts; try again later.', {
        retryAfterSeconds,
      });
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S{1,512})\s*$/i.exec(header) : null;
    const em = deps.orm.em.fork();
    const principal = match?.[1] ? await deps.tokens.authenticate(em, match[1]) : null;
    if (!principal) {
      deps.limiter.fail(ip);
      req.log?.warn({ ip, reason: header ? 'unknown token' : 'no token' }, 'authentication failed');
      throw new AppError('unauthorized', 'A valid "Authorization: Bearer <token>" header is required.');
    }
    const controller = new AbortController();
    res.on('close', () => controller.abort());
    const ctx: RouteContext = {
      principal,
      em,
      requestId: String(req.id),
      ip,
      signal: controller.signal,
      log: (req.log as Logger | undefined) ?? deps.logger,
      audit: {},
    };
    res.locals.ctx = ctx;
    next();
  };
}
