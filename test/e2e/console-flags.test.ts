import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEvent } from '../../src/db/entities/index.js';
import { type ApiHarness, createCompany, startApiHarness } from '../integration/api/support/harness.js';
import { buildConsole, launchChromium, openPage, screenshotPath, serve, signIn } from '../support/console.js';

// The Feature flags page (issue 12) in Chromium, against the real API.
let h: ApiHarness;
let server: Awaited<ReturnType<typeof serve>>;
let browser: Browser;
let companyId: number;

beforeAll(async () => {
  buildConsole();
  h = await startApiHarness({ sandbox: { tenants: [{ tenantId: 7_900_001, customers: 5, invoices: 5 }] } });
  companyId = await createCompany(h, 'Flagged Heating');
  await createCompany(h, 'Other Plumbing');
  server = await serve(h);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await h?.close();
});

describe('feature flags page', () => {
  it('when an admin switches a stream off for one company, then the page shows what its runs will see, the global value is untouched, and the change is audited', async () => {
    const { page, errors } = await openPage(browser);
    await signIn(page, server.baseUrl, await h.token('admin'));
    await page.getByRole('link', { name: 'Feature flags' }).click();
    await page.getByRole('heading', { name: 'Feature flags' }).waitFor();
    await page.getByText('Flags for every company').waitFor();

    await page.getByLabel('Values for').selectOption({ label: 'Flagged Heating' });
    await page.getByText('Flags for Flagged Heating').waitFor();
    const row = page.getByRole('row').filter({ hasText: 'stream.invoices' });
    expect(await row.locator('td').allInnerTexts()).toEqual([
      'The invoices stream runs.',
      'On',
      '—',
      '—',
      'On',
      expect.any(String),
    ]);
    await page.getByLabel('Set stream.invoices').selectOption({ label: 'Off' });
    await row.locator('td strong', { hasText: 'Off' }).waitFor();

    const company = await h.call('get', `/api/flags?companyId=${companyId}`);
    expect(company.body.flags.find((f: { key: string }) => f.key === 'stream.invoices')).toMatchObject({
      company: false,
      effective: false,
    });
    const global = await h.call('get', '/api/flags');
    expect(global.body.flags.find((f: { key: string }) => f.key === 'stream.invoices')).toMatchObject({
      global: null,
      effective: true,
    });
    const audit = await h.orm.em.fork().find(AuditEvent, { action: 'flag.set' });
    expect(audit.map((a) => a.details)).toEqual([expect.objectContaining({ scope: `company:${companyId}` })]);

    // Back to following the global value.
    await page.getByLabel('Set stream.invoices').selectOption({ label: 'Follow the global value' });
    await row.locator('td strong', { hasText: 'On' }).waitFor();
    await page.screenshot({ path: screenshotPath('console-flags.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('when a viewer opens the page, then it says the role may not change flags', async () => {
    const { page } = await openPage(browser);
    await signIn(page, server.baseUrl, await h.token('viewer'));
    expect(await page.getByRole('link', { name: 'Feature flags' }).count()).toBe(0);
    await page.goto(`${server.baseUrl}/flags`);
    await page.getByText('Your role (viewer) may not change feature flags.').waitFor();
    await page.context().close();
  });
});
