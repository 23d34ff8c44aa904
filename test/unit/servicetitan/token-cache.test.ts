import { describe, expect, it } from 'vitest';
import { InvalidCredentials } from '../../../src/servicetitan/errors.js';
import { type AccessToken, createTokenCache } from '../../../src/servicetitan/token-cache.js';
import type { TenantCredential } from '../../../src/servicetitan/types.js';

const cred: TenantCredential = {
  environment: 'integration',
  tenantId: '123',
  clientId: 'cid',
  clientSecret: 's',
};

function fakeFetcher(ttlSeconds: number, clock: { now: () => number }, delayMs = 5) {
  let n = 0;
  const calls: TenantCredential[] = [];
  const fetchToken = async (c: TenantCredential): Promise<AccessToken> => {
    calls.push(c);
    const obtainedAt = clock.now();
    await new Promise((r) => setTimeout(r, delayMs));
    n++;
    return { value: `token-${n}`, obtainedAt, expiresAt: obtainedAt + ttlSeconds * 1000 };
  };
  return { fetchToken, calls };
}

describe('token cache', () => {
  it('when the same client id comes with another secret, then the cached token is not reused', async () => {
    const clock = { now: () => 0 };
    const { fetchToken, calls } = fakeFetcher(900, clock);
    const cache = createTokenCache({ fetchToken, now: clock.now });
    expect(await cache.get(cred)).toBe('token-1');
    expect(await cache.get({ ...cred, clientSecret: 'rotated' })).toBe('token-2');
    expect(await cache.get(cred)).toBe('token-1');
    expect(calls.map((c) => c.clientSecret)).toEqual(['s', 'rotated']);
  });

  it('when 50 callers ask at once, then exactly one token request is made', async () => {
    let t = 0;
    const clock = { now: () => t };
    const { fetchToken, calls } = fakeFetcher(900, clock);
    const cache = createTokenCache({ fetchToken, now: clock.now });
    const tokens = await Promise.all(Array.from({ length: 50 }, () => cache.get(cred)));
    expect(new Set(tokens)).toEqual(new Set(['token-1']));
    expect(calls).toHaveLength(1);
    t = 100_000;
    expect(await cache.get(cred)).toBe('token-1');
    expect(cache.fetchCount()).toBe(1);
  });

  it('when the token is within 60 s of expiry, then it is refreshed (once)', async () => {
    let t = 0;
    const clock = { now: () => t };
    const { fetchToken } = fakeFetcher(900, clock);
    const cache = createTokenCache({ fetchToken, now: clock.now });
    expect(await cache.get(cred)).toBe('token-1');
    t = 839_000;
    expect(await cache.get(cred)).toBe('token-1');
    t = 841_000;
    const again = await Promise.all([cache.get(cred), cache.get(cred), cache.get(cred)]);
    expect(again).toEqual(['token-2', 'token-2', 'token-2']);
  });

  it('when the token lives only 4 s, then the early refresh shrinks to a quarter of its life', async () => {
    let t = 0;
    const clock = { now: () => t };
    const { fetchToken } = fakeFetcher(4, clock);
    const cache = createTokenCache({ fetchToken, now: clock.now });
    expect(await cache.get(cred)).toBe('token-1');
    t = 2500;
    expect(await cache.get(cred)).toBe('token-1');
    t = 3100;
    expect(await cache.get(cred)).toBe('token-2');
  });

  it('when several callers report the same token refused, then one refresh serves them all', async () => {
    const clock = { now: () => 0 };
    const { fetchToken, calls } = fakeFetcher(900, clock);
    const cache = createTokenCache({ fetchToken, now: clock.now });
    const stale = await cache.get(cred);
    const fresh = await Promise.all(Array.from({ length: 10 }, () => cache.get(cred, { reject: stale })));
    expect(new Set(fresh)).toEqual(new Set(['token-2']));
    // A late caller that still reports the old token gets the new one without another request.
    expect(await cache.get(cred, { reject: stale })).toBe('token-2');
    expect(calls).toHaveLength(2);
  });

  it('caches per environment + tenant + client id', async () => {
    const clock = { now: () => 0 };
    const { fetchToken, calls } = fakeFetcher(900, clock);
    const cache = createTokenCache({ fetchToken, now: clock.now });
    await cache.get(cred);
    await cache.get({ ...cred, environment: 'production' });
    await cache.get({ ...cred, tenantId: '456' });
    await cache.get({ ...cred, clientId: 'other' });
    await cache.get(cred);
    expect(calls).toHaveLength(4);
  });

  it('when the token request fails, then every waiter gets the error and the next call retries', async () => {
    let fail = true;
    let n = 0;
    const cache = createTokenCache({
      fetchToken: async () => {
        n++;
        await new Promise((r) => setTimeout(r, 5));
        if (fail) throw new InvalidCredentials({ status: 400 });
        return { value: 'ok', obtainedAt: 0, expiresAt: Date.now() + 900_000 };
      },
    });
    const results = await Promise.allSettled([cache.get(cred), cache.get(cred)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(n).toBe(1);
    fail = false;
    expect(await cache.get(cred)).toBe('ok');
  });

  it('when one waiter aborts, then the others still get the shared token', async () => {
    const clock = { now: () => 0 };
    const { fetchToken } = fakeFetcher(900, clock, 30);
    const cache = createTokenCache({ fetchToken, now: clock.now });
    const controller = new AbortController();
    const a = cache.get(cred, { signal: controller.signal });
    const b = cache.get(cred);
    controller.abort(new Error('gone'));
    await expect(a).rejects.toThrow('gone');
    expect(await b).toBe('token-1');
  });
});
