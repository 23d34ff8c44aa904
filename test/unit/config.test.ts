import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const key32 = Buffer.alloc(32, 7).toString('base64');

describe('loadConfig', () => {
  it('when the environment is empty, then the embedded defaults and the real ServiceTitan URLs apply', () => {
    const config = loadConfig({});
    expect(config.database.url).toBeUndefined();
    expect(config.temporal.address).toBeUndefined();
    expect(config.temporal.namespace).toBe('default');
    expect(config.temporal.taskQueue).toBe('servicetitan-sync');
    expect(config.api.port).toBe(3000);
    expect(config.serviceTitan.integration).toEqual({
      authUrl: 'https://auth-integration.servicetitan.io',
      apiUrl: 'https://api-integration.servicetitan.io',
    });
    expect(config.serviceTitan.production).toEqual({
      authUrl: 'https://auth.servicetitan.io',
      apiUrl: 'https://api.servicetitan.io',
    });
    expect(Object.isFrozen(config.serviceTitan)).toBe(true);
    expect(config.retention).toEqual({ skippedRawDays: 30, auditDays: 365, outboxDays: 30, runsDays: 365 });
  });

  it('when values are given, then they are parsed and trailing slashes dropped', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgresql://u:p@db:5432/app',
      TEMPORAL_ADDRESS: 'temporal:7233',
      PORT: '8080',
      ENCRYPTION_KEYS: `v2:${key32},v1:${key32}`,
      SERVICETITAN_INTEGRATION_API_URL: 'http://127.0.0.1:4010/',
      RETENTION_AUDIT_DAYS: '730',
      RETENTION_SKIPPED_RAW_DAYS: '0',
    });
    expect(config.database.url).toBe('postgresql://u:p@db:5432/app');
    expect(config.temporal.address).toBe('temporal:7233');
    expect(config.api.port).toBe(8080);
    expect(config.encryptionKeys?.map((k) => k.version)).toEqual(['v2', 'v1']);
    expect(config.serviceTitan.integration.apiUrl).toBe('http://127.0.0.1:4010');
    expect(config.retention).toMatchObject({ auditDays: 730, skippedRawDays: 0 });
  });

  it.each([
    ['PORT', { PORT: 'eighty' }],
    ['PORT', { PORT: '70000' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://localhost/db' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
    ['ENCRYPTION_KEYS', { ENCRYPTION_KEYS: 'v1:c2hvcnQ=' }],
    ['ENCRYPTION_KEYS', { ENCRYPTION_KEYS: 'no-version-here' }],
    ['ENCRYPTION_KEYS', { ENCRYPTION_KEYS: `v1:${key32},v1:${key32}` }],
    ['ADMIN_TOKEN', { ADMIN_TOKEN: 'short' }],
    ['SESSION_TTL_HOURS', { SESSION_TTL_HOURS: '0' }],
    ['SESSION_TTL_HOURS', { SESSION_TTL_HOURS: 'a day' }],
    ['SERVICETITAN_PRODUCTION_AUTH_URL', { SERVICETITAN_PRODUCTION_AUTH_URL: 'not a url' }],
    ['SANDBOX_PORT', { SANDBOX_PORT: '-1' }],
    ['TEMPORAL_UI_URL', { TEMPORAL_UI_URL: 'ftp://ui' }],
    ['RETENTION_RUNS_DAYS', { RETENTION_RUNS_DAYS: '-1' }],
    ['RETENTION_AUDIT_DAYS', { RETENTION_AUDIT_DAYS: 'a year' }],
    ['TRUST_PROXY', { TRUST_PROXY: 'my-proxy.internal' }],
    ['TRUST_PROXY', { TRUST_PROXY: '10.0.0.0/40' }],
    ['TRUST_PROXY', { TRUST_PROXY: 'loopback, 300.1.1.1' }],
  ])('when %s is invalid, then start-up fails naming it', (variable, env) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`\\b${variable}:`));
  });

  it.each([
    [undefined, ['loopback']],
    ['false', false],
    ['true', true],
    ['2', 2],
    ['loopback, 10.0.0.0/8,fd00::/8', ['loopback', '10.0.0.0/8', 'fd00::/8']],
  ])('when TRUST_PROXY is %s, then trust proxy is %j', (raw, expected) => {
    expect(loadConfig(raw === undefined ? {} : { TRUST_PROXY: raw }).api.trustProxy).toEqual(expected);
  });

  it('when SESSION_TTL_HOURS is unset or given, then console sessions last 12 hours or that long', () => {
    expect(loadConfig({}).api.sessionTtlHours).toBe(12);
    expect(loadConfig({ SESSION_TTL_HOURS: '2' }).api.sessionTtlHours).toBe(2);
  });

  it('when variables are empty, as copied from .env.example, then they count as unset', () => {
    const config = loadConfig({
      DATABASE_URL: '',
      ADMIN_TOKEN: '',
      TEMPORAL_UI_URL: ' ',
      ENCRYPTION_KEYS: '',
      PORT: '',
    });
    expect(config.database.url).toBeUndefined();
    expect(config.api.adminToken).toBeUndefined();
    expect(config.temporal.uiUrl).toBeUndefined();
    expect(config.encryptionKeys).toBeUndefined();
    expect(config.api.port).toBe(3000);
  });

  it('when several variables are invalid, then the message names each of them', () => {
    try {
      loadConfig({ PORT: 'x', LOG_LEVEL: 'loud' });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toMatch(/PORT:/);
      expect((error as Error).message).toMatch(/LOG_LEVEL:/);
    }
  });

  it('when an encryption key is invalid, then the message does not echo the key', () => {
    const secret = Buffer.alloc(16, 9).toString('base64');
    expect(() => loadConfig({ ENCRYPTION_KEYS: `v1:${secret}` })).toThrow(/16 bytes/);
    try {
      loadConfig({ ENCRYPTION_KEYS: `v1:${secret}` });
    } catch (error) {
      expect((error as Error).message).not.toContain(secret);
    }
  });
});
