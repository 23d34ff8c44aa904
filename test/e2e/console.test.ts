import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, chromium, type Page } from 'playwright-core';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiHarness,
  createCompany,
  createCredential,
  startApiHarness,
} from '../integration/api/support/harness.js';

// The web console in Debian's Chromium (`.ci/run` installs it when missing), against the real API
// app on a free port with a real PostgreSQL, Temporal worker and sandbox. Scripts run in the page
// are strings: this file is type-checked without the DOM library.
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = new URL('../../docs/console-dashboard.png', import.meta.url);

let h: ApiHarness;
let server: Server;
let baseUrl: string;
let browser: Browser;
let companyId: number;
let tenantId: string;

beforeAll(async () => {
  // Cached: a no-op when console/dist matches its sources.
  const built = spawnSync(process.execPath, ['scripts/build-console.mjs'], { stdio: 'inherit' });
  expect(built.status, 'the console builds').toBe(0);

  h = await startApiHarness({
    worker: true,
    sandbox: {
      pageSizes: { customers: 100, contacts: 100, invoices: 100 },
      tenants: [
        { tenantId: 1_000_001, customers: 120, invoices: 300 },
        { tenantId: 1_000_002, customers: 10, invoices: 10, approved: false },
        { tenantId: 1_000_004, customers: 10, invoices: 10, environment: 'production' },
      ],
    },
  });
  // Three credentials in three states: connected, not yet approved by the tenant, never tested.
  companyId = await createCompany(h, 'Acme Heating');
  const birch = await createCompany(h, 'Birch Plumbing');
  tenantId = '1000001';
  let synced = 0;
  for (const [company, tenant, test] of [
    [companyId, 1_000_001, true],
    [birch, 1_000_002, true],
    [companyId, 1_000_004, false],
  ] as const) {
    const created = await createCredential(h, company, tenant);
    expect(created.status).toBe(201);
    if (test) await h.call('post', `/api/credentials/${created.body.id}/test`);
    if (tenant === 1_000_001) synced = created.body.id;
  }
  // One finished run, so the dashboard has a last run, records and data freshness to show.
  const started = await h.call('post', `/api/credentials/${synced}/syncs`, { body: { mode: 'full' } });
  expect(started.status).toBe(202);
  for (const until = Date.now() + 60_000; ; ) {
    const run = await h.call('get', `/api/syncs/${started.body.id}`, { exempt: true });
    if (run.body.status === 'completed') break;
    if (!['pending', 'running'].includes(run.body.status) || Date.now() > until)
      throw new Error(`the seed sync ended ${run.body.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  server = h.app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`).toBe(true);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await h?.close();
});

/** A fresh page that fails the test on any console error (a CSP refusal is one) or page error. */
async function openPage(): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    // A 401 from GET /api/session is the console asking whether it is signed in.
    if (m.type() === 'error' && !/status of 401/.test(m.text())) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, errors };
}

describe('web console', () => {
  it('when / or a deep link is opened, then the built console answers, under a CSP its assets satisfy; /api and the probes stay the API', async () => {
    const index = await request(h.app).get('/').set('accept', 'text/html');
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toMatch(/text\/html/);
    expect(index.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(index.text).not.toMatch(/<script>(?!\s*<\/script>)/);
    const deep = await request(h.app).get('/credentials/42').set('accept', 'text/html');
    expect(deep.status).toBe(200);
    expect(deep.text).toBe(index.text);
    const asset = index.text.match(/src="(\/assets\/[^"]+\.js)"/)?.[1];
    expect(asset).toBeDefined();
    const js = await request(h.app).get(asset!);
    expect(js.status).toBe(200);
    expect(js.headers['cache-control']).toMatch(/immutable/);

    for (const path of ['/api/nope', '/healthz/x', '/readyz/x', '/signin']) {
      const res = await request(h.app).get(path).set('accept', 'text/html');
      expect(res.text, path).not.toBe(index.text);
    }
    expect((await request(h.app).get('/healthz')).body).toMatchObject({ status: 'ok' });

    const { page, errors } = await openPage();
    await page.goto(`${baseUrl}/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await expect(page.getByLabel('API token').isVisible()).resolves.toBe(true);
    await expect(page.getByRole('button', { name: 'Sign in' }).isVisible()).resolves.toBe(true);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('when an admin signs in with a token, then the dashboard lists the credential, no token is in web storage, and Sign out ends the session', async () => {
    const { page, errors } = await openPage();
    await page.goto(`${baseUrl}/`);

    // A bad token: a clear error, still on the sign-in page.
    await page.getByLabel('API token').fill('not-a-real-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'was not accepted' }).waitFor();

    const token = await h.token('admin');
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();

    const row = page.getByRole('row').filter({ hasText: tenantId });
    await row.waitFor();
    const cells = await row.locator('th, td').allInnerTexts();
    expect(cells.slice(0, 4)).toEqual(['Acme Heating', 'Integration', tenantId, 'Connected']);
    expect(cells[4]).toMatch(/^Completed\n.*ago\n\d[\d,]* records$/);
    expect(cells[6]).toMatch(/ago$/);
    const texts = await page.locator('tbody tr').allInnerTexts();
    expect(texts).toHaveLength(3);
    expect(texts.some((t) => t.includes('Birch Plumbing') && t.includes('Awaiting approval'))).toBe(true);
    expect(texts.some((t) => t.includes('Production') && t.includes('Not tested yet'))).toBe(true);

    // Filters: by company, then a status no row has; All brings every row back.
    await page.getByLabel('Company').selectOption({ label: 'Birch Plumbing' });
    await page.getByText('1 of 3 credentials match the filters').waitFor();
    await page.getByLabel('Company').selectOption('');
    await page.getByLabel('Status').selectOption('disabled');
    await page.getByText('No credential matches the filters.').waitFor();
    await page.getByLabel('Status').selectOption('');
    await page.getByText('3 credentials', { exact: true }).waitFor();

    const storage = await page.evaluate<string>(
      'JSON.stringify([{ ...localStorage }, { ...sessionStorage }])',
    );
    expect(storage).toBe('[{},{}]');
    expect(storage).not.toContain(token);
    expect(await page.content()).not.toContain(token);
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'stsync_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(await page.evaluate<string>('document.cookie')).not.toContain('stsync_session');

    await page.screenshot({ path: SCREENSHOT.pathname, fullPage: true });

    // A reload keeps the session (the cookie) and fetches the CSRF token again.
    await page.reload();
    await row.waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    const after = await page.evaluate<number>("fetch('/api/dashboard').then((r) => r.status)");
    expect(after).toBe(401);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
