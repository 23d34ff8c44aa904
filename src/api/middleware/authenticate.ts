import type { MikroORM } from '@mikro-orm/postgresql';
import type { RequestHandler } from 'express';
import type { FailureLimiter, TokenService } from '../../auth/index.js';
import { AppError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { RouteContext } from '../route.js';

/**
 * Bearer authentication for /api: a valid token always passes; a missing or unknown one is 401
 * (counted as a failure of the client's address), or 429 once that address has too many recent
 * failures. The token is checked before the throttle because many clients can share an address
 * (everyone behind one proxy or NAT): a burst of bad requests from one of them must not lock the
 * others out. Guessing stays pointless: stored tokens are random 256-bit values, and a throttled
 * address learns nothing from its failures but a 429.
 */
export function authenticate(deps: {
  orm: MikroORM;
  tokens: TokenService;
  limiter: FailureLimiter;
  logger: Logger;
}): RequestHandler {
  return async (req, res, next) => {
    const ip = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S{1,512})\s*$/i.exec(header) : null;
    const em = deps.orm.em.fork();
    const principal = match?.[1] ? await deps.tokens.authenticate(em, match[1]) : null;
    if (!principal) {
      const retryAfterSeconds = deps.limiter.blockedFor(ip);
      // Failures while blocked are not counted: the block ends on time, and a spray of them
      // cannot grow the limiter's memory.
      if (retryAfterSeconds > 0)
        throw new AppError('rate_limited', 'Too many failed authentication attempts; try again later.', {
          retryAfterSeconds,
        });
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
