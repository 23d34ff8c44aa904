import { afterEach, describe, expect, it } from 'vitest';
import {
  AppNotApproved,
  CredentialForAnotherTenant,
  InvalidAppKey,
  InvalidCredentials,
  isRetryable,
  ModuleNotLicensed,
  type TenantApi,
  TokenRejected,
} from '../../../src/servicetitan/index.js';
import { drain, expectExactly, groundTruthIds, type Harness, startHarness, TENANT } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('access problems are typed errors with an actionable status', () => {
  it('when everything is fine, then the connection test says connected with every stream ok', async () => {
    h = await startHarness();
    expect(await h.tenant.testConnection()).toMatchObject({
      status: 'connected',
      streams: { customers: 'ok', customerContacts: 'ok', locations: 'ok', invoices: 'ok' },
    });
  });

  it('when the tenant has not approved the app, then AppNotApproved and awaiting_approval; approving fixes it', async () => {
    h = await startHarness({ tenants: [{ tenantId: TENANT, customers: 30, invoices: 30, approved: false }] });
    const err = await drain(h.tenant.exportPages('customers')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppNotApproved);
    expect(isRetryable(err)).toBe(false);
    const result = await h.tenant.testConnection();
    expect(result.status).toBe('awaiting_approval');
    expect(result.message).toContain('Settings > Integrations > API Application Access');

    h.sandbox.setApproved(TENANT, true);
    expect((await h.tenant.testConnection()).status).toBe('connected');
    expectExactly(
      (await drain(h.tenant.exportPages('customers'))).ids,
      groundTruthIds(h.sandbox, TENANT, 'customers'),
    );
  });

  it('when accounting is not licensed, then invoices fail with ModuleNotLicensed while CRM streams work', async () => {
    h = await startHarness({
      tenants: [{ tenantId: TENANT, customers: 30, invoices: 30, licensed: { accounting: false } }],
    });
    const err = await drain(h.tenant.exportPages('invoices')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModuleNotLicensed);
    expect((err as ModuleNotLicensed).module).toBe('accounting');
    expectExactly(
      (await drain(h.tenant.exportPages('customers'))).ids,
      groundTruthIds(h.sandbox, TENANT, 'customers'),
    );
    expect(await h.tenant.testConnection()).toMatchObject({
      status: 'connected',
      streams: { customers: 'ok', customerContacts: 'ok', locations: 'ok', invoices: 'module_not_licensed' },
    });
  });

  it('when the secret is wrong, then InvalidCredentials (one token request) and invalid_credentials', async () => {
    h = await startHarness();
    const wrong = h.client.tenant({ ...h.cred, clientSecret: 'cs1.wrong' });
    const err = await drain(wrong.exportPages('customers')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidCredentials);
    expect(h.sandbox.stats().tokenRequests).toBe(1);
    expect(h.sandbox.stats().requests).toBe(1);
    expect((await wrong.testConnection()).status).toBe('invalid_credentials');
  });

  it('when the sandbox is down, then the connection test says unreachable', async () => {
    h = await startHarness({}, { maxAttempts: 2 });
    await h.sandbox.close();
    const result = await h.tenant.testConnection();
    expect(result.status).toBe('unreachable');
  });
});

describe('every 401 says which credential is wrong', () => {
  const probeStatus = async (tenant: TenantApi) => {
    const result = await tenant.testConnection();
    return { status: result.status, message: result.message };
  };

  it('when the app key is wrong, then InvalidAppKey naming SERVICETITAN_APP_KEY, without a token refresh', async () => {
    h = await startHarness({}, { appKey: 'not-the-app-key' });
    const err = await drain(h.tenant.exportPages('customers')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidAppKey);
    expect(err).toMatchObject({ code: 'servicetitan_invalid_app_key', missing: false, retryable: false });
    expect((err as Error).message).toContain('ST-App-Key');
    expect((err as Error).message).toContain('SERVICETITAN_APP_KEY');
    expect(h.sandbox.stats().tokenRequests).toBe(1);

    const result = await probeStatus(h.tenant);
    expect(result.status).toBe('invalid_credentials');
    expect(result.message).toContain('SERVICETITAN_APP_KEY');
  });

  it('when a proxy strips the ST-App-Key header, then InvalidAppKey says it is missing', async () => {
    const stripAppKey: typeof fetch = (input, init) => {
      const headers = new Headers(init?.headers);
      headers.delete('st-app-key');
      return fetch(input, { ...init, headers });
    };
    h = await startHarness({}, { fetch: stripAppKey });
    const err = await drain(h.tenant.exportPages('customers')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidAppKey);
    expect(err).toMatchObject({ code: 'servicetitan_invalid_app_key', missing: true });
    expect((await probeStatus(h.tenant)).status).toBe('invalid_credentials');
  });

  it('when the client id belongs to another tenant, then invalid credentials for this tenant', async () => {
    const OTHER = TENANT + 1;
    h = await startHarness({
      tenants: [
        { tenantId: TENANT, customers: 10, invoices: 10 },
        { tenantId: OTHER, customers: 10, invoices: 10 },
      ],
    });
    const other = h.sandbox.tenants.find((t) => t.tenantId === OTHER)!;
    const mixed = h.client.tenant({ ...h.cred, clientId: other.clientId, clientSecret: other.clientSecret });
    const err = await drain(mixed.exportPages('customers')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialForAnotherTenant);
    expect(err).toBeInstanceOf(InvalidCredentials);
    expect(err).toMatchObject({ code: 'servicetitan_tenant_mismatch', tenantId: String(TENANT) });
    expect((err as Error).message).toContain(`not valid for tenant ${TENANT}`);
    // A fresh token of the same client would be bound to the same other tenant: no refresh.
    expect(h.sandbox.stats().tokenRequests).toBe(1);

    const result = await probeStatus(mixed);
    expect(result.status).toBe('invalid_credentials');
    expect(result.message).toContain(`tenant ${TENANT}`);
  });

  it('when a token was revoked, then one refresh and the read completes', async () => {
    h = await startHarness();
    await drain(h.tenant.exportPages('invoices'));
    h.sandbox.revokeTokens(TENANT);
    expectExactly(
      (await drain(h.tenant.exportPages('customers'))).ids,
      groundTruthIds(h.sandbox, TENANT, 'customers'),
    );
    expect(h.sandbox.stats().tokenRequests).toBe(2);
  });

  it('when even a fresh token is refused as expired, then TokenRejected after exactly one refresh', async () => {
    h = await startHarness({ tokenTtlSeconds: 0 });
    const err = await drain(h.tenant.exportPages('customers')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenRejected);
    expect(err).toBeInstanceOf(InvalidCredentials);
    expect(err).toMatchObject({ code: 'servicetitan_token_rejected', reason: 'expired', retryable: false });
    expect(h.sandbox.stats().tokenRequests).toBe(2);
    expect(h.sandbox.stats().requests - h.sandbox.stats().tokenRequests).toBe(2);
    expect((await probeStatus(h.tenant)).status).toBe('invalid_credentials');
  });

  it('when the unapproved tenant answers 401, then AppNotApproved and awaiting_approval with where to approve', async () => {
    h = await startHarness({
      tenants: [{ tenantId: TENANT, customers: 10, invoices: 10, approved: false, unapprovedStatus: 401 }],
    });
    const err = await drain(h.tenant.exportPages('customers')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppNotApproved);
    expect(err).not.toBeInstanceOf(InvalidCredentials);
    const result = await probeStatus(h.tenant);
    expect(result.status).toBe('awaiting_approval');
    expect(result.message).toContain('Settings > Integrations > API Application Access');
  });
});

describe('rate limiting against the sandbox', () => {
  it('when three feeds of one tenant run at once, then the shared limiter keeps them under the server limit', async () => {
    h = await startHarness(
      { rateLimitPerSecond: 30, pageSizes: { customers: 10, contacts: 10, locations: 10, invoices: 10 } },
      { rateLimitPerSecond: 30 },
    );
    const harness = h;
    const started = Date.now();
    const results = await Promise.all(
      (['customers', 'locations', 'invoices'] as const).map(async (stream) => {
        const result = await drain(harness.tenant.exportPages(stream));
        expectExactly(result.ids, groundTruthIds(harness.sandbox, TENANT, stream));
        return result.pages;
      }),
    );
    const requests = results.reduce((a, b) => a + b, 0);
    const elapsed = (Date.now() - started) / 1000;
    expect(requests).toBeGreaterThan(35);
    expect(h.sandbox.stats().rateLimited).toBe(0);
    // Within the limit, and not far below it.
    expect(requests / elapsed).toBeLessThanOrEqual(30.5);
    expect(requests / elapsed).toBeGreaterThan(15);
  });

  it('when the server limit is lower than the client thinks, then 429s slow the client down and nothing is lost', async () => {
    h = await startHarness(
      { rateLimitPerSecond: 10, pageSizes: { customers: 5, contacts: 10, locations: 10, invoices: 10 } },
      { rateLimitPerSecond: 60 },
    );
    const result = await drain(h.tenant.exportPages('customers'));
    expectExactly(result.ids, groundTruthIds(h.sandbox, TENANT, 'customers'));
    expect(h.sandbox.stats().rateLimited).toBeGreaterThan(0);
  });
});
