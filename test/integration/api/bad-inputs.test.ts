import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { truncateAll } from '../../support/integration.js';
import { type ApiHarness, createCompany, createCredential, startApiHarness } from './support/harness.js';

const tables = [
  'companies',
  'servicetitan_credentials',
  'servicetitan_sync_runs',
  'sync_schedules',
  'api_tokens',
  'audit_events',
];

describe('bad inputs', () => {
  let h: ApiHarness;
  let companyId: number;
  let credentialId: number;
  beforeAll(async () => {
    h = await startApiHarness();
    await truncateAll(h.orm);
    companyId = await createCompany(h);
    credentialId = (await createCredential(h, companyId, 1_000_001)).body.id;
  });
  afterAll(async () => {
    h?.assertNoLeaks();
    await h?.close();
  });

  const good = () => ({
    companyId,
    environment: 'production',
    tenantId: '1000004',
    clientId: 'cid.x',
    clientSecret: 'cs1.y',
  });
  type Case = {
    name: string;
    method: 'post' | 'patch' | 'put' | 'get';
    path: () => string;
    body?: () => unknown;
    raw?: string;
    contentType?: string;
    status: number;
    error?: string;
  };
  const cases: Case[] = [
    {
      name: 'malformed JSON',
      method: 'post',
      path: () => '/api/companies',
      raw: '{"name": "x",',
      status: 400,
      error: 'invalid_json',
    },
    {
      name: 'JSON that is not an object',
      method: 'post',
      path: () => '/api/companies',
      raw: '"just a string"',
      status: 400,
    },
    {
      name: 'an array body',
      method: 'post',
      path: () => '/api/companies',
      body: () => [{ name: 'x' }],
      status: 400,
      error: 'validation_failed',
    },
    {
      name: 'an oversized body',
      method: 'post',
      path: () => '/api/companies',
      body: () => ({ name: 'x'.repeat(200_000) }),
      status: 413,
      error: 'payload_too_large',
    },
    {
      name: 'a wrong type',
      method: 'post',
      path: () => '/api/companies',
      body: () => ({ name: 42 }),
      status: 400,
      error: 'validation_failed',
    },
    {
      name: 'a missing field',
      method: 'post',
      path: () => '/api/companies',
      body: () => ({ timeZone: 'UTC' }),
      status: 400,
      error: 'validation_failed',
    },
    {
      name: 'an unknown field',
      method: 'post',
      path: () => '/api/companies',
      body: () => ({ name: 'x', admin: true }),
      status: 400,
      error: 'validation_failed',
    },
    {
      name: 'a prototype-pollution key',
      method: 'post',
      path: () => '/api/companies',
      raw: '{"name":"x","__proto__":{"admin":true}}',
      status: 400,
    },
    {
      name: 'an SQL-looking time zone',
      method: 'post',
      path: () => '/api/companies',
      body: () => ({ name: 'x', timeZone: "UTC'; drop table companies; --" }),
      status: 400,
    },
    {
      name: 'a JS-looking time zone',
      method: 'patch',
      path: () => `/api/companies/${companyId}`,
      body: () => ({ timeZone: '<script>alert(1)</script>' }),
      status: 400,
    },
    {
      name: 'an SQL-looking id',
      method: 'get',
      path: () => '/api/companies/1%20or%201=1',
      status: 400,
      error: 'validation_failed',
    },
    { name: 'a negative id', method: 'get', path: () => '/api/credentials/-1', status: 400 },
    { name: 'a huge id', method: 'get', path: () => '/api/credentials/99999999999', status: 400 },
    { name: 'a non-numeric page', method: 'get', path: () => '/api/credentials?page=abc', status: 400 },
    {
      name: 'a page size over the maximum',
      method: 'get',
      path: () => '/api/syncs?pageSize=100000',
      status: 400,
    },
    { name: 'an unknown query parameter', method: 'get', path: () => '/api/syncs?where=1', status: 400 },
    {
      name: 'a tenant id with letters',
      method: 'post',
      path: () => '/api/credentials',
      body: () => ({ ...good(), tenantId: '12ab' }),
      status: 400,
    },
    {
      name: 'a tenant id with SQL',
      method: 'post',
      path: () => '/api/credentials',
      body: () => ({ ...good(), tenantId: '1; delete from companies' }),
      status: 400,
    },
    {
      name: 'an unknown environment',
      method: 'post',
      path: () => '/api/credentials',
      body: () => ({ ...good(), environment: 'staging' }),
      status: 400,
    },
    {
      name: 'test as a string',
      method: 'post',
      path: () => '/api/credentials',
      body: () => ({ ...good(), test: 'yes' }),
      status: 400,
    },
    {
      name: 'a secret that is too long',
      method: 'post',
      path: () => '/api/credentials',
      body: () => ({ ...good(), clientSecret: 's'.repeat(600) }),
      status: 400,
    },
    {
      name: 'an empty rotation',
      method: 'patch',
      path: () => `/api/credentials/${credentialId}`,
      body: () => ({}),
      status: 400,
    },
    {
      name: 'an unknown stream',
      method: 'post',
      path: () => `/api/credentials/${credentialId}/syncs`,
      body: () => ({ streams: ['jobs'] }),
      status: 400,
    },
    {
      name: 'an unknown mode',
      method: 'post',
      path: () => `/api/credentials/${credentialId}/syncs`,
      body: () => ({ mode: 'everything' }),
      status: 400,
    },
    {
      name: 'a window with a bad date',
      method: 'post',
      path: () => `/api/credentials/${credentialId}/syncs`,
      body: () => ({ mode: { from: 'yesterday', to: '2025-01-01' } }),
      status: 400,
    },
    {
      name: 'a schedule hour of 25',
      method: 'put',
      path: () => `/api/credentials/${credentialId}/schedule`,
      body: () => ({ frequency: 'daily', hour: 25 }),
      status: 400,
    },
    {
      name: 'a token of an unknown role',
      method: 'post',
      path: () => '/api/tokens',
      body: () => ({ name: 'x', role: 'root' }),
      status: 400,
    },
    {
      name: 'form-encoded body',
      method: 'post',
      path: () => '/api/companies',
      raw: 'name=x',
      contentType: 'application/x-www-form-urlencoded',
      status: 400,
    },
  ];

  it.each(cases)('when $name is sent, then $status and nothing is written', async (c) => {
    const before = await Promise.all(tables.map((t) => h.count(t)));
    const res = await h.call(c.method, c.path(), {
      ...(c.raw !== undefined ? { raw: c.raw } : {}),
      ...(c.body ? { body: c.body() } : {}),
      ...(c.contentType ? { contentType: c.contentType } : {}),
    });
    expect(res.status).toBe(c.status);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(typeof res.body.error).toBe('string');
    expect(typeof res.body.message).toBe('string');
    if (c.error) expect(res.body.error).toBe(c.error);
    expect(res.text).not.toMatch(/\bat \w+ \(|node_modules|\.ts:\d+/);
    expect(await Promise.all(tables.map((t) => h.count(t)))).toEqual(before);
  });

  it('when an unknown /api route is called with a valid token, then a JSON 404', async () => {
    const res = await h.call('get', '/api/nothing-here');
    expect(res.status).toBe(404);
    expect(res.body.error).toBe('not_found');
  });
});
