/**
 * Issued access tokens. Opaque random strings bound to one tenant and environment; expiry runs on
 * the wall clock (tests shorten the TTL to a second or two rather than moving the sandbox clock).
 */
import { randomBytes } from 'node:crypto';
import type { SandboxEnvironment } from './types.js';

export interface TokenGrant {
  tenantId: number;
  environment: SandboxEnvironment;
  expiresAt: number;
}

export type TokenCheck =
  | { ok: true; grant: TokenGrant }
  | { ok: false; reason: 'unknown' | 'expired' | 'revoked' };

export interface TokenStore {
  issue(tenantId: number, environment: SandboxEnvironment): { token: string; expiresIn: number };
  check(token: string): TokenCheck;
  revokeTenant(tenantId: number): void;
}

export function createTokenStore(ttlSeconds: number, wallClock: () => number = Date.now): TokenStore {
  const grants = new Map<string, TokenGrant & { revoked: boolean }>();
  // Expired grants are kept for an hour so a late caller is told "expired", not "unknown".
  const prune = (now: number): void => {
    for (const [token, grant] of grants) if (grant.expiresAt + 3_600_000 < now) grants.delete(token);
  };
  return {
    issue(tenantId, environment) {
      const now = wallClock();
      prune(now);
      const token = `sbx.${randomBytes(24).toString('base64url')}`;
      grants.set(token, { tenantId, environment, expiresAt: now + ttlSeconds * 1000, revoked: false });
      return { token, expiresIn: ttlSeconds };
    },
    check(token) {
      const grant = grants.get(token);
      if (!grant) return { ok: false, reason: 'unknown' };
      if (grant.revoked) return { ok: false, reason: 'revoked' };
      if (grant.expiresAt <= wallClock()) return { ok: false, reason: 'expired' };
      return { ok: true, grant };
    },
    revokeTenant(tenantId) {
      for (const grant of grants.values()) if (grant.tenantId === tenantId) grant.revoked = true;
    },
  };
}
