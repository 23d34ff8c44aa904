import { timingSafeEqual } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Request, RequestHandler } from 'express';
import {
  CSRF_HEADER,
  csrfTokenOf,
  type FailureLimiter,
  type Principal,
  SESSION_COOKIE,
  type SessionService,
  type TokenService,
} from '../../auth/index.js';
import { AppError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { RouteContext } from '../route.js';

/** The value of one cookie of the request (no cookie parser needed for the one cookie we set). */
export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether the request carries the session's CSRF token (compared in constant time). */
export function hasCsrfToken(req: Request, sessionId: string): boolean {
  const sent = req.headers[CSRF_HEADER];
  if (typeof sent !== 'string') return false;
  const expected = Buffer.from(csrfTokenOf(sessionId));
  const given = Buffer.from(sent);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function requireCsrfToken(req: Request, sessionId: string): void {
  if (!safeMethods.has(req.method) && !hasCsrfToken(req, sessionId))
    throw new AppError(
      'csrf_failed',
      'A signed-in console request that changes something needs the session\'s "X-CSRF-Token" header.',
    );
}

/**
 * Counts a failed authentication of the client's address, or refuses it (429) while the address
 * has too many recent ones. Shared by Bearer tokens, session cookies, sign-in and sign-in links.
 */
export function failAuthentication(limiter: FailureLimiter, ip: string, message: string): never {
  const retryAfterSeconds = limiter.blockedFor(ip);
  // Failures while blocked are not counted: the block ends on time, and a spray of them
  // cannot grow the limiter's memory.
  if (retryAfterSeconds > 0)
    throw new AppError('rate_limited', 'Too many failed authentication attempts; try again later.', {
      retryAfterSeconds,
    });
  limiter.fail(ip);
  throw new AppError('unauthorized', message);
}

export function clientIp(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

/**
 * Authentication for /api: an `Authorization: Bearer` token, or else the console's session
 * cookie. A valid credential always passes; a missing or unknown one is 401 (counted as a
 * failure of the client's address), or 429 once that address has too many recent failures. The
 * credential is checked before the throttle because many clients can share an address (everyone
 * behind one proxy or NAT): a burst of bad requests from one of them must not lock the others
 * out. Guessing stays pointless: tokens and session ids are random 256-bit values, and a
 * throttled address learns nothing from its failures but a 429.
 *
 * A cookie is sent by the browser whoever made the page, so cookie-authenticated requests that
 * change something must also carry the session's CSRF token, which only the console's own page
 * could read (from the sign-in answer). Bearer requests need none: no browser adds them by itself.
 */
export function authenticate(deps: {
  orm: MikroORM;
  tokens: TokenService;
  sessions: SessionService;
  limiter: FailureLimiter;
  logger: Logger;
}): RequestHandler {
  return async (req, res, next) => {
    const ip = clientIp(req);
    const header = req.headers.authorization;
    const em = deps.orm.em.fork();
    let principal: Principal | null = null;
    if (header !== undefined) {
      const match = typeof header === 'string' ? /^Bearer\s+(\S{1,512})\s*$/i.exec(header) : null;
      principal = match?.[1] ? await deps.tokens.authenticate(em, match[1]) : null;
      if (!principal) {
        req.log?.warn({ ip, reason: 'unknown token' }, 'authentication failed');
        failAuthentication(deps.limiter, ip, 'A valid "Authorization: Bearer <token>" header is required.');
      }
    } else {
      const sessionId = readCookie(req, SESSION_COOKIE);
      const session = sessionId ? await deps.sessions.resolve(em, sessionId) : null;
      if (!session) {
        req.log?.warn(
          { ip, reason: sessionId ? 'unknown or ended session' : 'no token' },
          'authentication failed',
        );
        failAuthentication(
          deps.limiter,
          ip,
          sessionId
            ? 'The console session has ended; sign in again.'
            : 'A valid "Authorization: Bearer <token>" header or console session is required.',
        );
      }
      requireCsrfToken(req, session.sessionId);
      principal = session.principal;
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
