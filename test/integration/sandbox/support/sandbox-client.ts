/** Plain-fetch helpers for exercising the sandbox over HTTP in tests. */
import type { Sandbox, SandboxTenantInfo } from '../../../../src/sandbox/index.js';

export async function requestToken(
  sandbox: Sandbox,
  tenant: Pick<SandboxTenantInfo, 'clientId' | 'clientSecret'>,
  grantType = 'client_credentials',
): Promise<Response> {
  return fetch(`${sandbox.url}/connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: grantType,
      client_id: tenant.clientId,
      client_secret: tenant.clientSecret,
    }),
  });
}

export async function tokenFor(sandbox: Sandbox, tenantId: number): Promise<string> {
  const tenant = sandbox.tenants.find((t) => t.tenantId === tenantId);
  if (!tenant) throw new Error(`no tenant ${tenantId}`);
  const response = await requestToken(sandbox, tenant);
  if (response.status !== 200) throw new Error(`token: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

export function apiGet(
  sandbox: Sandbox,
  path: string,
  token: string,
  appKey = sandbox.appKey,
): Promise<Response> {
  return fetch(`${sandbox.url}${path}`, {
    headers: { authorization: `Bearer ${token}`, 'st-app-key': appKey },
  });
}

export interface ExportBody {
  hasMore: boolean;
  continueFrom: string;
  data: Record<string, unknown>[];
}

/** Follows an export feed to hasMore=false; returns records, page bodies and the last token. */
export async function readExport(
  sandbox: Sandbox,
  path: string,
  token: string,
  from?: string,
): Promise<{ records: Record<string, unknown>[]; pages: ExportBody[]; continueFrom: string }> {
  const records: Record<string, unknown>[] = [];
  const pages: ExportBody[] = [];
  let cursor = from;
  for (let guard = 0; guard < 10_000; guard++) {
    const response = await apiGet(
      sandbox,
      cursor === undefined ? path : `${path}?from=${encodeURIComponent(cursor)}`,
      token,
    );
    if (response.status !== 200) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    const body = (await response.json()) as ExportBody;
    pages.push(body);
    records.push(...body.data);
    cursor = body.continueFrom;
    if (!body.hasMore) return { records, pages, continueFrom: body.continueFrom };
  }
  throw new Error('export feed did not end');
}

export const byId = (records: Iterable<Record<string, unknown>>): Map<number, Record<string, unknown>> =>
  new Map([...records].map((r) => [r.id as number, r]));
