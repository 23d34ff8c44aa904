import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ServiceTitanCredential } from '../../../src/db/entities/index.js';
import { secretPurpose } from '../../../src/db/repositories/credential.repository.js';
import { testSecrets, truncateAll } from '../../support/integration.js';
import { type ApiHarness, createCompany, createCredential, startApiHarness } from './support/harness.js';

describe('companies and credentials API', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness();
  });
  afterAll(async () => {
    h?.assertNoLeaks();
    await h?.close();
  });
  beforeEach(() => truncateAll(h.orm));

  it('when a company is created, listed, read and patched, then each answer reflects it', async () => {
    const created = await h.call('post', '/api/companies', {
      body: { name: 'Acme', timeZone: 'Europe/Paris' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Acme', timeZone: 'Europe/Paris', syncEnabled: true });
    const id = created.body.id;

    const list = await h.call('get', '/api/companies?page=1&pageSize=10');
    expect(list.body).toMatchObject({ total: 1, page: 1, pageSize: 10, items: [{ id }] });
    expect((await h.call('get', `/api/companies/${id}`)).body.name).toBe('Acme');

    const patched = await h.call('patch', `/api/companies/${id}`, {
      body: { name: 'Acme 2', timeZone: 'America/New_York', syncEnabled: false },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'Acme 2', timeZone: 'America/New_York', syncEnabled: false });
  });

  it('when a time zone is not IANA, or a company does not exist, then 400 / 404 say so', async () => {
    const bad = await h.call('post', '/api/companies', { body: { name: 'X', timeZone: 'Mars/Olympus' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('validation_failed');
    expect(bad.body.message).toMatch(/timeZone.*IANA/);
    expect((await h.call('get', '/api/companies/999')).status).toBe(404);
    expect((await h.call('patch', '/api/companies/999', { body: { name: 'n' } })).status).toBe(404);
    const empty = await h.call('patch', `/api/companies/${await createCompany(h)}`, { body: {} });
    expect(empty.status).toBe(400);
  });

  it('when a credential is created untested, then it is stored encrypted, shown masked, and never returns the secret', async () => {
    const companyId = await createCompany(h);
    const tenant = h.sandbox.tenants.find((t) => t.tenantId === 1_000_001)!;
    const res = await createCredential(h, companyId, tenant.tenantId);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      companyId,
      environment: 'integration',
      tenantId: '1000001',
      status: 'untested',
      clientIdMasked: `****${tenant.clientId.slice(-4)}`,
      test: null,
    });
    expect(JSON.stringify(res.body)).not.toContain(tenant.clientId);

    const row = await h.orm.em.fork().findOneOrFail(ServiceTitanCredential, res.body.id);
    expect(row.clientSecretEncrypted).not.toContain(tenant.clientSecret);
    expect(testSecrets.decrypt(row.clientSecretEncrypted, secretPurpose.clientSecret)).toBe(
      tenant.clientSecret,
    );

    const got = await h.call('get', `/api/credentials/${res.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body.clientIdMasked).toBe(`****${tenant.clientId.slice(-4)}`);
    expect(Object.keys(got.body)).not.toContain('clientSecret');

    const dup = await createCredential(h, companyId, tenant.tenantId);
    expect(dup.status).toBe(409);
    expect(dup.body.error).toBe('conflict');
  });

  it('when created with test: true, then a good tenant is saved connected, an unapproved one awaiting approval, and bad secrets are not saved', async () => {
    const a = await createCompany(h, 'A');
    const ok = await createCredential(h, a, 1_000_001, { test: true });
    expect(ok.status).toBe(201);
    expect(ok.body.status).toBe('connected');
    expect(ok.body.test).toMatchObject({ status: 'connected', streams: { customers: 'ok', invoices: 'ok' } });
    expect(ok.body.lastTestedAt).not.toBeNull();

    const b = await createCompany(h, 'B');
    const pending = await createCredential(h, b, 1_000_002, { test: true });
    expect(pending.status).toBe(201);
    expect(pending.body.status).toBe('awaiting_approval');
    expect(pending.body.statusMessage).toMatch(/Settings > Integrations > API Application Access/);

    const c = await createCompany(h, 'C');
    const before = await h.count('servicetitan_credentials');
    const wrong = await createCredential(h, c, 1_000_003, { test: true, clientSecret: 'cs1.not-the-secret' });
    expect(wrong.status).toBe(422);
    expect(wrong.body.error).toBe('connection_failed');
    expect(wrong.body.details.test.status).toBe('invalid_credentials');
    expect(await h.count('servicetitan_credentials')).toBe(before);
  });

  it('when a credential is tested, rotated and disabled, then its status follows and a disabled one cannot be tested', async () => {
    const companyId = await createCompany(h);
    const id = (await createCredential(h, companyId, 1_000_003)).body.id;

    const tested = await h.call('post', `/api/credentials/${id}/test`);
    expect(tested.status).toBe(200);
    expect(tested.body).toMatchObject({ status: 'connected', streams: { invoices: 'module_not_licensed' } });
    expect(tested.body.message).toMatch(/not licensed/i);
    expect((await h.call('get', `/api/credentials/${id}`)).body.status).toBe('connected');

    const rotated = await h.call('patch', `/api/credentials/${id}`, {
      body: { clientSecret: 'cs1.rotated-secret-value' },
    });
    h.watched.add('cs1.rotated-secret-value');
    expect(rotated.status).toBe(200);
    expect(rotated.body.status).toBe('untested');
    const failing = await h.call('post', `/api/credentials/${id}/test`);
    expect(failing.body.status).toBe('invalid_credentials');

    const schedule = await h.call('put', `/api/credentials/${id}/schedule`, { body: { frequency: 'daily' } });
    expect(schedule.status).toBe(200);
    const disabled = await h.call('delete', `/api/credentials/${id}`);
    expect(disabled.status).toBe(200);
    expect(disabled.body.status).toBe('disabled');
    expect(disabled.body.disabledAt).not.toBeNull();
    expect((await h.call('get', `/api/credentials/${id}/schedule`)).status).toBe(404);
    expect((await h.call('post', `/api/credentials/${id}/test`)).status).toBe(409);
  });

  it('when credentials are listed with filters and paging, then only matching ones come back', async () => {
    const a = await createCompany(h, 'A');
    const b = await createCompany(h, 'B');
    await createCredential(h, a, 1_000_001);
    await createCredential(h, b, 1_000_004);
    const all = await h.call('get', '/api/credentials?pageSize=1');
    expect(all.body.total).toBe(2);
    expect(all.body.items).toHaveLength(1);
    const prod = await h.call('get', '/api/credentials?environment=production');
    expect(prod.body.items.map((c: { companyId: number }) => c.companyId)).toEqual([b]);
    const byCompany = await h.call('get', `/api/credentials?companyId=${a}`);
    expect(byCompany.body.total).toBe(1);
    expect((await h.call('get', '/api/credentials?status=bogus')).status).toBe(400);
  });
});
