import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  AppNotApproved,
  BadRequest,
  CredentialForAnotherTenant,
  InvalidAppKey,
  InvalidCredentials,
  isRetryable,
  ModuleNotLicensed,
  NotFound,
  PaginationLoop,
  RateLimited,
  ResponseValidation,
  retryAfterMs,
  ServiceTitanUnavailable,
  TokenRejected,
} from '../../../src/servicetitan/errors.js';
import { classifyApiResponse, refreshMayHelp } from '../../../src/servicetitan/problem-details.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/servicetitan/${name}`, import.meta.url), 'utf8');

const classify = (status: number, body?: string, headers: Record<string, string | undefined> = {}) =>
  classifyApiResponse({
    status,
    headers: new Headers(Object.entries(headers).filter((e): e is [string, string] => e[1] !== undefined)),
    bodyText: body,
    path: '/accounting/v2/tenant/1/invoices',
    module: 'accounting',
    now: 0,
  });

describe('classification of API responses', () => {
  it.each([
    {
      status: 429,
      body: undefined,
      headers: { 'retry-after': '2' },
      type: RateLimited,
      retryable: true,
      wait: 2000,
    },
    {
      status: 429,
      body: '{"message":"Try again in 5 seconds"}',
      headers: {},
      type: RateLimited,
      retryable: true,
      wait: 5000,
    },
    { status: 429, body: '', headers: {}, type: RateLimited, retryable: true, wait: undefined },
    { status: 500, body: '{}', headers: {}, type: ServiceTitanUnavailable, retryable: true, wait: undefined },
    {
      status: 502,
      body: '<html>Bad gateway</html>',
      headers: {},
      type: ServiceTitanUnavailable,
      retryable: true,
      wait: undefined,
    },
    {
      status: 503,
      body: '<!DOCTYPE html><html>503</html>',
      headers: { 'retry-after': '7' },
      type: ServiceTitanUnavailable,
      retryable: true,
      wait: 7000,
    },
    { status: 408, body: '', headers: {}, type: ServiceTitanUnavailable, retryable: true, wait: undefined },
    {
      status: 400,
      body: fixture('problem-400.json'),
      headers: {},
      type: BadRequest,
      retryable: false,
      wait: undefined,
    },
    {
      status: 404,
      body: '{"title":"Not Found"}',
      headers: {},
      type: NotFound,
      retryable: false,
      wait: undefined,
    },
    {
      status: 409,
      body: '{"title":"Conflict"}',
      headers: {},
      type: BadRequest,
      retryable: false,
      wait: undefined,
    },
    {
      status: 403,
      body: fixture('problem-403-not-licensed.json'),
      headers: {},
      type: ModuleNotLicensed,
      retryable: false,
      wait: undefined,
    },
    {
      status: 403,
      body: '{"title":"Forbidden","detail":"The application has not been approved by the tenant."}',
      headers: {},
      type: AppNotApproved,
      retryable: false,
      wait: undefined,
    },
    {
      status: 403,
      body: '{"title":"Forbidden"}',
      headers: {},
      type: AppNotApproved,
      retryable: false,
      wait: undefined,
    },
    { status: 401, body: '', headers: {}, type: AppNotApproved, retryable: false, wait: undefined },
  ])('HTTP $status $body → $type.name', ({ status, body, headers, type, retryable, wait }) => {
    const err = classify(status, body, headers);
    expect(err).toBeInstanceOf(type);
    expect(err.retryable).toBe(retryable);
    expect(isRetryable(err)).toBe(retryable);
    expect(retryAfterMs(err)).toBe(wait);
    expect(err.code).toMatch(/^servicetitan_/);
    expect(err.message.length).toBeGreaterThan(20);
  });

  it('a 400 carries the RFC 7807 title and field errors in its message', () => {
    const err = classify(400, fixture('problem-400.json'));
    expect(err.message).toContain('One or more validation errors occurred.');
    expect(err.message).toContain("modifiedOnOrAfter: The value 'yesterday' is not valid.");
  });

  it('not approved tells the user where to approve the app', () => {
    expect(new AppNotApproved().message).toContain('Settings > Integrations > API Application Access');
  });

  it('not licensed names the module', () => {
    const err = classify(403, fixture('problem-403-not-licensed.json'));
    expect(err).toBeInstanceOf(ModuleNotLicensed);
    expect((err as ModuleNotLicensed).module).toBe('accounting');
    expect(err.details).toMatchObject({ evidence: 'body' });
  });

  it('an unknown 403 body is a documented guess: AppNotApproved with evidence=default', () => {
    expect(classify(403, 'Forbidden').details).toMatchObject({ evidence: 'default' });
  });

  it.each([
    [new InvalidCredentials(), false],
    [new PaginationLoop('customers'), false],
    [new ResponseValidation('bad'), false],
    [new Error('unexpected'), true],
    [Object.assign(new Error('aborted'), { name: 'AbortError' }), false],
  ])('isRetryable(%s) = %s', (err, expected) => {
    expect(isRetryable(err)).toBe(expected);
  });
});

describe('classification of the sandbox-style problem bodies', () => {
  const body = (status: number, title: string, reason: string) =>
    JSON.stringify({ type: 'x', title, status, traceId: 't', errors: { '': [title] }, data: { reason } });

  it('403 "not approved … API Application Access" → AppNotApproved from the body', () => {
    const err = classify(
      403,
      body(
        403,
        'The application is not approved by tenant 1. A tenant administrator must approve it in Settings > Integrations > API Application Access.',
        'AppNotApproved',
      ),
    );
    expect(err).toBeInstanceOf(AppNotApproved);
    expect(err.details).toMatchObject({ evidence: 'body' });
  });

  it('403 "not licensed for the Accounting module" → ModuleNotLicensed from the body', () => {
    const err = classify(
      403,
      body(403, 'Tenant 1 is not licensed for the Accounting module.', 'ModuleNotLicensed'),
    );
    expect(err).toBeInstanceOf(ModuleNotLicensed);
  });

  it('401 naming the app key → InvalidAppKey (our configuration), no refresh', () => {
    const wrong = classify(
      401,
      body(401, 'The ST-App-Key header is not a valid application key.', 'InvalidAppKey'),
    );
    expect(wrong).toBeInstanceOf(InvalidAppKey);
    expect(wrong).toMatchObject({ code: 'servicetitan_invalid_app_key', missing: false });
    expect(wrong.message).toContain('SERVICETITAN_APP_KEY');
    expect(refreshMayHelp(wrong)).toBe(false);
    const missing = classify(401, body(401, 'The ST-App-Key header is missing.', 'MissingAppKey'));
    expect(missing).toMatchObject({ code: 'servicetitan_invalid_app_key', missing: true });
  });

  it('401 "not valid for tenant" → CredentialForAnotherTenant, an InvalidCredentials naming the tenant', () => {
    const err = classify(401, body(401, 'The access token is not valid for tenant 1.', 'TenantMismatch'));
    expect(err).toBeInstanceOf(CredentialForAnotherTenant);
    expect(err).toBeInstanceOf(InvalidCredentials);
    expect(err).toMatchObject({ code: 'servicetitan_tenant_mismatch', tenantId: '1' });
    expect(err.message).toContain('tenant 1');
    expect(refreshMayHelp(err)).toBe(false);
  });

  it.each([
    ['The access token has expired.', 'TokenExpired', 'expired'],
    ['The access token has been revoked.', 'TokenRevoked', 'revoked'],
    ['The access token is invalid.', 'TokenInvalid', 'invalid'],
  ])('401 "%s" → TokenRejected (%s), which a refresh may cure', (title, reason, expected) => {
    const err = classify(401, body(401, title, reason));
    expect(err).toBeInstanceOf(TokenRejected);
    expect(err).toBeInstanceOf(InvalidCredentials);
    expect(err).toMatchObject({ code: 'servicetitan_token_rejected', reason: expected });
    expect(refreshMayHelp(err)).toBe(true);
  });

  it('401 with an empty body and an invalid_token challenge → TokenRejected', () => {
    const err = classify(401, '', { 'www-authenticate': 'Bearer error="invalid_token"' });
    expect(err).toBeInstanceOf(TokenRejected);
  });

  it('401 saying the app is not approved → AppNotApproved from the body, no refresh', () => {
    const err = classify(401, body(401, 'The application is not approved by tenant 1.', 'AppNotApproved'));
    expect(err).toBeInstanceOf(AppNotApproved);
    expect(err.details).toMatchObject({ evidence: 'body' });
    expect(refreshMayHelp(err)).toBe(false);
  });

  it('401 with a body that says nothing → AppNotApproved by default (API-NOTES), after a refresh', () => {
    const err = classify(401, '');
    expect(err).toBeInstanceOf(AppNotApproved);
    expect(err.details).toMatchObject({ evidence: 'status_401' });
    expect(refreshMayHelp(err)).toBe(true);
  });
});
