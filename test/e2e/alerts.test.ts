import type { Browser } from 'playwright-core';
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

const SCREENSHOT = screenshotPath('console-dashboard-auto-paused.png');
const TENANT = 7_200_001;

let h: ApiHarness;
let server: Awaited<ReturnType<typeof serve>>;
let browser: Browser;

beforeAll(async () => {
  buildConsole();
  h = await startApiHarness({
    worker: true,
    sandbox: { tenants: [{ tenantId: TENANT, customers: 20, invoices: 20 }] },
  });
  server = await serve(h);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await h?.close();
});

/** Starts a run and waits for it to end; its final status. */
async function runToEnd(credentialId: number): Promise<string> {
  const started = await h.call('post', `/api/credentials/${credentialId}/syncs`, { body: {} });
  expect(started.status).toBe(202);
  for (const until = Date.now() + 60_000; ; ) {
    const run = await h.call('get', `/api/syncs/${started.body.id}`, { exempt: true });
    if (!['pending', 'running', 'paused'].includes(run.body.status)) return run.body.status as string;
    if (Date.now() > until) throw new Error('the run did not end');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('dashboard: an auto-paused schedule', () => {
  it('when a schedule was auto-paused after failed runs, then the Next run cell says why in words', async () => {
    const companyId = await createCompany(h, 'Acme Paused');
    const created = await createCredential(h, companyId, TENANT, { test: true });
    expect(created.body.status).toBe('connected');
    const credentialId = created.body.id as number;
    const put = await h.call('put', `/api/credentials/${credentialId}/schedule`, {
      body: { frequency: 'daily', hour: 4, minute: 0 },
    });
    expect(put.status).toBe(200);
    h.watched.add(h.sandbox.rotateClientSecret(TENANT));
    for (let i = 0; i < 3; i++) expect(await runToEnd(credentialId)).toBe('failed');

    const { page, errors } = await openPage(browser);
    const token = await h.token('viewer');
    await page.goto(`${server.baseUrl}/`);
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    const row = page.getByRole('row').filter({ hasText: String(TENANT) });
    await row.waitFor();
    const headers = await page.locator('thead th').allInnerTexts();
    const cells = await row.locator('th, td').allInnerTexts();
    expect(cells[headers.indexOf('Next run')]).toBe('Paused after 3 failed runs in a row');
    expect(cells[headers.indexOf('Status')]).toMatch(/invalid/i);
    expect(cells[headers.indexOf('Failures in a row')]).toBe('3');
    await expectNothingExposed(page, [token, ...h.watched]);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
