/**
 * Throughput of the ServiceTitan client against the sandbox.
 *
 *   npm run bench:client            (tsx bench/client.ts)
 *
 * Scenarios: no latency with the server's limit off (the client's own ceiling), no latency under
 * the 60 req/s limit, and 300 ms latency under the 60 req/s limit. Under latency one feed is
 * latency-bound (one request in flight), so the limited scenarios read every stream through
 * parallel modifiedOn windows of the list endpoints: many requests in flight for one tenant, all
 * sharing that tenant's limiter, so the limiter and not the latency is the bottleneck. Export
 * feeds (4 streams at once) are measured too, for comparison. The sandbox runs in a child
 * process so that its CPU work does not stall the client's timers.
 */
import type { SandboxOptions } from '../src/sandbox/index.js';
import {
  createServiceTitanClient,
  type StreamName,
  streamNames,
  type TenantApi,
} from '../src/servicetitan/index.js';
import { startSandboxProcess } from './sandbox-process.js';

const TENANT = 9_000_001;
const LIMIT = 60;
/** Export scenarios: a mid-sized tenant (the export feed costs the sandbox little per page). */
const EXPORT_TENANT = {
  customers: Number(process.env.BENCH_CUSTOMERS ?? 20_000),
  invoices: Number(process.env.BENCH_INVOICES ?? 20_000),
};
/**
 * List scenarios: a smaller tenant, because the sandbox answers a filtered list by scanning the
 * whole stream (O(records) per request, in this same process); with 20k customers the sandbox,
 * not the client or the limiter, would be the bottleneck.
 */
const LIST_TENANT = {
  customers: Number(process.env.BENCH_LIST_CUSTOMERS ?? 1_000),
  invoices: Number(process.env.BENCH_LIST_INVOICES ?? 2_000),
};
const WINDOWS_PER_STREAM = Number(process.env.BENCH_WINDOWS ?? 16);
const LIST_PAGE_SIZE = Number(process.env.BENCH_PAGE_SIZE ?? 25);

interface Result {
  scenario: string;
  seconds: number;
  requests: number;
  pages: number;
  records: number;
  rateLimited: number;
}

async function run(
  scenario: string,
  sandboxOptions: SandboxOptions,
  clientLimit: number,
  work: (tenant: TenantApi) => Promise<{ pages: number; records: number }>,
): Promise<Result> {
  const size = work === exportAll ? EXPORT_TENANT : LIST_TENANT;
  const sandbox = await startSandboxProcess({ tenants: [{ tenantId: TENANT, ...size }], ...sandboxOptions });
  const endpoints = { authUrl: sandbox.url, apiUrl: sandbox.url };
  const client = createServiceTitanClient({
    appKey: sandbox.appKey,
    environments: { integration: endpoints, production: endpoints },
    rateLimitPerSecond: clientLimit,
  });
  const info = sandbox.tenants[0]!;
  const tenant = client.tenant({
    environment: info.environment,
    tenantId: String(info.tenantId),
    clientId: info.clientId,
    clientSecret: info.clientSecret,
  });
  // Warm the token so that its request is not in the measurement.
  await tenant.testConnection();
  const before = client.stats().apiRequests;
  const started = performance.now();
  const { pages, records } = await work(tenant);
  const seconds = (performance.now() - started) / 1000;
  const result = {
    scenario,
    seconds,
    requests: client.stats().apiRequests - before,
    pages,
    records,
    rateLimited: (await sandbox.stats()).rateLimited,
  };
  client.close();
  await sandbox.close();
  return result;
}

/** modifiedOn windows covering the sandbox's history (3 years before 2025-01-01) and beyond. */
function windows(count: number): { modifiedOnOrAfter?: string; modifiedBefore?: string }[] {
  const from = Date.parse('2021-12-01T00:00:00Z');
  const to = Date.parse('2025-01-01T00:00:00Z');
  const step = (to - from) / count;
  return Array.from({ length: count }, (_, i) => ({
    modifiedOnOrAfter: i === 0 ? undefined : new Date(from + i * step).toISOString(),
    modifiedBefore: i === count - 1 ? undefined : new Date(from + (i + 1) * step).toISOString(),
  }));
}

async function listInWindows(tenant: TenantApi) {
  let pages = 0;
  let records = 0;
  const jobs = streamNames.flatMap((stream: StreamName) =>
    windows(WINDOWS_PER_STREAM).map(async (window) => {
      for await (const page of tenant.listPages(stream, { ...window, pageSize: LIST_PAGE_SIZE })) {
        pages++;
        records += page.records.length + page.invalid.length;
      }
    }),
  );
  await Promise.all(jobs);
  return { pages, records };
}

async function exportAll(tenant: TenantApi) {
  let pages = 0;
  let records = 0;
  await Promise.all(
    streamNames.map(async (stream) => {
      for await (const page of tenant.exportPages(stream)) {
        pages++;
        records += page.records.length + page.invalid.length;
      }
    }),
  );
  return { pages, records };
}

const fmt = (n: number, digits = 1) => n.toFixed(digits).padStart(9);

function print(r: Result): void {
  const reqPerSec = r.requests / r.seconds;
  process.stdout.write(
    `${r.scenario.padEnd(58)}${fmt(r.seconds)} s${fmt(r.pages / r.seconds)} pages/s${fmt(r.records / r.seconds, 0)} rec/s` +
      `${fmt(reqPerSec)} req/s${fmt((100 * reqPerSec) / LIMIT, 0)}% of ${LIMIT}   429s: ${r.rateLimited}\n`,
  );
}

const describeTenant = (t: { customers: number; invoices: number }) =>
  `${t.customers} customers/locations, ${2 * t.customers} contacts, ${t.invoices} invoices`;
process.stdout.write(
  `lists:  ${describeTenant(LIST_TENANT)}; ${streamNames.length} streams × ${WINDOWS_PER_STREAM} modifiedOn windows in parallel, pageSize ${LIST_PAGE_SIZE}\n` +
    `export: ${describeTenant(EXPORT_TENANT)}; 4 feeds in parallel, server-chosen pages (500; invoices 200)\n\n`,
);
const results: Result[] = [];
const scenarios: [
  string,
  SandboxOptions,
  number,
  (t: TenantApi) => Promise<{ pages: number; records: number }>,
][] = [
  [
    'lists, 0 ms latency, no server limit (client ceiling)',
    { rateLimitPerSecond: 0 },
    100_000,
    listInWindows,
  ],
  ['lists, 0 ms latency, 60 req/s limit', { rateLimitPerSecond: LIMIT }, LIMIT, listInWindows],
  [
    'lists, 300 ms latency, 60 req/s limit',
    { rateLimitPerSecond: LIMIT, latencyMs: 300 },
    LIMIT,
    listInWindows,
  ],
  ['export feeds (4 streams), 0 ms latency, 60 req/s limit', { rateLimitPerSecond: LIMIT }, LIMIT, exportAll],
  [
    'export feeds (4 streams), 300 ms latency, 60 req/s limit',
    { rateLimitPerSecond: LIMIT, latencyMs: 300 },
    LIMIT,
    exportAll,
  ],
];
const only = process.env.BENCH_ONLY;
for (const [name, sandboxOptions, clientLimit, work] of scenarios) {
  if (only && !name.includes(only)) continue;
  const result = await run(name, sandboxOptions, clientLimit, work);
  results.push(result);
  print(result);
}
