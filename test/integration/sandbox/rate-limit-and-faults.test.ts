import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../../src/sandbox/index.js';
import { apiGet, tokenFor } from './support/sandbox-client.js';

const A = 601;
const B = 602;
const path = (tenantId: number) => `/crm/v2/tenant/${tenantId}/export/customers`;

async function burst(sandbox: Sandbox, token: string, n: number, tenantId = A) {
  return Promise.all(
    Array.from({ length: n }, () =>
      apiGet(sandbox, `/crm/v2/tenant/${tenantId}/customers?pageSize=1`, token),
    ),
  );
}

describe('sandbox rate limit', () => {
  it.each([
    [
      'header',
      (r: Response, body: { message: string }) =>
        r.headers.get('retry-after') === '1' && !/Try again/.test(body.message),
    ],
    [
      'message',
      (r: Response, body: { message: string }) =>
        r.headers.get('retry-after') === null && /Try again in 1 seconds/.test(body.message),
    ],
    [
      'none',
      (r: Response, body: { message: string }) =>
        r.headers.get('retry-after') === null && !/Try again/.test(body.message),
    ],
  ] as const)(
    'when a tenant exceeds the per-second limit (Retry-After in %s), then the excess answers 429 and other tenants are unaffected',
    async (mode, check) => {
      const sandbox = await startSandbox({
        rateLimitPerSecond: 10,
        rateLimitRetryAfter: mode,
        tenants: [
          { tenantId: A, customers: 10, invoices: 10 },
          { tenantId: B, customers: 10, invoices: 10 },
        ],
      });
      try {
        const token = await tokenFor(sandbox, A);
        const responses = await burst(sandbox, token, 25);
        const limited = responses.filter((r) => r.status === 429);
        expect(responses.filter((r) => r.status === 200)).toHaveLength(10);
        expect(limited).toHaveLength(15);
        const body = (await limited[0]!.json()) as { message: string; statusCode: number };
        expect(body.statusCode).toBe(429);
        expect(check(limited[0]!, body)).toBe(true);
        expect((await apiGet(sandbox, path(B), await tokenFor(sandbox, B))).status).toBe(200);
        expect(sandbox.stats().rateLimited).toBe(15);
        await new Promise((resolve) => setTimeout(resolve, 1_050));
        expect((await apiGet(sandbox, path(A), token)).status).toBe(200);
      } finally {
        await sandbox.close();
      }
    },
  );
});

describe('sandbox injected faults', () => {
  let sandbox: Sandbox;
  let token: string;
  beforeAll(async () => {
    sandbox = await startSandbox({
      rateLimitPerSecond: 0,
      tenants: [
        { tenantId: A, customers: 50, invoices: 10 },
        { tenantId: B, customers: 10, invoices: 10 },
      ],
    });
    token = await tokenFor(sandbox, A);
  });
  afterEach(() => sandbox.clearFaults());
  afterAll(() => sandbox.close());

  it('when a server-error is injected, then a 5xx JSON problem comes back once and then normal service', async () => {
    sandbox.injectFault({ kind: 'server-error', status: 502, count: 1 });
    const failed = await apiGet(sandbox, path(A), token);
    expect(failed.status).toBe(502);
    expect(failed.headers.get('content-type')).toContain('application/json');
    expect(await failed.json()).toMatchObject({ status: 502 });
    expect((await apiGet(sandbox, path(A), token)).status).toBe(200);
  });

  it('when an html-503 is injected, then an HTML page answers with 503', async () => {
    sandbox.injectFault({ kind: 'html-503', nth: 1 });
    const response = await apiGet(sandbox, path(A), token);
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(await response.text()).toContain('<html>');
  });

  it('when a rate-limit fault is injected, then 429 comes with the configured Retry-After', async () => {
    sandbox.injectFault({ kind: 'rate-limit', retryAfterSeconds: 7, count: 1 });
    const response = await apiGet(sandbox, path(A), token);
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('7');
  });

  it('when a slow fault is injected, then the response arrives after the delay and is normal', async () => {
    sandbox.injectFault({ kind: 'slow', delayMs: 300, count: 1 });
    const started = performance.now();
    const response = await apiGet(sandbox, path(A), token);
    expect(response.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('when a truncated fault (content-length) is injected, then reading the body fails', async () => {
    sandbox.injectFault({ kind: 'truncated', count: 1 });
    const response = await apiGet(sandbox, path(A), token);
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
  });

  it('when a truncated fault (invalid-json) is injected, then the body is complete HTTP but not valid JSON', async () => {
    sandbox.injectFault({ kind: 'truncated', truncateMode: 'invalid-json', count: 1 });
    const response = await apiGet(sandbox, path(A), token);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text.startsWith('{"hasMore"')).toBe(true);
    expect(() => JSON.parse(text)).toThrow();
  });

  it('when a reset is injected, then the connection drops without a response', async () => {
    sandbox.injectFault({ kind: 'reset', count: 1 });
    await expect(apiGet(sandbox, path(A), token)).rejects.toThrow();
    expect((await apiGet(sandbox, path(A), token)).status).toBe(200);
  });

  it('when a fault targets a tenant and a path on the Nth request, then only that request fails', async () => {
    sandbox.injectFault({ kind: 'server-error', tenantId: A, path: /\/customers$/, nth: 2 });
    const tokenB = await tokenFor(sandbox, B);
    const statuses = [
      (await apiGet(sandbox, path(A), token)).status,
      (await apiGet(sandbox, path(B), tokenB)).status,
      (await apiGet(sandbox, `/crm/v2/tenant/${A}/export/locations`, token)).status,
      (await apiGet(sandbox, path(A), token)).status,
      (await apiGet(sandbox, path(A), token)).status,
    ];
    expect(statuses).toEqual([200, 200, 200, 500, 200]);
  });

  it('when a fault targets the token endpoint, then token requests fail and stats count them', async () => {
    const before = sandbox.stats();
    sandbox.injectFault({ kind: 'html-503', path: '/connect/token', count: 1 });
    await expect(tokenFor(sandbox, A)).rejects.toThrow(/503/);
    await tokenFor(sandbox, A);
    const after = sandbox.stats();
    expect(after.tokenRequests - before.tokenRequests).toBe(1);
    expect((after.byPath['/connect/token'] ?? 0) - (before.byPath['/connect/token'] ?? 0)).toBe(2);
  });

  it('when latencyMs is configured, then every response waits at least that long', async () => {
    const slow = await startSandbox({
      latencyMs: 150,
      tenants: [{ tenantId: A, customers: 5, invoices: 5 }],
    });
    try {
      const t = await tokenFor(slow, A);
      const started = performance.now();
      expect((await apiGet(slow, path(A), t)).status).toBe(200);
      expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    } finally {
      await slow.close();
    }
  });
});
