import { createHash } from 'node:crypto';
import type { TenantCredential } from './types.js';

export interface AccessToken {
  value: string;
  /** Epoch ms at which the server stops accepting it. */
  expiresAt: number;
  /** Epoch ms at which it was obtained. */
  obtainedAt: number;
}

export type TokenFetcher = (cred: TenantCredential) => Promise<AccessToken>;

export interface TokenCache {
  /**
   * A valid token for the credential. `reject` is a token the API just refused (401): if the
   * cache still holds it, it is replaced; if another caller already replaced it, the new one is
   * returned without a second request.
   */
  get(cred: TenantCredential, options?: { reject?: string; signal?: AbortSignal }): Promise<string>;
  /** Drops every token of this credential (e.g. after its secret changed). */
  forget(cred: TenantCredential): void;
  /** Number of token requests made so far (for tests and metrics). */
  fetchCount(): number;
}

export interface TokenCacheOptions {
  fetchToken: TokenFetcher;
  /** Refresh this long before expiry; capped at a quarter of the token's lifetime. Default 60 s. */
  refreshBeforeExpiryMs?: number;
  now?: () => number;
}

/**
 * A token belongs to the exact id/secret pair that obtained it: a rotated or mistyped secret must
 * not ride on a token the old one got (a connection test would otherwise say "connected"). The
 * secret enters the key only as a hash.
 */
export function credentialKey(cred: TenantCredential): string {
  const secret = createHash('sha256').update(cred.clientSecret).digest('base64url').slice(0, 16);
  return `${cred.environment}:${cred.tenantId}:${cred.clientId}:${secret}`;
}

/**
 * Tokens cached per credential with single flight: however many callers ask at once, one
 * request goes to the token endpoint and they all await it. A caller's AbortSignal stops its
 * own wait, never the shared request.
 */
export function createTokenCache(options: TokenCacheOptions): TokenCache {
  const now = options.now ?? Date.now;
  const skewMs = options.refreshBeforeExpiryMs ?? 60_000;
  const cache = new Map<string, AccessToken>();
  const inFlight = new Map<string, Promise<AccessToken>>();
  let fetches = 0;

  const fresh = (token: AccessToken, reject: string | undefined): boolean => {
    if (token.value === reject) return false;
    const lifetime = token.expiresAt - token.obtainedAt;
    return now() < token.expiresAt - Math.min(skewMs, lifetime / 4);
  };

  const start = (cred: TenantCredential, key: string): Promise<AccessToken> => {
    fetches++;
    const request = options
      .fetchToken(cred)
      .then((token) => {
        cache.set(key, token);
        return token;
      })
      .finally(() => {
        if (inFlight.get(key) === request) inFlight.delete(key);
      });
    inFlight.set(key, request);
    return request;
  };

  return {
    async get(cred, { reject, signal } = {}) {
      signal?.throwIfAborted();
      const key = credentialKey(cred);
      const cached = cache.get(key);
      if (cached && fresh(cached, reject)) return cached.value;
      if (cached && cached.value === reject) cache.delete(key);
      const pending = inFlight.get(key) ?? start(cred, key);
      const token = await raceAbort(pending, signal);
      return token.value;
    },
    forget(cred) {
      cache.delete(credentialKey(cred));
    },
    fetchCount: () => fetches,
  };
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
