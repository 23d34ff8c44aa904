import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN,
  type ApiHarness,
  createCompany,
  createCredential,
  startApiHarness,
} from './support/harness.js';

const TENANT = 4_813_001;
const BIG = 4_813_002;
const OVER = 4_813_003;
const LIMIT = 52 * 1024 * 1024;
const BOUNDARY = 'stsync-test-boundary-7d41';

/** A multipart/form-data body of one file part, streamed from `lines` (never built in memory). */
async function* multipart(lines: Iterable<string> | AsyncIterable<string>, filename: string) {
  yield `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: text/csv\r\n\r\n`;
  let chunk = '';
  for await (const line of lines) {
    chunk += line;
    if (chunk.length >= 64 * 1024) {
      yield chunk;
      chunk = '';
    }
  }
  yield `${chunk}\r\n--${BOUNDARY}--\r\n`;
}

/** About `bytes` of invoice report rows, generated as they are sent. */
function* generatedInvoices(bytes: number) {
  const header = 'Invoice ID,Invoice #,Customer Name,Total,Modified On\r\n';
  yield header;
  let sent = header.length;
  const padding = 'x'.repeat(140);
  for (let i = 1; sent < bytes; i++) {
    const line = `${i},INV-${i},"Customer ${i} ${padding}",${(i % 9973) / 100},2026-01-01T00:00:00Z\r\n`;
    sent += line.length;
    yield line;
  }
}

describe('POST /api/companies/:id/imports', () => {
  let h: ApiHarness;
  let server: Server;
  let base: string;
  beforeAll(async () => {
    h = await startApiHarness({
      api: { importMaxBytes: LIMIT },
      sandbox: {
        tenants: [
          { tenantId: TENANT, customers: 40, invoices: 60, environment: 'production' },
          { tenantId: BIG, customers: 5, invoices: 5, environment: 'production' },
          { tenantId: OVER, customers: 5, invoices: 5, environment: 'production' },
        ],
      },
    });
    server = h.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 120_000);
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await h?.close();
  });

  const sql = <T>(text: string, params: unknown[] = []) =>
    h.orm.em.getConnection().execute<T[]>(text, params);
  /**
   * Streams the body with node:http and pipeline (backpressure all the way: fetch with
   * Readable.toWeb would read the whole generator ahead, which is the memory this test measures).
   */
  const upload = (companyId: number, query: string, body: AsyncIterable<string>) =>
    new Promise<{ status: number; json: () => Promise<unknown> }>((resolve, reject) => {
      const req = http.request(`${base}/api/companies/${companyId}/imports?${query}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${ADMIN_TOKEN}`,
          'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
        },
      });
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            json: async () => JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown,
          }),
        );
      });
      req.once('error', reject);
      // A refused upload may be answered (and the socket closed) before it is all sent.
      pipeline(Readable.from(body), req).catch(() => {});
    });

  async function company(tenant: number) {
    const companyId = await createCompany(h, `Imports ${tenant}`);
    expect((await createCredential(h, companyId, tenant)).status).toBe(201);
    return companyId;
  }

  it('when a report export is uploaded, then its rows are imported and the answer says what was written', async () => {
    const companyId = await company(TENANT);
    const res = await upload(
      companyId,
      'kind=customers&environment=production',
      multipart(h.sandbox.reportExport(TENANT, 'customers'), 'customers.csv'),
    );
    expect(res.status).toBe(201);
    const body = (await res.json()) as { syncRunId: number; rows: number; upserted: number; status: string };
    expect(body).toMatchObject({ status: 'completed', rows: 40, upserted: 40 });
    const runs = await sql<{ trigger: string; source: string }>(
      `select trigger, source from servicetitan_sync_runs where id = ?`,
      [body.syncRunId],
    );
    expect(runs).toEqual([{ trigger: 'import', source: 'report:customers customers.csv' }]);
    const view = await h.call('get', `/api/syncs/${body.syncRunId}`);
    expect(view.body).toMatchObject({
      trigger: 'import',
      source: 'report:customers customers.csv',
      status: 'completed',
    });
    // The sandbox serves the same export for download.
    const download = await fetch(`${h.sandbox.url}/sandbox/reports/${TENANT}/customers.csv`);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(await download.text()).toBe([...h.sandbox.reportExport(TENANT, 'customers')].join(''));
    const audit = await sql<{ n: string }>(
      `select count(*) as n from audit_events where action = 'import.create'`,
    );
    expect(Number(audit[0]!.n)).toBeGreaterThan(0);

    const refused = await upload(
      companyId,
      'kind=customers',
      multipart(['Customer ID,Shoe Size,Modified On\r\n1,9,2026-01-01\r\n'], 'odd.csv'),
    );
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { message: string }).message).toMatch(/unknown column "Shoe Size"/);
  }, 60_000);

  it('when a 50 MB report streams in, then it is imported with memory far below its size', async () => {
    const companyId = await company(BIG);
    // The live heap is read after full collections (rss alone mostly shows how far V8 let its
    // heap grow before collecting: it is logged, and bounded loosely).
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const start = process.memoryUsage();
    let peakRss = start.rss;
    let peakLive = start.heapUsed;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      gc();
      peakLive = Math.max(peakLive, process.memoryUsage().heapUsed);
    }, 250);
    try {
      const res = await upload(
        companyId,
        'kind=invoices',
        multipart(generatedInvoices(50 * 1024 * 1024), 'big.csv'),
      );
      expect(res.status).toBe(201);
      const body = (await res.json()) as { rows: number; upserted: number; skipped: number };
      expect(body.skipped).toBe(0);
      expect(body.rows).toBeGreaterThan(250_000);
      expect(body.upserted).toBe(body.rows);
    } finally {
      clearInterval(sampler);
    }
    const mb = (n: number) => n / 1024 / 1024;
    const live = mb(peakLive - start.heapUsed);
    const rss = mb(peakRss - start.rss);
    process.stdout.write(
      `50 MB import: live heap growth ${live.toFixed(1)} MB, rss growth ${rss.toFixed(1)} MB\n`,
    );
    // Holding the file would take over 100 MB of heap (UTF-16 strings, plus the rows made of them).
    expect(live).toBeLessThan(15);
    expect(rss).toBeLessThan(150);
  }, 600_000);

  it('when a report streams in past the limit, then it is refused with 413 and nothing is written', async () => {
    const companyId = await company(OVER);
    const res = await upload(
      companyId,
      'kind=invoices',
      multipart(generatedInvoices(LIMIT + 1024 * 1024), 'over.csv'),
    );
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: string }).error).toBe('payload_too_large');
    // Thousands of rows were merged before the limit was reached: the rollback took them all.
    const rows = await sql<{ n: string }>(`select count(*) as n from invoices_stream where company_id = ?`, [
      companyId,
    ]);
    expect(Number(rows[0]!.n)).toBe(0);
    const runs = await sql<{ status: string; counts: object }>(
      `select r.status, r.counts from servicetitan_sync_runs r join servicetitan_credentials c on c.id = r.credential_id
        where c.company_id = ?`,
      [companyId],
    );
    expect(runs).toEqual([{ status: 'failed', counts: {} }]);
  }, 600_000);
});
