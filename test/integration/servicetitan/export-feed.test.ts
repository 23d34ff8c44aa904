import { afterEach, describe, expect, it } from 'vitest';
import type { FaultSpec } from '../../../src/sandbox/index.js';
import { type StreamName, streamNames } from '../../../src/servicetitan/index.js';
import { drain, expectExactly, groundTruthIds, type Harness, startHarness, TENANT } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function exportAll(harness: Harness, stream: StreamName = 'customers') {
  const result = await drain(harness.tenant.exportPages(stream));
  expectExactly(result.ids, groundTruthIds(harness.sandbox, TENANT, stream));
  expect(result.invalid).toEqual([]);
  return result;
}

describe('export feeds against the sandbox', () => {
  it('when nothing goes wrong, then every stream delivers every ground-truth record once', async () => {
    h = await startHarness();
    for (const stream of streamNames) {
      const { pages } = await exportAll(h, stream);
      expect(pages).toBeGreaterThan(3);
    }
  });

  it('when resuming from a saved continueFrom, then only the rest arrives', async () => {
    h = await startHarness();
    const seen: number[] = [];
    let saved = '';
    for await (const page of h.tenant.exportPages('customers')) {
      seen.push(...page.records.map((r) => r.id));
      saved = page.continueFrom;
      if (seen.length >= 50) break;
    }
    const rest = await drain(h.tenant.exportPages('customers', { from: saved }));
    expectExactly([...seen, ...rest.ids], groundTruthIds(h.sandbox, TENANT, 'customers'));
  });

  const faults: [string, FaultSpec, Partial<Parameters<typeof startHarness>[1]>?][] = [
    [
      '429 with Retry-After header',
      { kind: 'rate-limit', nth: 2, count: 2, retryAfter: 'header', retryAfterSeconds: 1 },
    ],
    [
      '429 with "try again in N seconds" message',
      { kind: 'rate-limit', nth: 3, count: 2, retryAfter: 'message', retryAfterSeconds: 1 },
    ],
    ['429 without any hint', { kind: 'rate-limit', rate: 0.3, retryAfter: 'none' }],
    ['500 problem body', { kind: 'server-error', rate: 0.3 }],
    ['502 problem body', { kind: 'server-error', rate: 0.2, status: 502 }],
    ['HTML 503 page', { kind: 'html-503', rate: 0.3 }],
    ['truncated body (connection dropped mid-body)', { kind: 'truncated', rate: 0.3 }],
    [
      'truncated JSON (complete response, cut JSON)',
      { kind: 'truncated', rate: 0.3, truncateMode: 'invalid-json' },
    ],
    ['connection resets', { kind: 'reset', rate: 0.3 }],
    [
      'responses slower than the request timeout',
      { kind: 'slow', nth: 2, count: 2, delayMs: 1500 },
      { requestTimeoutMs: 400 },
    ],
  ];

  it.each(faults)(
    'when the API answers with %s, then every record still arrives exactly once',
    async (_name, fault, clientOptions) => {
      h = await startHarness({}, clientOptions);
      h.sandbox.injectFault({ ...fault, path: '/export/' });
      const started = Date.now();
      await exportAll(h, 'customers');
      await exportAll(h, 'invoices');
      if (fault.kind === 'rate-limit' && fault.retryAfter !== 'none') {
        expect(h.sandbox.stats().rateLimited).toBe(2);
        // The advised 1 s was honoured.
        expect(Date.now() - started).toBeGreaterThanOrEqual(950);
      }
      expect(h.sandbox.stats().requests).toBeGreaterThan(h.client.stats().apiRequests * 0); // sanity: server was hit
    },
  );

  it('when the token expires while a request is in flight, then the 401 triggers one refresh and the feed completes', async () => {
    // TTL 1 s; a 1.5 s slow response on page 3 reaches the token check after expiry.
    h = await startHarness({ tokenTtlSeconds: 1 });
    h.sandbox.injectFault({ kind: 'slow', path: '/export/customers', nth: 3, delayMs: 1500 });
    await exportAll(h, 'customers');
    expect(h.client.stats().tokenRequests).toBeGreaterThanOrEqual(2);
  });

  it('when tokens are short-lived and the consumer is slow, then tokens are refreshed ahead of expiry', async () => {
    h = await startHarness({ tokenTtlSeconds: 1 });
    const result = await drain(
      h.tenant.exportPages('customers'),
      () => new Promise((r) => setTimeout(r, 250)),
    );
    expectExactly(result.ids, groundTruthIds(h.sandbox, TENANT, 'customers'));
    expect(h.client.stats().tokenRequests).toBeGreaterThanOrEqual(2);
  });

  it('when the tenant’s tokens are revoked mid-feed, then the client refreshes once and carries on', async () => {
    h = await startHarness();
    const harness = h;
    const result = await drain(h.tenant.exportPages('customers'), (i) => {
      if (i === 1) harness.sandbox.revokeTokens(TENANT);
    });
    expectExactly(result.ids, groundTruthIds(h.sandbox, TENANT, 'customers'));
    expect(h.client.stats().tokenRequests).toBe(2);
  });

  it('when the caller aborts, then iteration stops with the abort reason', async () => {
    h = await startHarness({ latencyMs: 50 });
    const controller = new AbortController();
    const pages: number[] = [];
    const err = await (async () => {
      for await (const page of h!.tenant.exportPages('customers', { signal: controller.signal })) {
        pages.push(page.records.length);
        if (pages.length === 2) controller.abort(new Error('user cancelled'));
      }
    })().catch((e: unknown) => e);
    expect(err).toMatchObject({ message: 'user cancelled' });
    expect(pages).toHaveLength(2);
  });
});
