import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, createCompany, startApiHarness } from './support/harness.js';

describe('GET /api/sandbox', () => {
  let h: ApiHarness;
  let bare: ApiHarness;

  beforeAll(async () => {
    h = await startApiHarness({
      exposeSandbox: true,
      sandbox: {
        tenants: [
          { tenantId: 1_000_001, customers: 20, invoices: 30 },
          { tenantId: 1_000_002, customers: 5, invoices: 5, approved: false },
        ],
      },
    });
    bare = await startApiHarness({ sandbox: { tenants: [{ tenantId: 9, customers: 1, invoices: 1 }] } });
  });
  afterAll(async () => {
    await h?.close();
    await bare?.close();
  });

  it('when an admin asks on a deployment with the embedded sandbox, then its tenants come with credentials that connect, and approving one on the approval page connects it', async () => {
    // `exempt`: the harness watches sandbox secrets in answers; this answer shows the simulator's own.
    const res = await h.call('get', '/api/sandbox', { exempt: true });
    expect(res.status).toBe(200);
    expect(res.body.url).toBe(h.sandbox.url);
    expect(res.body.tenants).toHaveLength(2);
    const waiting = res.body.tenants[1];
    expect(waiting).toMatchObject({ tenantId: '1000002', environment: 'integration', approved: false });
    expect(waiting.demonstrates).toMatch(/awaiting approval/);

    const companyId = await createCompany(h, 'Sandbox Trial');
    const created = await h.call('post', '/api/credentials', {
      body: {
        companyId,
        environment: waiting.environment,
        tenantId: waiting.tenantId,
        clientId: waiting.clientId,
        clientSecret: waiting.clientSecret,
        test: true,
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.test.status).toBe('awaiting_approval');

    const approve = await fetch(`${h.sandbox.url}/sandbox/approvals/${waiting.tenantId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'approved=true',
      redirect: 'manual',
    });
    expect(approve.status).toBe(303);
    const retest = await h.call('post', `/api/credentials/${created.body.id}/test`);
    expect(retest.body.status).toBe('connected');
    const after = await h.call('get', '/api/sandbox', { exempt: true });
    expect(after.body.tenants[1].approved).toBe(true);
  });

  it('when a non-admin asks, then 403; on a deployment without the sandbox, 404 saying so', async () => {
    const operator = await h.token('operator');
    expect((await h.call('get', '/api/sandbox', { token: operator })).status).toBe(403);
    const none = await bare.call('get', '/api/sandbox');
    expect(none.status).toBe(404);
    expect(none.body.message).toMatch(/no embedded ServiceTitan sandbox/);
    bare.assertNoLeaks();
  });
});
