import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalsUrl, type Sandbox, sandboxDirectory, startSandbox } from '../../../src/sandbox/index.js';
import { apiGet, tokenFor } from './support/sandbox-client.js';

const APPROVED = 601;
const WAITING = 602;

describe('sandbox approval page', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({
      tenants: [
        { tenantId: APPROVED, customers: 5, invoices: 5 },
        { tenantId: WAITING, customers: 5, invoices: 5, approved: false },
      ],
    });
  });
  afterAll(() => sandbox.close());

  const customers = (id: number) => `/crm/v2/tenant/${id}/customers?pageSize=1`;
  const post = (tenantId: number | string, approved: boolean) =>
    fetch(`${sandbox.url}/sandbox/approvals/${tenantId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ approved: String(approved) }),
      redirect: 'manual',
    });

  it('when the approval page is opened, then it shows each tenant with its state and the action that changes it', async () => {
    const all = await fetch(approvalsUrl(sandbox.url));
    expect(all.status).toBe(200);
    expect(all.headers.get('content-type')).toMatch(/text\/html/);
    const html = await all.text();
    expect(html).toContain('Settings &gt; Integrations &gt; API Application Access');
    expect(html).toMatch(new RegExp(`${APPROVED}</th>[\\s\\S]*?Connected[\\s\\S]*?Disconnect`));
    expect(html).toMatch(new RegExp(`${WAITING}</th>[\\s\\S]*?Not connected yet[\\s\\S]*?Allow Access`));
    // No secret of any tenant is on the page.
    for (const t of sandbox.tenants) expect(html).not.toContain(t.clientSecret);

    const one = await (await fetch(approvalsUrl(sandbox.url, WAITING))).text();
    expect(one).toContain(`${WAITING}</th>`);
    expect(one).not.toContain(`${APPROVED}</th>`);
  });

  it('when access is allowed on the page, then the tenant’s API calls pass; disconnecting refuses them again', async () => {
    const token = await tokenFor(sandbox, WAITING);
    expect((await apiGet(sandbox, customers(WAITING), token)).status).toBe(403);

    const allowed = await post(WAITING, true);
    expect(allowed.status).toBe(303);
    expect(allowed.headers.get('location')).toBe(`/sandbox/approvals?tenant=${WAITING}&done=allowed`);
    expect((await apiGet(sandbox, customers(WAITING), token)).status).toBe(200);
    const after = await (await fetch(`${sandbox.url}${allowed.headers.get('location')}`)).text();
    expect(after).toContain(`Access allowed for tenant ${WAITING}`);
    expect(
      sandboxDirectory(sandbox)
        .tenants()
        .find((t) => t.tenantId === String(WAITING))?.approved,
    ).toBe(true);

    expect((await post(WAITING, false)).status).toBe(303);
    expect((await apiGet(sandbox, customers(WAITING), token)).status).toBe(403);
    expect((await apiGet(sandbox, customers(APPROVED), await tokenFor(sandbox, APPROVED))).status).toBe(200);
  });

  it('when an unknown tenant is posted, then 404 and nothing changes', async () => {
    expect((await post(999, true)).status).toBe(404);
    expect((await post('abc', true)).status).toBe(404);
    expect(sandbox.tenants.map((t) => t.approved)).toEqual([true, false]);
  });

  it('when the directory is read, then it describes each tenant and links to its approval page', () => {
    const dir = sandboxDirectory(sandbox);
    expect(dir.url).toBe(sandbox.url);
    expect(dir.approvalsUrl).toBe(`${sandbox.url}/sandbox/approvals`);
    const [ok, waiting] = dir.tenants();
    expect(ok).toMatchObject({ tenantId: String(APPROVED), environment: 'integration', approved: true });
    expect(ok?.demonstrates).toMatch(/healthy tenant.*\(5 customers and 5 invoices\)/);
    expect(waiting?.demonstrates).toMatch(/awaiting approval/);
    expect(waiting?.approvalUrl).toBe(`${sandbox.url}/sandbox/approvals?tenant=${WAITING}`);
  });
});
