import { describe, expect, it } from 'vitest';
import {
  type BreakerTransition,
  CircuitOpen,
  createCircuitBreaker,
  createServiceTitanClient,
  type ServiceTitanObserver,
} from '../../../src/servicetitan/index.js';

function fakeClock(start = 1_000_000) {
  let t = start;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}

function breaker(threshold = 3, cooldownMs = 60_000) {
  const clock = fakeClock();
  const transitions: BreakerTransition[] = [];
  const b = createCircuitBreaker({
    environment: 'integration',
    failureThreshold: threshold,
    cooldownMs,
    now: clock.now,
    onTransition: (t) => transitions.push(t),
  });
  return { b, clock, transitions };
}

describe('circuit breaker', () => {
  it('when failures stay under the threshold, or a success comes between them, then it stays closed', () => {
    const { b, transitions } = breaker(3);
    b.admit();
    b.onFailure();
    b.admit();
    b.onFailure();
    b.admit();
    b.onSuccess();
    b.admit();
    b.onFailure();
    b.admit();
    b.onFailure();
    expect(b.state()).toBe('closed');
    expect(() => b.check()).not.toThrow();
    expect(transitions).toEqual([]);
  });

  it('when the threshold of consecutive failures is reached, then it opens and refuses requests with the remaining cool-down', () => {
    const { b, clock, transitions } = breaker(3, 60_000);
    for (let i = 0; i < 3; i++) {
      b.admit();
      b.onFailure();
    }
    expect(b.state()).toBe('open');
    expect(transitions).toEqual([
      { environment: 'integration', state: 'open', failures: 3, retryAt: new Date(clock.now() + 60_000) },
    ]);
    clock.advance(45_000);
    let refused: unknown;
    try {
      b.admit();
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(CircuitOpen);
    expect((refused as CircuitOpen).retryable).toBe(true);
    expect((refused as CircuitOpen).retryAfterMs).toBe(15_000);
    expect(() => b.check()).toThrow(CircuitOpen);
  });

  it('when the cool-down has passed, then one probe goes through (half-open) while the others still wait; its success closes', () => {
    const { b, clock, transitions } = breaker(2, 10_000);
    b.admit();
    b.onFailure();
    b.admit();
    b.onFailure();
    clock.advance(10_000);
    expect(() => b.check()).not.toThrow();
    b.admit(); // the probe
    expect(b.state()).toBe('half_open');
    expect(() => b.admit()).toThrow(CircuitOpen);
    expect(() => b.check()).toThrow(CircuitOpen);
    b.onSuccess();
    expect(b.state()).toBe('closed');
    expect(() => b.admit()).not.toThrow();
    expect(transitions.map((t) => t.state)).toEqual(['open', 'half_open', 'closed']);
  });

  it('when a request sent before it opened answers well while it is open, then it stays open until its probe', () => {
    const { b, clock, transitions } = breaker(2, 10_000);
    b.admit(); // sent while closed: a count, whose endpoint still answers
    b.admit();
    b.onFailure();
    b.admit();
    b.onFailure();
    expect(b.state()).toBe('open');
    b.onSuccess();
    expect(b.state()).toBe('open');
    expect(() => b.check()).toThrow(CircuitOpen);
    clock.advance(10_000);
    b.admit(); // the probe
    b.onSuccess();
    expect(b.state()).toBe('closed');
    expect(transitions.map((t) => t.state)).toEqual(['open', 'half_open', 'closed']);
  });

  it('when the probe fails, then it re-opens for a whole new cool-down', () => {
    const { b, clock, transitions } = breaker(1, 10_000);
    b.admit();
    b.onFailure();
    clock.advance(12_000);
    b.admit();
    b.onFailure();
    expect(b.state()).toBe('open');
    expect(transitions.at(-1)?.retryAt).toEqual(new Date(clock.now() + 10_000));
    clock.advance(9_999);
    expect(() => b.admit()).toThrow(CircuitOpen);
    clock.advance(1);
    expect(() => b.admit()).not.toThrow();
  });

  it('when the probe is abandoned (cancelled, 429), then the next request may probe', () => {
    const { b, clock } = breaker(1, 1_000);
    b.admit();
    b.onFailure();
    clock.advance(1_000);
    b.admit();
    expect(() => b.admit()).toThrow(CircuitOpen);
    b.onAbandon();
    expect(() => b.admit()).not.toThrow();
  });

  it('when the threshold is 0, then it never opens', () => {
    const { b } = breaker(0);
    for (let i = 0; i < 100; i++) {
      b.admit();
      b.onFailure();
    }
    expect(b.state()).toBe('closed');
  });
});

describe('ServiceTitan client with its breaker', () => {
  it('when the API keeps answering 500, then the breaker opens after the threshold and later requests fail fast without being sent', async () => {
    let sent = 0;
    const fetchImpl = (async (input: string | URL | Request) => {
      const url = new URL(String(input));
      if (url.pathname === '/connect/token')
        return new Response(JSON.stringify({ access_token: 't', expires_in: 900, token_type: 'Bearer' }), {
          status: 200,
          headers: { 'content-type': 'application/json' },
        });
      sent++;
      return new Response('{"title":"boom"}', {
        status: 500,
        headers: { 'content-type': 'application/json' },
      });
    }) as typeof fetch;
    const events: { kind: string; value: unknown }[] = [];
    const observer: ServiceTitanObserver = {
      request: (e) => events.push({ kind: 'request', value: e }),
      retry: (e) => events.push({ kind: 'retry', value: e }),
      breakerTransition: (t) => events.push({ kind: 'transition', value: t.state }),
    };
    const client = createServiceTitanClient({
      appKey: 'ak',
      environments: {
        integration: { authUrl: 'http://127.0.0.1:1', apiUrl: 'http://127.0.0.1:1' },
        production: { authUrl: 'http://127.0.0.1:2', apiUrl: 'http://127.0.0.1:2' },
      },
      fetch: fetchImpl,
      rateLimitPerSecond: 1000,
      backoff: { baseMs: 1, maxMs: 2 },
      maxAttempts: 8,
      breaker: { failureThreshold: 3, cooldownMs: 60_000 },
      observer,
    });
    const tenant = client.tenant({
      environment: 'integration',
      tenantId: '77',
      clientId: 'c',
      clientSecret: 's',
    });
    const drain = async () => {
      for await (const _ of tenant.exportPages('customers')) void _;
    };
    const first = await drain().catch((e: unknown) => e);
    // Three attempts opened the breaker: the other five of the eight were not spent.
    expect(sent).toBe(3);
    expect(first).toBeInstanceOf(CircuitOpen);
    expect((first as CircuitOpen).retryAfterMs).toBeGreaterThan(55_000);
    expect(client.breakerStates()).toEqual({ integration: 'open', production: 'closed' });

    const second = await drain().catch((e: unknown) => e);
    expect(second).toBeInstanceOf(CircuitOpen);
    expect(sent).toBe(3);

    const requests = events
      .filter((e) => e.kind === 'request')
      .map((e) => e.value as Record<string, unknown>);
    expect(requests).toHaveLength(3);
    expect(requests[0]).toMatchObject({
      environment: 'integration',
      endpoint: '/crm/v2/tenant/{tenant}/export/customers',
      status: '500',
    });
    expect(events.filter((e) => e.kind === 'retry')).toHaveLength(2);
    expect(events.filter((e) => e.kind === 'transition').map((e) => e.value)).toEqual(['open']);
    client.close();
  });
});
