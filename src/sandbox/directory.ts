/**
 * What the admin API tells people trying the product on its embedded sandbox: where it is, its
 * approval page and its demo tenants with the credentials that connect them. These client IDs
 * and secrets are the simulator's own, derived from the public code in demo-tenants.ts; they
 * open nothing but this local sandbox and are not anyone's secrets.
 */
import { approvalsUrl } from './approvals.js';
import type { Sandbox, SandboxTenantInfo } from './types.js';

export interface SandboxDirectoryTenant {
  tenantId: string;
  environment: 'integration' | 'production';
  clientId: string;
  clientSecret: string;
  approved: boolean;
  /** What connecting this tenant shows, in a sentence. */
  demonstrates: string;
  /** Its page on the sandbox's "API Application Access" screen. */
  approvalUrl: string;
}

export interface SandboxDirectory {
  url: string;
  approvalsUrl: string;
  /** Read at each call: approvals change while the product runs. */
  tenants(): SandboxDirectoryTenant[];
}

function demonstrates(t: SandboxTenantInfo, customers: number, invoices: number): string {
  const size = `${customers.toLocaleString('en-US')} customers and ${invoices.toLocaleString('en-US')} invoices`;
  if (!t.approved)
    return `Has not approved the app yet: the connection test answers "awaiting approval" until you allow access on the sandbox's approval page (${size}).`;
  if (!t.licensed.accounting)
    return `No Accounting licence: customers sync, invoices are reported as not licensed and skipped (${size}).`;
  if (!t.licensed.crm) return `No CRM licence: invoices sync, customers are skipped (${size}).`;
  if (t.environment === 'production') return `A Production-environment tenant (${size}).`;
  return `A healthy tenant that connects at once (${size}).`;
}

export function sandboxDirectory(sandbox: Sandbox): SandboxDirectory {
  return {
    url: sandbox.url,
    approvalsUrl: approvalsUrl(sandbox.url),
    tenants: () =>
      sandbox.tenants.map((t) => ({
        tenantId: String(t.tenantId),
        environment: t.environment,
        clientId: t.clientId,
        clientSecret: t.clientSecret,
        approved: t.approved,
        demonstrates: demonstrates(
          t,
          sandbox.countRecords(t.tenantId, 'customers'),
          sandbox.countRecords(t.tenantId, 'invoices'),
        ),
        approvalUrl: approvalsUrl(sandbox.url, t.tenantId),
      })),
  };
}
