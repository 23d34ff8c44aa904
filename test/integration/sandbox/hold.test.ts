import { describe, expect, it } from 'vitest';
import { startSandbox } from '../../../src/sandbox/index.js';
import { apiGet, tokenFor } from './support/sandbox-client.js';

const A = 701;
const B = 702;
const customers = (tenantId: number) => `/crm/v2/tenant/${tenantId}/export/customers`;
const invoices = (tenantId: number) => `/accounting/v2/tenant/${tenantId}/export/invoices`;

describe('sandbox hold', () => {
  it('when a hold matches a request, then it stays unanswered until released; other paths and tenants pass', async () => {
    const sandbox = await startSandbox({
      rateLimitPerSecond: 0,
      tenants: [
        { tenantId: A, customers: 10, invoices: 10 },
        { tenantId: B, customers: 10, invoices: 10 },
      ],
    });
    try {
      const tokenA = await tokenFor(sandbox, A);
      const tokenB = await tokenFor(sandbox, B);
      const hold = sandbox.hold({ tenantId: A, path: '/export/customers' });
      let answered = false;
      const held = apiGet(sandbox, customers(A), tokenA).then((r) => {
        answered = true;
        return r;
      });
      await hold.reached(1);
      // Requests the hold does not match are answered while the held one waits.
      expect((await apiGet(sandbox, invoices(A), tokenA)).status).toBe(200);
      expect((await apiGet(sandbox, customers(B), tokenB)).status).toBe(200);
      expect(answered).toBe(false);
      expect(hold.parked()).toBe(1);

      hold.release();
      expect((await held).status).toBe(200);
      // A released hold parks nothing more.
      expect((await apiGet(sandbox, customers(A), tokenA)).status).toBe(200);
      expect(hold.parked()).toBe(1);
    } finally {
      await sandbox.close();
    }
  });

  it('when a hold has `after`, then that many matching requests pass and the next ones are parked', async () => {
    const sandbox = await startSandbox({ rateLimitPerSecond: 0, tenants: [{ tenantId: A, customers: 5 }] });
    try {
      const token = await tokenFor(sandbox, A);
      const hold = sandbox.hold({ tenantId: A, after: 2 });
      expect((await apiGet(sandbox, customers(A), token)).status).toBe(200);
      expect((await apiGet(sandbox, customers(A), token)).status).toBe(200);
      const third = apiGet(sandbox, customers(A), token);
      await hold.reached();
      expect(hold.parked()).toBe(1);
      hold.release();
      expect((await third).status).toBe(200);
    } finally {
      await sandbox.close();
    }
  });

  it('when the sandbox closes with requests parked, then close does not wait for a release', async () => {
    const sandbox = await startSandbox({ rateLimitPerSecond: 0, tenants: [{ tenantId: A, customers: 5 }] });
    const token = await tokenFor(sandbox, A);
    const hold = sandbox.hold();
    const held = apiGet(sandbox, customers(A), token).catch(() => null);
    await hold.reached();
    await sandbox.close();
    await held;
    expect(hold.parked()).toBe(1);
  });
});
