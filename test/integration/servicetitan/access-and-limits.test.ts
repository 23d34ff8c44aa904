import { afterEach, describe, expect, it } from 'vitest';
import {
  AppNotApproved,
  InvalidCredentials,
  isRetryable,
  ModuleNotLicensed,
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
