import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  AppNotApproved,
  BadRequest,
  createServiceTitanClient,
  InvalidAppKey,
  InvalidCredentials,
  ModuleNotLicensed,
  RateLimited,
  type ServiceTitanClientOptions,
  ServiceTitanConfigError,
  ServiceTitanUnavailable,
  type TenantCredential,
  TokenRejected,
} from '../../../src/servicetitan/index.js';

const cred: TenantCredential = {
  environment: 'integration',
  tenantId: '4242',
  clientId: 'cid.abc',
  clientSecret: 'cs.super-secret-value',
};

type Handler = (req: {
  url: URL;
  method: string;
  headers: Headers;
  body: string;
  signal?: AbortSignal;
}) => Promise<Response> | Response;

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(typeof body === 'string' ? body : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });

/** A fake ServiceTitan behind an injected fetch: tokens are "tok-1", "tok-2", ... */
function fakeServiceTitan(api: Handler, tokenHandler?: Handler) {
  let issued = 0;
  const log: { method: string; path: string; auth: string | null; appKey: string | null }[] = [];
  const tokenRequests: string[] = [];
  const fetchImpl = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const headers = new Headers(init?.headers);
    const body = init?.body ? String(init.body) : '';
    const req = { url, method: init?.method ?? 'GET', headers, body, signal: init?.signal ?? undefined };
    if (url.pathname === '/connect/token') {
      tokenRequests.push(body);
      if (tokenHandler) return tokenHandler(req);
      issued++;
      return json(200, {
        access_token: `tok-${issued}`,
        expires_in: 900,
        token_type: 'Bearer',
        scope: 'api',
      });
    }
    log.push({
      method: req.method,
      path: url.pathname + url.search,
      auth: headers.get('authorization'),
      appKey: headers.get('st-app-key'),
    });
    return api(req);
  }) as typeof fetch;
  return { fetchImpl, log, tokenRequests };
}

function options(
  fetchImpl: typeof fetch,
  extra: Partial<ServiceTitanClientOptions> = {},
): ServiceTitanClientOptions {
  return {
    appKey: 'ak1.app-key',
    environments: {
      integration: {
        authUrl: 'https://auth-integration.example.test',
        apiUrl: 'https://api-integration.example.test',
      },
      production: { authUrl: 'https://auth.example.test', apiUrl: 'https://api.example.test' },
    },
    rateLimitPerSecond: 1000,
    backoff: { baseMs: 1, maxMs: 5 },
    fetch: fetchImpl,
    ...extra,
  };
}

const page = (ids: number[], hasMore = false, continueFrom = 'next') => ({
  hasMore,
  continueFrom,
  data: ids.map((id) => ({ id, modifiedOn: '2024-01-01T00:00:00Z' })),
});

async function ids(iterable: AsyncIterable<{ records: { id: number }[] }>) {
  const out: number[] = [];
  for await (const p of iterable) out.push(...p.records.map((r) => r.id));
  return out;
}

describe('ServiceTitan client', () => {
  it('when a base URL is plain http on a public host, then the client refuses to start', () => {
    const { fetchImpl } = fakeServiceTitan(() => json(200, {}));
    const bad = options(fetchImpl);
    bad.environments.production.apiUrl = 'http://api.servicetitan.io';
    expect(() => createServiceTitanClient(bad)).toThrow(ServiceTitanConfigError);
    const loopback = options(fetchImpl);
    loopback.environments.integration = {
      authUrl: 'http://127.0.0.1:9999',
      apiUrl: 'http://localhost:9999/',
    };
    expect(() => createServiceTitanClient(loopback)).not.toThrow();
  });

  it('sends the bearer token and app key to the export path, using the client-credentials grant', async () => {
    const fake = fakeServiceTitan(() => json(200, page([1, 2])));
    const client = createServiceTitanClient(options(fake.fetchImpl));
    expect(await ids(client.tenant(cred).exportPages('customers', { from: '2024-01-01' }))).toEqual([1, 2]);
    expect(fake.log).toEqual([
      {
        method: 'GET',
        path: '/crm/v2/tenant/4242/export/customers?from=2024-01-01',
        auth: 'Bearer tok-1',
        appKey: 'ak1.app-key',
      },
    ]);
    const form = new URLSearchParams(fake.tokenRequests[0]);
    expect(form.get('grant_type')).toBe('client_credentials');
    expect(form.get('client_id')).toBe('cid.abc');
    expect(form.get('client_secret')).toBe('cs.super-secret-value');
  });

  it('when one export page is asked for, then exactly one request is sent, without reading ahead', async () => {
    const fake = fakeServiceTitan(() => json(200, page([1, 2], true, 'tok-b')));
    const client = createServiceTitanClient(options(fake.fetchImpl));
    const first = await client.tenant(cred).exportPage('invoices');
    expect(first).toMatchObject({ hasMore: true, continueFrom: 'tok-b' });
    expect(first.records.map((r) => r.id)).toEqual([1, 2]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fake.log.map((l) => l.path)).toEqual(['/accounting/v2/tenant/4242/export/invoices']);
  });

  it('when a count is answered, then its time to the answer is reported without the wait for a slot or for the body', async () => {
    // Headers 60 ms after the request, the body 150 ms after them; one request a second allowed.
    const calledAt: number[] = [];
    const bodySentAt: number[] = [];
    const fake = fakeServiceTitan(async () => {
      const i = calledAt.push(performance.now()) - 1;
      await new Promise((resolve) => setTimeout(resolve, 60));
      const body = new ReadableStream({
        async start(controller) {
          await new Promise((resolve) => setTimeout(resolve, 150));
          bodySentAt[i] = performance.now();
          controller.enqueue(new TextEncoder().encode(JSON.stringify({ ...page([1]), totalCount: 7 })));
          controller.close();
        },
      });
      return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
    });
    const tenant = createServiceTitanClient(options(fake.fetchImpl, { rateLimitPerSecond: 1 })).tenant(cred);
    const reports: { ms: number; at: number }[] = [];
    const onAnswered = (ms: number) => reports.push({ ms, at: performance.now() });
    expect(await tenant.countRecords('customers', { onAnswered })).toBe(7);
    // The second waits about a second for its slot.
    const asked = performance.now();
    expect(await tenant.countRecords('customers', { onAnswered })).toBe(7);
    expect(performance.now() - asked).toBeGreaterThan(800);

    expect(reports).toHaveLength(2);
    reports.forEach(({ ms, at }, i) => {
      // At least the headers' delay, counted from the request's sending, not from the slot's wait,
      expect(ms).toBeGreaterThanOrEqual(59);
      expect(ms).toBeLessThanOrEqual(at - calledAt[i]! + 1);
      // and without the body's.
      expect(ms).toBeLessThan(bodySentAt[i]! - calledAt[i]!);
    });
  });

  it('when 20 feeds of one tenant start at once, then one token request serves them all', async () => {
    const fake = fakeServiceTitan(async () => {
      await new Promise((r) => setTimeout(r, 2));
      return json(200, page([1]));
    });
    const client = createServiceTitanClient(options(fake.fetchImpl));
    const tenant = client.tenant(cred);
    await Promise.all(Array.from({ length: 20 }, () => ids(tenant.exportPages('customers'))));
    expect(fake.tokenRequests).toHaveLength(1);
    expect(client.stats()).toEqual({ apiRequests: 20, tokenRequests: 1 });
  });

  it('when the API answers 401, then the token is refreshed once and the retry carries the NEW token', async () => {
    const fake = fakeServiceTitan((req) =>
      req.headers.get('authorization') === 'Bearer tok-1' ? json(401, '') : json(200, page([7])),
    );
    const client = createServiceTitanClient(options(fake.fetchImpl));
    expect(await ids(client.tenant(cred).exportPages('invoices'))).toEqual([7]);
    expect(fake.log.map((l) => l.auth)).toEqual(['Bearer tok-1', 'Bearer tok-2']);
    expect(fake.log[0]?.path).toBe('/accounting/v2/tenant/4242/export/invoices');
  });

  it('when the API keeps answering 401 with fresh tokens, then AppNotApproved (not bad credentials)', async () => {
    const fake = fakeServiceTitan(() => json(401, ''));
    const client = createServiceTitanClient(options(fake.fetchImpl));
    await expect(ids(client.tenant(cred).exportPages('customers'))).rejects.toBeInstanceOf(AppNotApproved);
    expect(fake.tokenRequests).toHaveLength(2);
  });

  it('when the API keeps answering 401 "token expired" with fresh tokens, then TokenRejected after one refresh', async () => {
    const fake = fakeServiceTitan(() =>
      json(401, { title: 'The access token has expired.', data: { reason: 'TokenExpired' } }),
    );
    const client = createServiceTitanClient(options(fake.fetchImpl));
    await expect(ids(client.tenant(cred).exportPages('customers'))).rejects.toBeInstanceOf(TokenRejected);
    expect(fake.tokenRequests).toHaveLength(2);
    expect(fake.log).toHaveLength(2);
  });

  it('when the API answers 401 for the app key, then InvalidAppKey at once (no token refresh)', async () => {
    const fake = fakeServiceTitan(() =>
      json(401, {
        title: 'The ST-App-Key header is not a valid application key.',
        data: { reason: 'InvalidAppKey' },
      }),
    );
    const client = createServiceTitanClient(options(fake.fetchImpl));
    await expect(ids(client.tenant(cred).exportPages('customers'))).rejects.toBeInstanceOf(InvalidAppKey);
    expect(fake.tokenRequests).toHaveLength(1);
    expect(fake.log).toHaveLength(1);
  });

  it('when the app key is blank, then the client refuses to start, naming SERVICETITAN_APP_KEY', () => {
    expect(() =>
      createServiceTitanClient(options(fakeServiceTitan(() => json(200, {})).fetchImpl, { appKey: ' ' })),
    ).toThrow(/SERVICETITAN_APP_KEY/);
  });

  it('when the token endpoint says invalid_client, then InvalidCredentials without retrying', async () => {
    const fake = fakeServiceTitan(
      () => json(200, page([1])),
      () => json(400, { error: 'invalid_client' }),
    );
    const client = createServiceTitanClient(options(fake.fetchImpl));
    await expect(ids(client.tenant(cred).exportPages('customers'))).rejects.toBeInstanceOf(
      InvalidCredentials,
    );
    expect(fake.tokenRequests).toHaveLength(1);
    expect(fake.log).toHaveLength(0);
  });

  it('when the token endpoint fails with 503 then recovers, then the token request is retried', async () => {
    let n = 0;
    const fake = fakeServiceTitan(
      () => json(200, page([1])),
      () =>
        ++n < 3
          ? new Response('<html>down</html>', { status: 503 })
          : json(200, { access_token: 'tok-x', expires_in: 900, token_type: 'Bearer' }),
    );
    const client = createServiceTitanClient(options(fake.fetchImpl));
    expect(await ids(client.tenant(cred).exportPages('customers'))).toEqual([1]);
    expect(fake.log[0]?.auth).toBe('Bearer tok-x');
  });

  it('when 429 comes with Retry-After, then the client waits at least that long and succeeds', async () => {
    let n = 0;
    const fake = fakeServiceTitan(() =>
      ++n === 1 ? json(429, '', { 'retry-after': '1' }) : json(200, page([3])),
    );
    const client = createServiceTitanClient(options(fake.fetchImpl));
    const started = Date.now();
    expect(await ids(client.tenant(cred).exportPages('customers'))).toEqual([3]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
  });

  it('when 429s never stop, then RateLimited (retryable, with the advised wait) after maxAttempts', async () => {
    const fake = fakeServiceTitan(() => json(429, { message: 'Try again in 0 seconds' }));
    const client = createServiceTitanClient(options(fake.fetchImpl, { maxAttempts: 3 }));
    const err = await ids(client.tenant(cred).exportPages('customers')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimited);
    expect(err).toMatchObject({ retryable: true, retryAfterMs: 0 });
    expect(fake.log).toHaveLength(3);
  });

  it.each([
    ['500 JSON', () => json(500, { title: 'boom' })],
    ['503 HTML', () => new Response('<html><body>Service Unavailable</body></html>', { status: 503 })],
    [
      'truncated JSON',
      () => new Response('{"hasMore":false,"continueFrom":"x","data":[{"id":1', { status: 200 }),
    ],
    [
      'connection reset',
      () =>
        Promise.reject(
          new TypeError('fetch failed', {
            cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
          }),
        ),
    ],
  ])(
    'when the first two answers are %s, then the request is retried and succeeds',
    async (_name, failure) => {
      let n = 0;
      const fake = fakeServiceTitan(() => (++n <= 2 ? failure() : json(200, page([5]))));
      const client = createServiceTitanClient(options(fake.fetchImpl));
      expect(await ids(client.tenant(cred).exportPages('customers'))).toEqual([5]);
      expect(fake.log).toHaveLength(3);
    },
  );

  it('when the server is slower than the request timeout, then it times out, retries, and finally fails retryable', async () => {
    const fake = fakeServiceTitan(
      (req) =>
        new Promise<Response>((_, reject) => {
          req.signal?.addEventListener('abort', () => reject(req.signal?.reason));
        }),
    );
    const client = createServiceTitanClient(
      options(fake.fetchImpl, { requestTimeoutMs: 30, maxAttempts: 2 }),
    );
    const err = await ids(client.tenant(cred).exportPages('customers')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceTitanUnavailable);
    expect(err).toMatchObject({ reason: 'timeout', retryable: true });
    expect(fake.log).toHaveLength(2);
  });

  it('when the API answers 400, then BadRequest at once (no retry)', async () => {
    const fake = fakeServiceTitan(() =>
      json(400, { title: 'Invalid from', errors: { from: ['bad token'] } }),
    );
    const client = createServiceTitanClient(options(fake.fetchImpl));
    const err = await ids(client.tenant(cred).exportPages('customers', { from: 'garbage' })).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BadRequest);
    expect((err as Error).message).toContain('from: bad token');
    expect(fake.log).toHaveLength(1);
  });

  it('when a module is not licensed, then that stream fails with ModuleNotLicensed and others work', async () => {
    const fake = fakeServiceTitan((req) =>
      req.url.pathname.startsWith('/accounting')
        ? json(403, { title: 'Forbidden', detail: 'Tenant is not licensed for Accounting' })
        : json(200, page([1])),
    );
    const tenant = createServiceTitanClient(options(fake.fetchImpl)).tenant(cred);
    await expect(ids(tenant.exportPages('invoices'))).rejects.toBeInstanceOf(ModuleNotLicensed);
    expect(await ids(tenant.exportPages('customers'))).toEqual([1]);
  });

  it('when the client is closed, then requests in flight are aborted', async () => {
    const fake = fakeServiceTitan(
      (req) =>
        new Promise<Response>((_, reject) => {
          req.signal?.addEventListener('abort', () => reject(req.signal?.reason));
        }),
    );
    const client = createServiceTitanClient(options(fake.fetchImpl));
    const pending = ids(client.tenant(cred).exportPages('customers'));
    await new Promise((r) => setTimeout(r, 20));
    client.close();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('never logs tokens, the secret or the app key', async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: 'trace' },
      new Writable({
        write(chunk, _enc, cb) {
          lines.push(String(chunk));
          cb();
        },
      }),
    );
    let n = 0;
    const fake = fakeServiceTitan(() => {
      n++;
      if (n === 1) return json(401, '');
      if (n === 2) return json(500, '');
      return json(200, page([1]));
    });
    const client = createServiceTitanClient(options(fake.fetchImpl, { logger }));
    await ids(client.tenant(cred).exportPages('customers'));
    const text = lines.join('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const secret of ['tok-1', 'tok-2', 'cs.super-secret-value', 'ak1.app-key'])
      expect(text).not.toContain(secret);
  });
});

describe('connection test', () => {
  const run = (api: Handler, tokenHandler?: Handler) =>
    createServiceTitanClient(options(fakeServiceTitan(api, tokenHandler).fetchImpl, { maxAttempts: 2 }))
      .tenant(cred)
      .testConnection();

  it('when every stream reads, then connected', async () => {
    const result = await run((req) => {
      expect(req.url.searchParams.get('pageSize')).toBe('1');
      return json(200, { page: 1, pageSize: 1, hasMore: true, data: [] });
    });
    expect(result).toMatchObject({
      status: 'connected',
      streams: { customers: 'ok', customerContacts: 'ok', locations: 'ok', invoices: 'ok' },
    });
  });

  it('when accounting is forbidden but CRM works, then connected with invoices not licensed', async () => {
    const result = await run((req) =>
      req.url.pathname.startsWith('/accounting')
        ? json(403, { title: 'Forbidden' })
        : json(200, { page: 1, pageSize: 1, hasMore: false, data: [] }),
    );
    expect(result.status).toBe('connected');
    expect(result.streams.invoices).toBe('module_not_licensed');
    expect(result.message).toContain('invoices');
  });

  it('when every stream is forbidden, then awaiting_approval with where to click', async () => {
    const result = await run(() => json(403, { title: 'Forbidden' }));
    expect(result.status).toBe('awaiting_approval');
    expect(result.message).toContain('API Application Access');
  });

  it('when the secret is wrong, then invalid_credentials', async () => {
    const result = await run(
      () => json(200, {}),
      () => json(400, { error: 'invalid_client' }),
    );
    expect(result.status).toBe('invalid_credentials');
  });

  it('when the auth server cannot be reached, then unreachable', async () => {
    const result = await run(
      () => json(200, {}),
      () =>
        Promise.reject(
          new TypeError('fetch failed', {
            cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
          }),
        ),
    );
    expect(result.status).toBe('unreachable');
    expect(result.message).toContain('ECONNREFUSED');
  });
});
