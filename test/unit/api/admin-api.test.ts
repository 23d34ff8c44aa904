import { describe, expect, it } from 'vitest';
import {
  companyCreateSchema,
  credentialCreateSchema,
  idParams,
  syncStartSchema,
} from '../../../src/api/schemas.js';
import { maskClientId } from '../../../src/api/services/credentials.service.js';
import { allows } from '../../../src/auth/access.js';
import { createFailureLimiter } from '../../../src/auth/failure-limiter.js';
import { createTokenService, generateToken, hashToken } from '../../../src/auth/tokens.js';

describe('failure limiter', () => {
  it('when an address reaches the limit within the window, then it is blocked until the oldest failure expires', () => {
    let now = 0;
    const limiter = createFailureLimiter({ max: 3, windowMs: 60_000, now: () => now });
    for (let i = 0; i < 3; i++) {
      expect(limiter.blockedFor('a')).toBe(0);
      limiter.fail('a');
      now += 1_000;
    }
    expect(limiter.blockedFor('a')).toBe(57);
    expect(limiter.blockedFor('b')).toBe(0);
    now = 60_001;
    expect(limiter.blockedFor('a')).toBe(0);
  });
});

describe('tokens and roles', () => {
  it('when tokens are generated, then they are unique, prefixed and hashed to 64 hex characters', () => {
    const a = generateToken();
    expect(a).toMatch(/^stsk_[\w-]{43}$/);
    expect(a).not.toBe(generateToken());
    expect(hashToken(a)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('when the bootstrap token is presented, then it is an unrestricted admin, and nothing else is', async () => {
    const service = createTokenService({ adminToken: 'x'.repeat(32) });
    const em = { findOne: async () => null } as never;
    expect(await service.authenticate(em, 'x'.repeat(32))).toMatchObject({ role: 'admin', companyId: null });
    expect(await service.authenticate(em, 'x'.repeat(31))).toBeNull();
    expect(await service.authenticate(em, '')).toBeNull();
  });

  it.each([
    ['viewer', 'read', true],
    ['viewer', 'operate', false],
    ['viewer', 'admin', false],
    ['operator', 'operate', true],
    ['operator', 'admin', false],
    ['admin', 'admin', true],
  ] as const)('when a %s asks for %s, then allowed is %s', (role, access, expected) => {
    expect(allows({ tokenId: 1, name: 't', role, companyId: null }, access)).toBe(expected);
  });
});

describe('schemas', () => {
  it('when a client id is masked, then only its last 4 characters remain', () => {
    expect(maskClientId('cid.abcdef1234')).toBe('****1234');
    expect(maskClientId('abcd')).toBe('****');
  });

  it('when a time zone is valid, then it is normalised; when not, then refused', () => {
    expect(companyCreateSchema.parse({ name: 'a', timeZone: 'america/chicago' }).timeZone).toBe(
      'America/Chicago',
    );
    expect(companyCreateSchema.safeParse({ name: 'a', timeZone: 'Nowhere/City' }).success).toBe(false);
  });

  it('when a tenant id is a number or digits, then it is kept as a string; otherwise refused', () => {
    const base = { companyId: 1, environment: 'integration', clientId: 'c', clientSecret: 's' };
    expect(credentialCreateSchema.parse({ ...base, tenantId: 123 }).tenantId).toBe('123');
    expect(credentialCreateSchema.safeParse({ ...base, tenantId: '12x' }).success).toBe(false);
    expect(credentialCreateSchema.safeParse({ ...base, tenantId: '1', extra: 1 }).success).toBe(false);
  });

  it('when a sync window is given as dates, then it becomes ISO instants; a backwards window is refused', () => {
    expect(syncStartSchema.parse({ mode: { from: '2025-01-01', to: '2025-02-01' } }).mode).toEqual({
      from: '2025-01-01T00:00:00.000Z',
      to: '2025-02-01T00:00:00.000Z',
    });
    expect(syncStartSchema.safeParse({ mode: { from: '2025-02-01', to: '2025-01-01' } }).success).toBe(false);
    expect(syncStartSchema.safeParse({ streams: ['customers', 'customers'] }).success).toBe(false);
  });

  it('when an id is not a positive 32-bit integer, then it is refused', () => {
    expect(idParams.parse({ id: '42' }).id).toBe(42);
    for (const id of ['0', '-1', '1.5', '1e3', '2147483648', ' 1'])
      expect(idParams.safeParse({ id }).success, id).toBe(false);
  });
});
