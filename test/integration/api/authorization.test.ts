import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Access } from '../../../src/auth/index.js';
import { Company, ServiceTitanCredential, SyncRun } from '../../../src/db/entities/index.js';
import { truncateAll } from '../../support/integration.js';
import { type ApiHarness, createCompany, createCredential, startApiHarness } from './support/harness.js';

interface Target {
  companyId: number;
  credentialId: number;
  runId: number;
  tokenId: number;
}

interface Endpoint {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: (t: Target) => string;
  body?: (t: Target) => unknown;
  access: Access;
  /** Cross-company actions (companies, tokens): never for a company-limited token. */
  unrestricted?: boolean;
  /** Lists: not about one company's resource. */
  global?: boolean;
}

/** Every endpoint, destructive ones last so the earlier ones still find their targets. */
const endpoints: Endpoint[] = [
  { method: 'get', path: () => '/api/companies', access: 'read', global: true },
  { method: 'get', path: (t) => `/api/companies/${t.companyId}`, access: 'read' },
  { method: 'get', path: () => '/api/credentials', access: 'read', global: true },
  { method: 'get', path: (t) => `/api/credentials/${t.credentialId}`, access: 'read' },
  { method: 'get', path: () => '/api/syncs', access: 'read', global: true },
  { method: 'get', path: (t) => `/api/syncs/${t.runId}`, access: 'read' },
  { method: 'get', path: (t) => `/api/syncs/${t.runId}/skipped`, access: 'read' },
  { method: 'get', path: (t) => `/api/syncs/${t.runId}/events`, access: 'read' },
  { method: 'get', path: (t) => `/api/credentials/${t.credentialId}/schedule`, access: 'read' },
  { method: 'get', path: () => '/api/dashboard', access: 'read', global: true },
  { method: 'post', path: (t) => `/api/syncs/${t.runId}/pause`, access: 'operate' },
  { method: 'post', path: (t) => `/api/syncs/${t.runId}/resume`, access: 'operate' },
  { method: 'post', path: (t) => `/api/syncs/${t.runId}/cancel`, access: 'operate' },
  {
    method: 'put',
    path: (t) => `/api/credentials/${t.credentialId}/schedule`,
    body: () => ({ frequency: 'daily', hour: 5 }),
    access: 'operate',
  },
  { method: 'post', path: (t) => `/api/credentials/${t.credentialId}/schedule/pause`, access: 'operate' },
  { method: 'post', path: (t) => `/api/credentials/${t.credentialId}/schedule/unpause`, access: 'operate' },
  {
    method: 'post',
    path: (t) => `/api/credentials/${t.credentialId}/syncs`,
    body: () => ({}),
    access: 'operate',
  },
  {
    method: 'patch',
    path: (t) => `/api/companies/${t.companyId}`,
    body: () => ({ name: 'Renamed' }),
    access: 'admin',
  },
  {
    method: 'post',
    path: () => '/api/companies',
    body: () => ({ name: 'New' }),
    access: 'admin',
    unrestricted: true,
  },
  {
    method: 'post',
    path: () => '/api/credentials',
    body: (t) => ({
      companyId: t.companyId,
      environment: 'production',
      tenantId: '1000004',
      clientId: 'cid.matrix',
      clientSecret: 'cs1.matrix-secret',
    }),
    access: 'admin',
  },
  { method: 'post', path: (t) => `/api/credentials/${t.credentialId}/test`, access: 'admin' },
  {
    method: 'patch',
    path: (t) => `/api/credentials/${t.credentialId}`,
    body: () => ({ clientSecret: 'cs1.matrix-rotated' }),
    access: 'admin',
  },
  { method: 'get', path: () => '/api/tokens', access: 'admin', unrestricted: true },
  {
    method: 'post',
    path: () => '/api/tokens',
    body: () => ({ name: 'made', role: 'viewer' }),
    access: 'admin',
    unrestricted: true,
  },
  { method: 'delete', path: (t) => `/api/tokens/${t.tokenId}`, access: 'admin', unrestricted: true },
  { method: 'get', path: () => '/api/audit', access: 'admin', global: true },
  { method: 'delete', path: (t) => `/api/credentials/${t.credentialId}/schedule`, access: 'operate' },
  { method: 'delete', path: (t) => `/api/credentials/${t.credentialId}`, access: 'admin' },
  // Last: it removes the company the others address.
  {
    method: 'delete',
    path: (t) => `/api/companies/${t.companyId}?confirm=${t.companyId}`,
    access: 'admin',
    unrestricted: true,
  },
];

const roles = ['admin', 'operator', 'viewer'] as const;
const granted: Record<(typeof roles)[number], Access[]> = {
  admin: ['read', 'operate', 'admin'],
  operator: ['read', 'operate'],
  viewer: ['read'],
};

describe('authorisation', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness({ api: { authFailures: { max: 5, windowMs: 60_000 } } });
    h.watched.add('cs1.matrix-secret');
    h.watched.add('cs1.matrix-rotated');
  });
  afterAll(async () => {
    h?.assertNoLeaks();
    await h?.close();
  });

  /** Two companies, each with a credential, a finished run and a schedule; one spare token. */
  async function arrange(): Promise<{ a: Target; b: Target }> {
    await truncateAll(h.orm);
    const make = async (name: string, tenantId: number): Promise<Target> => {
      const companyId = await createCompany(h, name);
      const credentialId = (await createCredential(h, companyId, tenantId)).body.id;
      const em = h.orm.em.fork();
      const run = em.create(SyncRun, {
        credential: credentialId,
        trigger: 'manual',
        streams: ['customers'],
        mode: 'full',
        status: 'completed',
      });
      await em.flush();
      await h.call('put', `/api/credentials/${credentialId}/schedule`, { body: { frequency: 'weekly' } });
      const spare = await h.call('post', '/api/tokens', {
        body: { name: 'spare', role: 'viewer' },
        exempt: true,
      });
      return { companyId, credentialId, runId: run.id, tokenId: spare.body.id };
    };
    return { a: await make('A', 1_000_001), b: await make('B', 1_000_003) };
  }

  async function cleanUpWorkflows() {
    const runs = await h.orm.em.fork().find(SyncRun, { workflowId: { $ne: null } });
    for (const run of runs)
      await h.temporal.workflow
        .getHandle(run.workflowId!)
        .terminate('test cleanup')
        .catch(() => undefined);
  }

  const cases = roles.flatMap((role) => [
    { role, scoped: false },
    { role, scoped: true },
  ]);

  it.each(cases)(
    'when a $role token (company-limited: $scoped) calls every endpoint, then only what its role allows goes through',
    async ({ role, scoped }) => {
      const { a } = await arrange();
      const token = await h.token(role, scoped ? a.companyId : null);
      const failures: string[] = [];
      for (const e of endpoints) {
        const res = await h.call(e.method, e.path(a), {
          token,
          ...(e.body ? { body: e.body(a) } : {}),
          exempt: e.path(a) === '/api/tokens' && e.method === 'post',
        });
        const allowed = granted[role].includes(e.access) && !(scoped && e.unrestricted);
        const ok = allowed ? ![401, 403, 404].includes(res.status) && res.status < 500 : res.status === 403;
        if (!ok)
          failures.push(`${e.method.toUpperCase()} ${e.path(a)} → ${res.status} ${res.text.slice(0, 120)}`);
      }
      await cleanUpWorkflows();
      expect(failures).toEqual([]);
    },
  );

  it.each(roles)(
    'when a %s token limited to company A addresses company B, then B is 404 (or 403) and never changes',
    async (role) => {
      const { a, b } = await arrange();
      const token = await h.token(role, a.companyId);
      const failures: string[] = [];
      for (const e of endpoints.filter((x) => !x.global && !x.unrestricted)) {
        const res = await h.call(e.method, e.path(b), { token, ...(e.body ? { body: e.body(b) } : {}) });
        const expected = granted[role].includes(e.access) ? 404 : 403;
        if (res.status !== expected) failures.push(`${e.method.toUpperCase()} ${e.path(b)} → ${res.status}`);
      }
      expect(failures).toEqual([]);
      const em = h.orm.em.fork();
      expect((await em.findOneOrFail(Company, b.companyId)).name).toBe('B');
      const cred = await em.findOneOrFail(ServiceTitanCredential, b.credentialId);
      expect(cred.disabledAt).toBeNull();
      expect(cred.status).toBe('untested');
      expect(await em.count(SyncRun, { credential: b.credentialId })).toBe(1);
      expect((await h.call('get', `/api/credentials/${b.credentialId}/schedule`)).status).toBe(200);

      const lists = await Promise.all(
        ['/api/companies', '/api/credentials', '/api/syncs', `/api/credentials?companyId=${b.companyId}`].map(
          (p) => h.call('get', p, { token }),
        ),
      );
      for (const list of lists)
        for (const item of list.body.items) expect(item.companyId ?? item.id).toBe(a.companyId);
      const dashboard = await h.call('get', '/api/dashboard', { token });
      expect(dashboard.body.credentials.map((c: { companyId: number }) => c.companyId)).toEqual([
        a.companyId,
      ]);
    },
  );

  it('when no token, a malformed header, an unknown or a revoked token is sent, then 401', async () => {
    await truncateAll(h.orm);
    const viewer = await h.token('viewer');
    const id = (await h.call('get', '/api/tokens')).body.items[0].id;
    await h.call('delete', `/api/tokens/${id}`);
    for (const token of [null, '', 'stsk_unknown', viewer]) {
      const res = await h.call('get', '/api/companies', { token, ip: '10.9.9.9' });
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('unauthorized');
      expect(res.headers['www-authenticate']).toBe('Bearer');
    }
    const basic = await h.call('get', '/api/companies', { token: null, ip: '10.9.9.8' });
    expect(basic.status).toBe(401);
  });

  it('when an address keeps failing authentication, then its bad tokens get 429 with Retry-After while others are unaffected', async () => {
    for (let i = 0; i < 5; i++)
      expect((await h.call('get', '/api/dashboard', { token: 'stsk_wrong', ip: '10.7.7.7' })).status).toBe(
        401,
      );
    const blocked = await h.call('get', '/api/dashboard', { token: 'stsk_wrong', ip: '10.7.7.7' });
    expect(blocked.status).toBe(429);
    expect(blocked.body.error).toBe('rate_limited');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect((await h.call('get', '/api/dashboard', { token: null, ip: '10.7.7.7' })).status).toBe(429);
    expect((await h.call('get', '/api/dashboard', { token: 'stsk_wrong', ip: '10.7.7.8' })).status).toBe(401);
  });

  it('when 25 bad requests come from one address (clients behind one proxy), then a valid token from it still works', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++)
      statuses.push(
        (await h.call('get', '/api/dashboard', { token: `stsk_wrong${i}`, ip: '10.6.6.6' })).status,
      );
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(new Set(statuses.slice(5))).toEqual(new Set([429]));

    expect((await h.call('get', '/api/dashboard', { ip: '10.6.6.6' })).status).toBe(200);
    const viewer = await h.token('viewer');
    expect((await h.call('get', '/api/companies', { token: viewer, ip: '10.6.6.6' })).status).toBe(200);
    // ... and the address stays throttled for bad tokens.
    expect((await h.call('get', '/api/dashboard', { token: 'stsk_wrong', ip: '10.6.6.6' })).status).toBe(429);
  });

  it('when changes are made and credentials read or tested, then each leaves an audit row (without secrets) that GET /api/audit filters and pages', async () => {
    await truncateAll(h.orm);
    const companyId = await createCompany(h);
    const cred = await createCredential(h, companyId, 1_000_001);
    await h.call('get', `/api/credentials/${cred.body.id}`);
    await h.call('post', `/api/credentials/${cred.body.id}/test`);
    const viewer = await h.token('viewer');
    await h.call('patch', `/api/companies/${companyId}`, { token: viewer, body: { name: 'nope' } });

    const all = await h.call('get', '/api/audit?pageSize=100');
    expect(all.status).toBe(200);
    const actions = all.body.items.map(
      (e: { action: string; outcome: string }) => `${e.action}:${e.outcome}`,
    );
    expect(actions).toEqual(
      expect.arrayContaining([
        'company.create:success',
        'credential.create:success',
        'credential.read:success',
        'credential.test:success',
        'company.update:denied',
      ]),
    );
    const created = all.body.items.find((e: { action: string }) => e.action === 'credential.create');
    expect(created).toMatchObject({
      actor: { tokenId: null, name: 'ADMIN_TOKEN', role: 'admin' },
      target: { type: 'credential', id: String(cred.body.id) },
      companyId,
      ip: '10.0.0.1',
      outcome: 'success',
    });
    expect(created.details.fields).toContain('clientSecret');

    const filtered = await h.call('get', `/api/audit?action=credential.test&companyId=${companyId}`);
    expect(filtered.body.items).toHaveLength(1);
    const paged = await h.call('get', '/api/audit?pageSize=2&page=2');
    expect(paged.body).toMatchObject({ page: 2, pageSize: 2, total: all.body.total });
    expect(paged.body.items).toHaveLength(2);
    const rows = await h.orm.em.fork().getConnection().execute('select * from audit_events');
    const dump = JSON.stringify(rows);
    for (const secret of h.watched) expect(dump.includes(secret)).toBe(false);
  });
});

describe('TRUST_PROXY', () => {
  let h: ApiHarness | undefined;
  afterAll(async () => {
    await h?.close();
  });

  it('when proxies are not trusted, then X-Forwarded-For cannot spread failures over made-up addresses', async () => {
    h = await startApiHarness({ trustProxy: false, api: { authFailures: { max: 3, windowMs: 60_000 } } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push(
        (await h.call('get', '/api/dashboard', { token: 'stsk_wrong', ip: `10.5.5.${i}` })).status,
      );
    expect(statuses).toEqual([401, 401, 401, 429]);
    expect((await h.call('get', '/api/dashboard', { ip: '10.5.5.9' })).status).toBe(200);
  });
});
