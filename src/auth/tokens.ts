import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { type ApiRole, ApiToken, Company, ConsoleSession, type IApiToken } from '../db/entities/index.js';
import { AppError } from '../errors.js';

/** Who is calling: a stored token, the ADMIN_TOKEN bootstrap admin, or the CLI. */
export interface Principal {
  /** Null for the bootstrap token and the CLI. */
  tokenId: number | null;
  name: string;
  role: ApiRole;
  /** Set: every resource outside this company is invisible and unchangeable. */
  companyId: number | null;
}

const TOKEN_PREFIX = 'stsk_';

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** 256 random bits, URL-safe, with a prefix that secret scanners and people recognise. */
export function generateToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

export interface TokenView {
  id: number;
  name: string;
  role: ApiRole;
  companyId: number | null;
  createdAt: string;
  revokedAt: string | null;
  /** Null: never used since usage was recorded. */
  lastUsedAt: string | null;
}

/** Who acts with a stored token: what Bearer authentication and console sessions both answer. */
export function principalOf(token: IApiToken): Principal {
  return { tokenId: token.id, name: token.name, role: token.role, companyId: token.company?.id ?? null };
}

/** The bootstrap `ADMIN_TOKEN`'s principal. */
export const bootstrapPrincipal: Principal = Object.freeze({
  tokenId: null,
  name: 'ADMIN_TOKEN',
  role: 'admin',
  companyId: null,
});

function toView(t: IApiToken): TokenView {
  return {
    id: t.id,
    name: t.name,
    role: t.role,
    companyId: t.company?.id ?? null,
    createdAt: t.createdAt.toISOString(),
    revokedAt: t.revokedAt?.toISOString() ?? null,
    lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
  };
}

/**
 * Notes that a stored token authenticated a request: written at most once a minute, so a busy
 * client does not turn every read into a write.
 */
export async function noteTokenUse(em: EntityManager, token: IApiToken, at = new Date()): Promise<void> {
  if (token.lastUsedAt && at.getTime() - token.lastUsedAt.getTime() <= 60_000) return;
  await em.nativeUpdate(ApiToken, { id: token.id }, { lastUsedAt: at });
}

/**
 * Authenticates bearer tokens and manages stored ones. The bootstrap token is compared by hash in
 * constant time; stored tokens are found by the hash's unique index.
 */
export function createTokenService(deps: { adminToken?: string | undefined }) {
  const bootstrapHash = deps.adminToken ? Buffer.from(hashToken(deps.adminToken), 'hex') : undefined;

  return {
    async authenticate(em: EntityManager, token: string): Promise<Principal | null> {
      if (!token) return null;
      const hash = hashToken(token);
      if (bootstrapHash && timingSafeEqual(bootstrapHash, Buffer.from(hash, 'hex'))) {
        return bootstrapPrincipal;
      }
      const stored = await em.findOne(ApiToken, { tokenHash: hash, revokedAt: null });
      if (!stored) return null;
      await noteTokenUse(em, stored);
      return principalOf(stored);
    },

    /** Makes a token; the plaintext is returned here once and never stored. */
    async create(
      em: EntityManager,
      input: { role: ApiRole; name: string; companyId?: number | null | undefined },
    ): Promise<TokenView & { token: string }> {
      if (input.companyId != null && !(await em.findOne(Company, input.companyId)))
        throw new AppError('not_found', `Company ${input.companyId} does not exist.`);
      const token = generateToken();
      const row = em.create(ApiToken, {
        name: input.name,
        role: input.role,
        company: input.companyId ?? null,
        tokenHash: hashToken(token),
      });
      await em.flush();
      return { ...toView(row), token };
    },

    async list(em: EntityManager): Promise<TokenView[]> {
      const rows = await em.find(ApiToken, {}, { orderBy: { id: 'asc' } });
      return rows.map(toView);
    },

    async revoke(em: EntityManager, id: number): Promise<TokenView> {
      const row = await em.findOne(ApiToken, id);
      if (!row) throw new AppError('not_found', `Token ${id} does not exist.`);
      row.revokedAt ??= new Date();
      // Its console sessions end with it (sign-in also checks the token, this just tidies up).
      await em.nativeDelete(ConsoleSession, { token: id });
      await em.flush();
      return toView(row);
    },
  };
}

export type TokenService = ReturnType<typeof createTokenService>;
