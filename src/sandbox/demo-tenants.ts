/** The tenants a sandbox serves when none are given, one per scenario worth demonstrating. */
import { hashInts } from './prng.js';
import type { SandboxTenantOptions } from './types.js';

export const DEMO_TENANTS: readonly SandboxTenantOptions[] = [
  // A normal, healthy tenant.
  { tenantId: 1_000_001, customers: 2_000, invoices: 5_000 },
  // Has not approved the app yet: tokens are issued, API calls answer 403 "not approved".
  { tenantId: 1_000_002, customers: 200, invoices: 400, approved: false },
  // Has no Accounting licence: CRM works, accounting endpoints answer 403 "not licensed".
  { tenantId: 1_000_003, customers: 500, invoices: 1_000, licensed: { accounting: false } },
  // A production-environment tenant (credentials differ per environment).
  { tenantId: 1_000_004, customers: 300, invoices: 800, environment: 'production' },
];

const hex = (...values: number[]): string =>
  hashInts(...values)
    .toString(16)
    .padStart(8, '0');

export function defaultClientId(tenantId: number): string {
  return `cid.${hex(tenantId, 1)}${hex(tenantId, 2)}`;
}

export function defaultClientSecret(tenantId: number): string {
  return `cs1.${hex(tenantId, 3)}${hex(tenantId, 4)}${hex(tenantId, 5)}${hex(tenantId, 6)}`;
}

export const DEFAULT_APP_KEY = 'ak1.sandbox.0d1e2f3a4b5c6d7e8f90';
