import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminApiOptions } from '../../../src/api/admin-api.js';
import { createApp } from '../../../src/api/app.js';
import { createOrm } from '../../../src/db/orm.js';
import { freePort } from '../../../src/infra/free-port.js';
import { testInstallationId, testKeys, testLogger } from '../../support/integration.js';
import { ADMIN_TOKEN, type ApiHarness, createCompany, startApiHarness } from './support/harness.js';

interface Check {
  id: string;
  label: string;
  status: 'ok' | 'warning' | 'failed';
  detail: string;
  fix: string | null;
}

const checkIds = [
  'app-key',
  'integration-auth-url',
  'integration-api-url',
  'production-auth-url',
  'production-api-url',
  'encryption-keys',
  'temporal',
  'postgres',
];

let h: ApiHarness;

beforeAll(async () => {
  h = await startApiHarness();
  // The app key is a secret of the application: never in an answer.
  h.watched.add(h.sandbox.appKey);
});
afterAll(async () => {
  await h?.close();
});

/** An app on the harness's database and Temporal, with Setup options of the test's own. */
function appWith(setup: AdminApiOptions['setup'], orm = h.orm) {
  return createApp({
    orm,
    temporal: h.temporal,
    logger: testLogger,
    api: { taskQueue: h.taskQueue, installationId: testInstallationId, adminToken: ADMIN_TOKEN, setup },
  });
}

async function getSetup(app: ReturnType<typeof createApp>) {
  const res = await request(app).get('/api/setup').set('authorization', `Bearer ${ADMIN_TOKEN}`);
  h.bodies.push(res.text);
  return res;
}

const byId = (checks: Check[]) => Object.fromEntries(checks.map((c) => [c.id, c]));

describe('GET /api/setup', () => {
  it('when every setting is right and the sandbox answers, then every check is ok and no secret is in the answer', async () => {
    const res = await h.call('get', '/api/setup');
    expect(res.status).toBe(200);
    const checks = res.body.checks as Check[];
    expect(checks.map((c) => c.id)).toEqual(checkIds);
    for (const check of checks) {
      expect(check.status, `${check.id}: ${check.detail}`).toBe('ok');
      expect(check.fix).toBeNull();
      expect(check.detail.length).toBeGreaterThan(0);
    }
    expect(byId(checks)['app-key']!.detail).toBe('SERVICETITAN_APP_KEY is set.');
    expect(byId(checks)['integration-auth-url']!.detail).toContain(`${h.sandbox.url} is reachable`);
    expect(byId(checks)['encryption-keys']!.detail).toContain('"t1"');
    expect(res.body.appKey).toBe('configured');
    expect(res.body.environments).toEqual([
      { environment: 'integration', authUrl: h.sandbox.url, apiUrl: h.sandbox.url },
      { environment: 'production', authUrl: h.sandbox.url, apiUrl: h.sandbox.url },
    ]);
    expect(res.text).not.toContain(h.sandbox.appKey);
    expect(res.text).not.toContain(testKeys[0].key.toString('base64'));
    h.assertNoLeaks();
  });

  it('when a URL points at a closed port, a host that does not resolve or plain http elsewhere, then that check fails with the reason in words and the setting to fix', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const res = await getSetup(
      appWith({
        appKey: 'configured',
        environments: {
          integration: { authUrl: closed, apiUrl: h.sandbox.url },
          production: { authUrl: 'https://no-such-host.invalid', apiUrl: 'http://example.com' },
        },
        encryption: { source: 'environment', versions: ['t1'] },
        probeTimeoutMs: 3_000,
      }),
    );
    expect(res.status).toBe(200);
    const checks = byId(res.body.checks);
    expect(checks['integration-auth-url']).toMatchObject({ status: 'failed' });
    expect(checks['integration-auth-url']!.detail).toContain(`${closed} is not reachable`);
    expect(checks['integration-auth-url']!.detail).toMatch(/refused the connection/);
    expect(checks['integration-auth-url']!.fix).toContain('SERVICETITAN_INTEGRATION_AUTH_URL');
    expect(checks['integration-api-url']!.status).toBe('ok');
    expect(checks['production-auth-url']!.status).toBe('failed');
    expect(checks['production-auth-url']!.detail).toMatch(
      /could not be resolved|could not be reached|timed out/,
    );
    expect(checks['production-auth-url']!.fix).toContain('SERVICETITAN_PRODUCTION_AUTH_URL');
    expect(checks['production-api-url']!.status).toBe('failed');
    expect(checks['production-api-url']!.detail).toMatch(/must use https/);
    // The rest of the deployment is still checked.
    expect(checks.temporal!.status).toBe('ok');
    expect(checks.postgres!.status).toBe('ok');
  });

  it('when no app key and no encryption keys are configured, then both checks fail and say what to set; on the embedded sandbox the app key check says the sandbox key is used', async () => {
    const endpoints = { authUrl: h.sandbox.url, apiUrl: h.sandbox.url };
    const missing = await getSetup(
      appWith({
        appKey: 'missing',
        environments: { integration: endpoints, production: endpoints },
        encryption: undefined,
      }),
    );
    const checks = byId(missing.body.checks);
    expect(checks['app-key']).toMatchObject({ status: 'failed' });
    expect(checks['app-key']!.detail).toMatch(/SERVICETITAN_APP_KEY is not set/);
    expect(checks['app-key']!.fix).toMatch(/Developer Portal.*SERVICETITAN_APP_KEY/);
    expect(checks['encryption-keys']).toMatchObject({ status: 'failed' });
    expect(checks['encryption-keys']!.fix).toMatch(/ENCRYPTION_KEYS/);

    const embedded = await getSetup(
      appWith({
        appKey: 'sandbox',
        environments: { integration: endpoints, production: endpoints },
        encryption: { source: 'local-file', versions: ['local'] },
      }),
    );
    const demo = byId(embedded.body.checks);
    expect(demo['app-key']).toMatchObject({ status: 'warning' });
    expect(demo['app-key']!.detail).toMatch(/sandbox’s own app key/);
    expect(demo['encryption-keys']).toMatchObject({ status: 'ok' });
    expect(demo['encryption-keys']!.detail).toMatch(/DATA_DIR\/encryption-key/);
    h.assertNoLeaks();
  });

  it('when PostgreSQL does not answer, then its check fails without the connection password', async () => {
    const password = 'pg-password-never-shown-42';
    const deadOrm = await createOrm({
      url: `postgresql://postgres:${password}@127.0.0.1:${await freePort()}/nothing`,
    });
    try {
      const endpoints = { authUrl: h.sandbox.url, apiUrl: h.sandbox.url };
      const app = appWith(
        {
          appKey: 'configured',
          environments: { integration: endpoints, production: endpoints },
          encryption: { source: 'environment', versions: ['t1'] },
        },
        deadOrm,
      );
      // Authentication reads the database too: the bootstrap token needs none.
      const res = await getSetup(app);
      expect(res.status).toBe(200);
      const checks = byId(res.body.checks);
      expect(checks.postgres).toMatchObject({ status: 'failed' });
      expect(checks.postgres!.detail).toMatch(/^PostgreSQL does not answer: /);
      expect(checks.postgres!.fix).toMatch(/DATABASE_URL/);
      expect(checks.temporal!.status).toBe('ok');
      expect(res.text).not.toContain(password);
    } finally {
      await deadOrm.close();
    }
  });

  it('when a viewer, an operator or a company-limited admin asks, then 403', async () => {
    const companyId = await createCompany(h, 'Setup Co');
    for (const token of [
      await h.token('viewer'),
      await h.token('operator'),
      await h.token('admin', companyId),
    ]) {
      const res = await h.call('get', '/api/setup', { token });
      expect(res.status).toBe(403);
      expect(res.body.error).toBe('forbidden');
    }
  });
});
