import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../../src/sandbox/index.js';
import { apiGet, requestToken, tokenFor } from './support/sandbox-client.js';

const NORMAL = 501;
const OTHER = 502;
const UNAPPROVED = 503;
const NO_ACCOUNTING = 504;
const PRODUCTION = 505;

describe('sandbox auth server and API guard', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({
      tokenTtlSeconds: 1,
      tenants: [
        { tenantId: NORMAL, customers: 20, invoices: 20 },
        { tenantId: OTHER, customers: 20, invoices: 20 },
        { tenantId: UNAPPROVED, customers: 20, invoices: 20, approved: false },
        { tenantId: NO_ACCOUNTING, customers: 20, invoices: 20, licensed: { accounting: false } },
        {
          tenantId: PRODUCTION,
          customers: 20,
          invoices: 20,
          environment: 'production',
          clientId: 'prod-client',
          clientSecret: 's3cret',
        },
      ],
    });
  });
  afterAll(() => sandbox.close());

  const tenant = (id: number) => sandbox.tenants.find((t) => t.tenantId === id)!;
  const customers = (id: number) => `/crm/v2/tenant/${id}/customers?pageSize=1`;

  it('when valid client credentials are posted, then a Bearer token with expires_in and scope is issued', async () => {
    const response = await requestToken(sandbox, tenant(NORMAL));
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toEqual({
      access_token: expect.any(String),
      expires_in: 1,
      token_type: 'Bearer',
      scope: expect.any(String),
    });
    expect((await apiGet(sandbox, customers(NORMAL), body.access_token as string)).status).toBe(200);
  });

  it('when openid-client asks with client_secret_post or client_secret_basic, then it gets a token', async () => {
    for (const auth of [oidc.ClientSecretPost, oidc.ClientSecretBasic]) {
      const t = tenant(PRODUCTION);
      const config = new oidc.Configuration(
        { issuer: sandbox.url, token_endpoint: `${sandbox.url}/connect/token` },
        t.clientId,
        t.clientSecret,
        auth(t.clientSecret),
      );
      oidc.allowInsecureRequests(config);
      const grant = await oidc.clientCredentialsGrant(config);
      expect(grant.token_type.toLowerCase()).toBe('bearer');
      expect((await apiGet(sandbox, customers(PRODUCTION), grant.access_token)).status).toBe(200);
    }
  });

  it('when the secret is wrong or the client unknown, then the answer is 400 invalid_client', async () => {
    const wrong = await requestToken(sandbox, { clientId: tenant(NORMAL).clientId, clientSecret: 'nope' });
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toEqual({ error: 'invalid_client' });
    const unknown = await requestToken(sandbox, { clientId: 'who', clientSecret: 'x' });
    expect(await unknown.json()).toEqual({ error: 'invalid_client' });
  });

  it('when the grant type is not client_credentials, then the answer is 400 unsupported_grant_type', async () => {
    const response = await requestToken(sandbox, tenant(NORMAL), 'password');
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'unsupported_grant_type' });
  });

  it('when the app key is missing or wrong, then the API answers 401', async () => {
    const token = await tokenFor(sandbox, NORMAL);
    const missing = await fetch(`${sandbox.url}${customers(NORMAL)}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(missing.status).toBe(401);
    expect((await apiGet(sandbox, customers(NORMAL), token, 'wrong-key')).status).toBe(401);
  });

  it('when the token is missing, unknown or for another tenant, then the API answers 401', async () => {
    const res = await fetch(`${sandbox.url}${customers(NORMAL)}`, {
      headers: { 'st-app-key': sandbox.appKey },
    });
    expect(res.status).toBe(401);
    expect((await apiGet(sandbox, customers(NORMAL), 'made-up')).status).toBe(401);
    const otherToken = await tokenFor(sandbox, OTHER);
    const mismatch = await apiGet(sandbox, customers(NORMAL), otherToken);
    expect(mismatch.status).toBe(401);
    expect(((await mismatch.json()) as { data: { reason: string } }).data.reason).toBe('TenantMismatch');
  });

  it('when the token has expired, then the API answers 401 and a new token works', async () => {
    const token = await tokenFor(sandbox, NORMAL);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const expired = await apiGet(sandbox, customers(NORMAL), token);
    expect(expired.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toContain('invalid_token');
    expect(((await expired.json()) as { data: { reason: string } }).data.reason).toBe('TokenExpired');
    expect((await apiGet(sandbox, customers(NORMAL), await tokenFor(sandbox, NORMAL))).status).toBe(200);
  });

  it('when tokens are revoked, then existing ones answer 401 and other tenants are unaffected', async () => {
    const token = await tokenFor(sandbox, NORMAL);
    const other = await tokenFor(sandbox, OTHER);
    sandbox.revokeTokens(NORMAL);
    expect((await apiGet(sandbox, customers(NORMAL), token)).status).toBe(401);
    expect((await apiGet(sandbox, customers(OTHER), other)).status).toBe(200);
  });

  it('when the tenant has not approved the app, then a token is issued but the API answers 403 AppNotApproved until approval', async () => {
    const token = await tokenFor(sandbox, UNAPPROVED);
    const response = await apiGet(sandbox, customers(UNAPPROVED), token);
    expect(response.status).toBe(403);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 403, data: { reason: 'AppNotApproved' } });
    expect(body.title).toMatch(/not approved/);
    sandbox.setApproved(UNAPPROVED, true);
    expect((await apiGet(sandbox, customers(UNAPPROVED), token)).status).toBe(200);
    sandbox.setApproved(UNAPPROVED, false);
  });

  it('when the tenant is not licensed for accounting, then accounting answers 403 ModuleNotLicensed and CRM works', async () => {
    const token = await tokenFor(sandbox, NO_ACCOUNTING);
    const response = await apiGet(sandbox, `/accounting/v2/tenant/${NO_ACCOUNTING}/export/invoices`, token);
    expect(response.status).toBe(403);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 403, data: { reason: 'ModuleNotLicensed', module: 'accounting' } });
    expect(body.title).toMatch(/not licensed for the Accounting module/);
    expect((await apiGet(sandbox, `/crm/v2/tenant/${NO_ACCOUNTING}/export/customers`, token)).status).toBe(
      200,
    );
  });

  it('when a cheap read per stream is made (connection test), then each endpoint answers 200', async () => {
    const token = await tokenFor(sandbox, NORMAL);
    for (const path of [
      '/crm/v2/tenant/%/customers',
      '/crm/v2/tenant/%/customers/contacts',
      '/crm/v2/tenant/%/locations',
      '/accounting/v2/tenant/%/invoices',
      '/settings/v2/tenant/%/business-units',
    ]) {
      const response = await apiGet(sandbox, `${path.replace('%', String(NORMAL))}?pageSize=1`, token);
      expect(response.status, path).toBe(200);
    }
    expect((await apiGet(sandbox, `/crm/v2/tenant/${NORMAL}/nothing-here`, token)).status).toBe(404);
  });
});
