/**
 * The sandbox's stand-in for the screen where a ServiceTitan tenant administrator approves an
 * application: Settings > Integrations > API Application Access, where "Connect New App" lists
 * the apps that added the tenant's ID, and "Allow Access" grants the scopes they ask for. One
 * HTML page (no script, so it works under any CSP) lists the sandbox's tenants with their
 * approval and a form per tenant; posting it flips the approval that the API guard checks.
 */
import type { Express, Request, Response } from 'express';
import type { SandboxTenantInfo } from './types.js';

export const APPROVALS_PATH = '/sandbox/approvals';

/** The approval page of one tenant (or every tenant), as a URL under the sandbox's origin. */
export function approvalsUrl(origin: string, tenantId?: number): string {
  return `${origin}${APPROVALS_PATH}${tenantId === undefined ? '' : `?tenant=${tenantId}`}`;
}

type Done = 'allowed' | 'disconnected';

function page(tenants: readonly SandboxTenantInfo[], focus: number | undefined, done: Done | undefined) {
  const shown = focus === undefined ? tenants : tenants.filter((t) => t.tenantId === focus);
  const rows = shown
    .map((t) => {
      const state = t.approved ? 'Connected' : 'Not connected yet';
      const action = t.approved ? 'Disconnect' : 'Allow Access';
      return `<tr>
  <th scope="row">${t.tenantId}</th>
  <td>${t.environment === 'production' ? 'Production' : 'Integration'}</td>
  <td><strong>${state}</strong></td>
  <td>
    <form method="post" action="${APPROVALS_PATH}/${t.tenantId}">
      <input type="hidden" name="approved" value="${t.approved ? 'false' : 'true'}">
      <button type="submit">${action}</button>
    </form>
  </td>
</tr>`;
    })
    .join('\n');
  const notice =
    done && focus !== undefined
      ? `<p role="status" class="notice">${
          done === 'allowed'
            ? `Access allowed for tenant ${focus}: the application can now read its data.`
            : `Tenant ${focus} disconnected: the application's calls are refused until access is allowed again.`
        }</p>`
      : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>API Application Access (ServiceTitan sandbox)</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 2rem; color: #1d2430; max-width: 56rem; }
  .crumbs { color: #5b6473; }
  table { border-collapse: collapse; width: 100%; margin-top: 1rem; }
  th, td { text-align: left; padding: 0.5rem 0.8rem; border-top: 1px solid #dde1e7; }
  button { font: inherit; padding: 0.35rem 0.8rem; border-radius: 6px; border: 1px solid #1f5fbf;
    background: #1f5fbf; color: #fff; cursor: pointer; }
  .notice { background: #e3f4e9; color: #17663a; padding: 0.5rem 0.8rem; border-radius: 6px; }
  .sandbox { background: #fdf0d5; color: #7a4b00; padding: 0.5rem 0.8rem; border-radius: 6px; }
</style>
</head>
<body>
<p class="sandbox">ServiceTitan <strong>sandbox</strong>: this page simulates what a tenant administrator
sees in ServiceTitan. Nothing here touches a real ServiceTitan account.</p>
<p class="crumbs">Settings &gt; Integrations &gt; API Application Access</p>
<h1>API Application Access</h1>
<p>Applications that asked for access to your data. Allowing access lets the application read
customers (CRM), invoices (Accounting) and business units (Settings).</p>
${notice}
<table>
<thead><tr><th scope="col">Tenant ID</th><th scope="col">Environment</th><th scope="col">Status</th><th scope="col">Action</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="4">No such tenant in this sandbox.</td></tr>'}
</tbody>
</table>
${focus === undefined ? '' : `<p><a href="${APPROVALS_PATH}">Every tenant</a></p>`}
</body>
</html>
`;
}

export function registerApprovalPages(
  app: Express,
  deps: { tenants: readonly SandboxTenantInfo[]; setApproved(tenantId: number, approved: boolean): void },
): void {
  const tenantParam = (raw: unknown): number | undefined =>
    typeof raw === 'string' && /^\d{1,18}$/.test(raw) ? Number(raw) : undefined;

  app.get(APPROVALS_PATH, (req: Request, res: Response) => {
    const focus = tenantParam(req.query.tenant);
    const done =
      req.query.done === 'allowed' || req.query.done === 'disconnected' ? req.query.done : undefined;
    res
      .status(200)
      .type('html')
      .setHeader('Cache-Control', 'no-store')
      .send(page(deps.tenants, focus, done));
  });

  app.post(`${APPROVALS_PATH}/:tenant`, (req: Request, res: Response) => {
    const tenantId = tenantParam(req.params.tenant);
    const tenant = deps.tenants.find((t) => t.tenantId === tenantId);
    if (!tenant) {
      res.status(404).type('text').send(`No tenant ${req.params.tenant} in this sandbox.`);
      return;
    }
    const approved = (req.body as Record<string, unknown> | undefined)?.approved !== 'false';
    deps.setApproved(tenant.tenantId, approved);
    // Post/redirect/get: a reload does not post again.
    res.redirect(
      303,
      `${APPROVALS_PATH}?tenant=${tenant.tenantId}&done=${approved ? 'allowed' : 'disconnected'}`,
    );
  });
}
