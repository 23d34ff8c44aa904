import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { type ApiRole, ApiToken, ConsoleSession, SignInCode } from '../db/entities/index.js';
import { AppError } from '../errors.js';
import {
  bootstrapPrincipal,
  hashToken,
  noteTokenUse,
  type Principal,
  principalOf,
  type TokenService,
} from './tokens.js';

export const SESSION_COOKIE = 'stsync_session';
export const CSRF_HEADER = 'x-csrf-token';
/** The stored token a sign-in link opens a session of, when no token is named. */
export const SIGN_IN_LINK_TOKEN_NAME = 'console sign-in link';

/**
 * The CSRF token of a session: an HMAC keyed by the session id, so it needs no storage and only
 * someone holding the (HttpOnly) cookie's value, i.e. the server, can compute it. A page on
 * another site can send the cookie but can neither read it nor this token.
 */
export function csrfTokenOf(sessionId: string): string {
  return createHmac('sha256', sessionId).update('stsync csrf v1').digest('base64url');
}

export interface SessionView {
  principal: { role: ApiRole; companyId: number | null; tokenName: string };
  csrfToken: string;
  expiresAt: string;
}

export interface OpenSession {
  /** The cookie's value; never stored, logged or answered in a body. */
  sessionId: string;
  /** The row's id (for audit rows), not a secret. */
  rowId: number;
  principal: Principal;
  view: SessionView;
}

function view(sessionId: string, principal: Principal, expiresAt: Date): SessionView {
  return {
    principal: { role: principal.role, companyId: principal.companyId, tokenName: principal.name },
    csrfToken: csrfTokenOf(sessionId),
    expiresAt: expiresAt.toISOString(),
  };
}

/**
 * Console sessions opened with an API token. Expiry is absolute: a session ends `ttlHours` after
 * sign-in however busy it is, so a stolen or forgotten cookie has a bounded life (a console open
 * all day signs in again next morning). `lastSeenAt` is kept for the operator's information.
 */
export function createSessionService(deps: {
  tokens: TokenService;
  adminToken?: string | undefined;
  ttlHours: number;
  now?: () => Date;
}) {
  const now = deps.now ?? (() => new Date());
  const bootstrapHash = deps.adminToken ? hashToken(deps.adminToken) : undefined;

  const open = async (em: EntityManager, principal: Principal): Promise<OpenSession> => {
    const sessionId = randomBytes(32).toString('base64url');
    const at = now();
    const expiresAt = new Date(at.getTime() + deps.ttlHours * 3_600_000);
    // Expired rows are of no use to anyone; sign-ins are rare enough to sweep them here.
    await em.nativeDelete(ConsoleSession, { expiresAt: { $lte: at } });
    const row = em.create(ConsoleSession, {
      sessionHash: hashToken(sessionId),
      token: principal.tokenId,
      bootstrapTokenHash: principal.tokenId === null ? (bootstrapHash ?? null) : null,
      expiresAt,
      lastSeenAt: at,
    });
    await em.flush();
    return { sessionId, rowId: row.id, principal, view: view(sessionId, principal, expiresAt) };
  };

  return {
    /** Checks a token as Bearer authentication does; null when it is not a valid token. */
    async signIn(em: EntityManager, token: string): Promise<OpenSession | null> {
      const principal = await deps.tokens.authenticate(em, token);
      if (!principal) return null;
      return open(em, principal);
    },

    /** The session of a cookie's value, or null when it is unknown, expired or its token is gone. */
    async resolve(em: EntityManager, sessionId: string): Promise<OpenSession | null> {
      if (!sessionId || sessionId.length > 128) return null;
      const row = await em.findOne(
        ConsoleSession,
        { sessionHash: hashToken(sessionId) },
        { populate: ['token'] },
      );
      const at = now();
      if (!row || row.expiresAt <= at) return null;
      let principal: Principal;
      if (row.token) {
        if (row.token.revokedAt) return null;
        principal = principalOf(row.token);
        await noteTokenUse(em, row.token, at);
      } else {
        // A bootstrap session lives only while ADMIN_TOKEN is still the token it was opened with.
        const stored = row.bootstrapTokenHash;
        if (!bootstrapHash || !stored || stored.length !== bootstrapHash.length) return null;
        if (!timingSafeEqual(Buffer.from(stored), Buffer.from(bootstrapHash))) return null;
        principal = bootstrapPrincipal;
      }
      // Written at most once a minute: a busy console must not turn every read into a write.
      if (at.getTime() - row.lastSeenAt.getTime() > 60_000)
        await em.nativeUpdate(ConsoleSession, { id: row.id }, { lastSeenAt: at });
      return { sessionId, rowId: row.id, principal, view: view(sessionId, principal, row.expiresAt) };
    },

    /** Ends a session; true when there was one. */
    async signOut(em: EntityManager, sessionId: string): Promise<boolean> {
      return (await em.nativeDelete(ConsoleSession, { sessionHash: hashToken(sessionId) })) > 0;
    },

    /**
     * Uses a one-time sign-in code: valid, unexpired and unused, marked used in the same
     * statement (two clicks on one link cannot both win). Null when the code does not work.
     */
    async redeem(em: EntityManager, code: string): Promise<OpenSession | null> {
      if (!code || code.length > 128) return null;
      const at = now();
      // em.execute runs in em's transaction, so the code stays unused if the sign-in rolls back.
      const rows = await em.execute<{ token_id: number }[]>(
        'update "sign_in_codes" set "used_at" = ? where "code_hash" = ? and "used_at" is null and "expires_at" > ? returning "token_id"',
        [at, hashToken(code), at],
      );
      const tokenId = rows[0]?.token_id;
      if (tokenId === undefined) return null;
      const token = await em.findOne(ApiToken, { id: tokenId, revokedAt: null });
      if (!token) return null;
      return open(em, principalOf(token));
    },
  };
}

export type SessionService = ReturnType<typeof createSessionService>;

/**
 * Makes a one-time sign-in code for the console: the session it opens acts as the named stored
 * token, or (given a role) as the unrevoked, unlimited token named "console sign-in link" of
 * that role, created when there is none. Only the code's hash is stored; the code is returned once.
 */
export async function createSignInCode(
  orm: MikroORM,
  options: ({ tokenId: number } | { role: ApiRole }) & { ttlSeconds?: number },
): Promise<{ code: string; expiresAt: Date; tokenId: number }> {
  const em = orm.em.fork();
  const ttlSeconds = options.ttlSeconds ?? 600;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 86_400)
    throw new AppError('bad_request', 'A sign-in code lives between 1 second and 1 day.');
  let tokenId: number;
  if ('tokenId' in options) {
    const token = await em.findOne(ApiToken, { id: options.tokenId, revokedAt: null });
    if (!token) throw new AppError('not_found', `Token ${options.tokenId} does not exist or is revoked.`);
    tokenId = token.id;
  } else {
    const existing = await em.findOne(
      ApiToken,
      { name: SIGN_IN_LINK_TOKEN_NAME, role: options.role, company: null, revokedAt: null },
      { orderBy: { id: 'asc' } },
    );
    if (existing) tokenId = existing.id;
    else {
      // The token's plaintext is thrown away: only sign-in links ever act as it.
      const created = em.create(ApiToken, {
        name: SIGN_IN_LINK_TOKEN_NAME,
        role: options.role,
        company: null,
        tokenHash: hashToken(randomBytes(32).toString('base64url')),
      });
      await em.flush();
      tokenId = created.id;
    }
  }
  const code = randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
  em.create(SignInCode, { codeHash: hashToken(code), token: tokenId, expiresAt });
  await em.flush();
  return { code, expiresAt, tokenId };
}
