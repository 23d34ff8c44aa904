import { expect } from 'vitest';
import {
  type Sandbox,
  type SandboxOptions,
  type SandboxStream,
  startSandbox,
} from '../../../src/sandbox/index.js';
import {
  createServiceTitanClient,
  type ServiceTitanClient,
  type ServiceTitanClientOptions,
  type StreamName,
  type TenantApi,
  type TenantCredential,
} from '../../../src/servicetitan/index.js';

/** Client stream name → sandbox stream name. */
export const sandboxStream: Record<StreamName, SandboxStream> = {
  customers: 'customers',
  customerContacts: 'contacts',
  locations: 'locations',
  invoices: 'invoices',
};

export interface Harness {
  sandbox: Sandbox;
  client: ServiceTitanClient;
  cred: TenantCredential;
  tenant: TenantApi;
  tenantId: number;
  close(): Promise<void>;
}

export const TENANT = 7_000_001;

/**
 * A small sandbox tenant (fast) with small export pages (many pages per feed) and a client
 * pointed at it; the rate limits are raised unless a test is about them.
 */
export async function startHarness(
  sandboxOptions: SandboxOptions = {},
  clientOptions: Partial<ServiceTitanClientOptions> = {},
): Promise<Harness> {
  const sandbox = await startSandbox({
    tenants: [{ tenantId: TENANT, customers: 120, invoices: 150 }],
    rateLimitPerSecond: 0,
    pageSizes: { customers: 25, contacts: 40, locations: 30, invoices: 20 },
    ...sandboxOptions,
  });
  const endpoints = { authUrl: sandbox.url, apiUrl: sandbox.url };
  const client = createServiceTitanClient({
    appKey: sandbox.appKey,
    environments: { integration: endpoints, production: endpoints },
    rateLimitPerSecond: 10_000,
    backoff: { baseMs: 10, maxMs: 100 },
    requestTimeoutMs: 10_000,
    ...clientOptions,
  });
  const info = sandbox.tenants[0]!;
  const cred: TenantCredential = {
    environment: info.environment,
    tenantId: String(info.tenantId),
    clientId: info.clientId,
    clientSecret: info.clientSecret,
  };
  return {
    sandbox,
    client,
    cred,
    tenant: client.tenant(cred),
    tenantId: info.tenantId,
    async close() {
      client.close();
      await sandbox.close();
    },
  };
}

export function groundTruthIds(sandbox: Sandbox, tenantId: number, stream: StreamName): number[] {
  return [...sandbox.groundTruth(tenantId, sandboxStream[stream])]
    .map((r) => r.id as number)
    .sort((a, b) => a - b);
}

/** Drains a page iterable: every id in arrival order, and every schema-invalid record. */
export async function drain(
  pages: AsyncIterable<{ records: { id: number }[]; invalid: unknown[] }>,
  onPage?: (index: number) => Promise<void> | void,
): Promise<{ ids: number[]; invalid: unknown[]; pages: number }> {
  const ids: number[] = [];
  const invalid: unknown[] = [];
  let count = 0;
  for await (const page of pages) {
    ids.push(...page.records.map((r) => r.id));
    invalid.push(...page.invalid);
    const index = count++;
    await onPage?.(index);
  }
  return { ids, invalid, pages: count };
}

/** Every ground-truth id exactly once: none lost, none twice, nothing extra. */
export function expectExactly(ids: number[], truth: number[]): void {
  const duplicates = ids.filter((id, i) => ids.indexOf(id) !== i);
  expect(duplicates).toEqual([]);
  expect([...ids].sort((a, b) => a - b)).toEqual(truth);
}
