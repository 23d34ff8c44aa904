import type { Browser } from 'playwright-core';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiHarness,
  createCompany,
  createCredential,
  startApiHarness,
} from '../integration/api/support/harness.js';
import {
  buildConsole,
  expectNothingExposed,
  launchChromium,
  openPage,
  screenshotPath,
  serve,
} from '../support/console.js';

const SCREENSHOT = screenshotPath('console-dashboard.png');

let h: ApiHarness;
let server: Awaited<ReturnType<typeof serve>>;
let baseUrl: string;
let browser: Browser;
let companyId: number;
let tenantId: string;

beforeAll(async () => {
  buildConsole();

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

  server = await serve(h);
  baseUrl = server.baseUrl;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await h?.close();
});

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

    const { page, errors } = await openPage(browser);
    await page.goto(`${baseUrl}/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await expect(page.getByLabel('API token').isVisible()).resolves.toBe(true);
    await expect(page.getByRole('button', { name: 'Sign in' }).isVisible()).resolves.toBe(true);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('when an admin signs in with a token, then the dashboard lists the credential, no token is in web storage, and Sign out ends the session', async () => {
    const { page, errors } = await openPage(browser);
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

    await expectNothingExposed(page, [token]);
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'stsync_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' });

    await page.screenshot({ path: SCREENSHOT, fullPage: true });

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
