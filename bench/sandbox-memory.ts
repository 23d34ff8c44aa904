/**
 * Memory and throughput of the sandbox under a large tenant: a child process serves a sandbox
 * with a 1,000,000-invoice tenant (rate limit off) and samples its own RSS; this process pages
 * through the whole invoice export feed with plain fetch and prints the server's peak RSS and
 * pages/s. Acceptance: peak RSS of the serving process under 200 MB.
 *
 *   npx tsx bench/sandbox-memory.ts [--invoices N] [--page-size N] [--default-heap]
 *
 * The server runs in its own process so that the client's buffers do not count against it.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startSandbox } from '../src/sandbox/index.js';
import { wholeNumber } from './options.js';

const TENANT = 9_000_001;
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

interface Ready {
  type: 'ready';
  url: string;
  appKey: string;
  clientId: string;
  clientSecret: string;
  rssAfterStart: number;
}
interface Done {
  type: 'done';
  peakRss: number;
  heapUsed: number;
}

async function serve(invoices: number, pageSize: number | undefined): Promise<void> {
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 20);
  const sandbox = await startSandbox({
    rateLimitPerSecond: 0,
    ...(pageSize ? { pageSizes: { invoices: pageSize } } : {}),
    tenants: [{ tenantId: TENANT, customers: 100_000, invoices }],
  });
  const tenant = sandbox.tenants[0]!;
  const ready: Ready = {
    type: 'ready',
    url: sandbox.url,
    appKey: sandbox.appKey,
    clientId: tenant.clientId,
    clientSecret: tenant.clientSecret,
    rssAfterStart: process.memoryUsage.rss(),
  };
  process.send?.(ready);
  process.once('message', async () => {
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    await sandbox.close();
    const done: Done = { type: 'done', peakRss, heapUsed: process.memoryUsage().heapUsed };
    process.send?.(done, () => process.disconnect());
  });
}

async function drive(invoices: number, pageSize: number | undefined, defaultHeap: boolean): Promise<void> {
  // V8 grows the young generation to its maximum (64 MB here) under a sustained allocation rate
  // whatever the live heap; capping it is the usual server knob. --default-heap measures without.
  const execArgv = defaultHeap ? process.execArgv : [...process.execArgv, '--max-semi-space-size=8'];
  const child = fork(
    fileURLToPath(import.meta.url),
    ['--serve', '--invoices', String(invoices), ...(pageSize ? ['--page-size', String(pageSize)] : [])],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv },
  );
  const next = <T>(): Promise<T> =>
    new Promise((resolve, reject) => {
      child.once('message', (message) => resolve(message as T));
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
  const ready = await next<Ready>();

  const tokenResponse = await fetch(`${ready.url}/connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: ready.clientId,
      client_secret: ready.clientSecret,
    }),
  });
  const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
  const headers = { authorization: `Bearer ${token}`, 'st-app-key': ready.appKey };

  const started = performance.now();
  let pages = 0;
  let records = 0;
  let bytes = 0;
  let from: string | undefined;
  for (;;) {
    const path = `/accounting/v2/tenant/${TENANT}/export/invoices${from ? `?from=${encodeURIComponent(from)}` : ''}`;
    const response = await fetch(`${ready.url}${path}`, { headers });
    if (response.status !== 200) throw new Error(`page ${pages + 1}: HTTP ${response.status}`);
    const text = await response.text();
    bytes += text.length;
    const body = JSON.parse(text) as { hasMore: boolean; continueFrom: string; data: unknown[] };
    pages++;
    records += body.data.length;
    if (pages % 1000 === 0) process.stderr.write(`  ${pages} pages, ${records} invoices\n`);
    if (!body.hasMore) break;
    from = body.continueFrom;
  }
  const seconds = (performance.now() - started) / 1000;
  const finished = next<Done>();
  child.send('stop');
  const done = await finished;

  const result = {
    invoices: records,
    expected: invoices,
    pages,
    seconds: Number(seconds.toFixed(1)),
    pagesPerSecond: Number((pages / seconds).toFixed(1)),
    invoicesPerSecond: Math.round(records / seconds),
    megabytesServed: Number((bytes / 1024 / 1024).toFixed(1)),
    serverRssAfterStart: mb(ready.rssAfterStart),
    serverPeakRss: mb(done.peakRss),
    serverFlags: execArgv.filter((flag) => flag.startsWith('--max')).join(' ') || '(defaults)',
    underLimit: done.peakRss < 200 * 1024 * 1024,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  if (records !== invoices || !result.underLimit) process.exitCode = 1;
}

const { values } = parseArgs({
  options: {
    serve: { type: 'boolean', default: false },
    invoices: { type: 'string' },
    'page-size': { type: 'string' },
    'default-heap': { type: 'boolean', default: false },
  },
});
const invoiceCount = wholeNumber('invoices', values.invoices ?? '1000000', 1);
const pageSizeOption =
  values['page-size'] === undefined ? undefined : wholeNumber('page-size', values['page-size'], 1);
if (values.serve) await serve(invoiceCount, pageSizeOption);
else await drive(invoiceCount, pageSizeOption, values['default-heap']);
