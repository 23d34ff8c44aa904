import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import express, { type Request, type Response, Router } from 'express';
import type { AuditLog } from '../../audit/index.js';
import {
  type FailureLimiter,
  type OpenSession,
  SESSION_COOKIE,
  type SessionService,
} from '../../auth/index.js';
import { validationError } from '../errors.js';
import { clientIp, failAuthentication, readCookie, requireCsrfToken } from '../middleware/authenticate.js';
import { sessionCreateSchema } from '../schemas.js';

export interface SessionRouteDeps {
  orm: MikroORM;
  sessions: SessionService;
  limiter: FailureLimiter;
  audit: AuditLog;
}

/** HttpOnly (no page script reads it), SameSite=Strict (no other site sends it), Secure on https. */
function cookieOptions(req: Request) {
  return { httpOnly: true, sameSite: 'strict', path: '/', secure: req.secure } as const;
}

function setSessionCookie(req: Request, res: Response, session: OpenSession): void {
  res.cookie(SESSION_COOKIE, session.sessionId, {
    ...cookieOptions(req),
    expires: new Date(session.view.expiresAt),
  });
}

/** The audit row of a sign-in or sign-out, in the transaction of the change itself. */
function audited(
  deps: SessionRouteDeps,
  em: EntityManager,
  req: Request,
  session: OpenSession,
  action: string,
) {
  return deps.audit.record(em, {
    actor: session.principal,
    action,
    targetType: 'session',
    targetId: session.rowId,
    companyId: session.principal.companyId,
    ip: clientIp(req),
    requestId: String(req.id),
    outcome: 'success',
    details: {},
  });
}

/**
 * `/api/session`: signing the browser console in with an API token, reading the session, and
 * signing out. Mounted before the /api authentication: signing in is how a console
 * authenticates. Answers carry `Cache-Control: no-store` (they hold the CSRF token).
 */
export function createSessionRoutes(deps: SessionRouteDeps): Router {
  const router = Router();

  // JSON only: a cross-site HTML form cannot send it, so no other site can sign a browser in
  // with a token of the attacker's choosing.
  router.post('/session', express.json({ limit: '4kb', strict: true }), async (req, res) => {
    const parsed = sessionCreateSchema.safeParse(req.body ?? {});
    if (!parsed.success) throw validationError('body', parsed.error);
    const ip = clientIp(req);
    const em = deps.orm.em.fork();
    const session = await em.transactional(async (tem) => {
      const opened = await deps.sessions.signIn(tem, parsed.data.token);
      if (!opened) return null;
      // A console signing in again replaces the session it had.
      const previous = readCookie(req, SESSION_COOKIE);
      if (previous) await deps.sessions.signOut(tem, previous);
      await audited(deps, tem, req, opened, 'session.sign_in');
      return opened;
    });
    if (!session) {
      req.log?.warn({ ip, reason: 'unknown token' }, 'console sign-in failed');
      failAuthentication(deps.limiter, ip, 'This API token is not valid (unknown or revoked).');
    }
    setSessionCookie(req, res, session);
    res.setHeader('cache-control', 'no-store');
    res.status(200).json(session.view);
  });

  router.get('/session', async (req, res) => {
    const sessionId = readCookie(req, SESSION_COOKIE);
    const session = sessionId ? await deps.sessions.resolve(deps.orm.em.fork(), sessionId) : null;
    if (!session)
      failAuthentication(
        deps.limiter,
        clientIp(req),
        sessionId ? 'The console session has ended; sign in again.' : 'Not signed in.',
      );
    res.setHeader('cache-control', 'no-store');
    res.status(200).json(session.view);
  });

  router.delete('/session', async (req, res) => {
    const sessionId = readCookie(req, SESSION_COOKIE);
    const em = deps.orm.em.fork();
    const session = sessionId ? await deps.sessions.resolve(em, sessionId) : null;
    // Signing out of an ended session just clears the cookie; a live one needs the CSRF token,
    // or any page could sign the console out.
    if (session) {
      requireCsrfToken(req, session.sessionId);
      await em.transactional(async (tem) => {
        await deps.sessions.signOut(tem, session.sessionId);
        await audited(deps, tem, req, session, 'session.sign_out');
      });
    }
    res.clearCookie(SESSION_COOKIE, cookieOptions(req));
    res.status(204).end();
  });

  return router;
}

/**
 * `GET /signin?code=…` (outside /api, so the link `npm start` prints is short): uses a one-time
 * sign-in code, sets the session cookie and sends the browser to the console. A code works once,
 * before it expires; failures count towards the address's authentication throttle.
 */
export function createSignInLinkRoutes(deps: SessionRouteDeps): Router {
  const router = Router();
  router.get('/signin', async (req, res) => {
    const code = typeof req.query.code === 'string' ? req.query.code : '';
    const ip = clientIp(req);
    const session = code
      ? await deps.orm.em.fork().transactional(async (tem) => {
          const opened = await deps.sessions.redeem(tem, code);
          if (opened) await audited(deps, tem, req, opened, 'session.sign_in_link');
          return opened;
        })
      : null;
    if (!session) {
      req.log?.warn(
        { ip, reason: code ? 'unknown, used or expired code' : 'no code' },
        'sign-in link failed',
      );
      failAuthentication(
        deps.limiter,
        ip,
        'This sign-in link is not valid: it was already used or has expired. Restart `npm start` for a new one, or sign in with an API token.',
      );
    }
    setSessionCookie(req, res, session);
    res.setHeader('cache-control', 'no-store');
    res.redirect(303, '/');
  });
  return router;
}
