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
  signIn,
} from '../support/console.js';

const UNAPPROVED = 1_000_002;
const NO_ACCOUNTING = 1_000_003;

let h: ApiHarness;
let server: Awaited<ReturnType<typeof serve>>;
let browser: Browser;

beforeAll(async () => {
  buildConsole();
  h = await startApiHarness({
    worker: true,
    exposeSandbox: true,
    sandbox: {
      pageSizes: { customers: 50, contacts: 50, invoices: 50 },
      tenants: [
        { tenantId: 1_000_001, customers: 40, invoices: 60 },
        { tenantId: UNAPPROVED, customers: 30, invoices: 45, approved: false },
        { tenantId: NO_ACCOUNTING, customers: 10, invoices: 10, licensed: { accounting: false } },
      ],
    },
  });
  server = await serve(h);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await h?.close();
});

describe('console: Connect a tenant', () => {
  it('when an admin connects a not-yet-approved sandbox tenant for a new company, then a wrong secret is explained at its field, the guidance shows, approving in the sandbox connects it by itself, and the schedule and first sync follow', async () => {
    const { page, errors } = await openPage(browser);
    const secret = h.sandbox.tenants.find((t) => t.tenantId === UNAPPROVED)!.clientSecret;
    const wrong = 'not-the-secret-0123456789';
    // Every request that carries the secret: only the one that saves the credential may.
    const carrying: string[] = [];
    page.on('request', (r) => {
      if (r.postData()?.includes(secret) || r.url().includes(secret))
        carrying.push(`${r.method()} ${r.url()}`);
    });
    await signIn(page, server.baseUrl, await h.token('admin'));

    // From the dashboard's button to the wizard; a new company with its time zone.
    await page.getByRole('link', { name: 'Connect a tenant' }).click();
    await page.getByRole('heading', { name: 'Connect a tenant' }).waitFor();
    await page.getByRole('radio', { name: 'A new company' }).check();
    await page.getByLabel('Company name').fill('Wizard Plumbing');
    await page.getByLabel('Time zone').selectOption('America/Denver');
    await page.getByRole('button', { name: 'Continue' }).click();

    // The sandbox box fills the form; a wrong secret first.
    await page.getByRole('heading', { name: 'Try it with the sandbox' }).waitFor();
    // Focus follows to the new step's heading.
    expect(await page.evaluate<string>('document.activeElement.textContent')).toBe(
      'The tenant’s ServiceTitan credentials',
    );
    await page.getByRole('button', { name: `Use tenant ${UNAPPROVED} (Integration)` }).click();
    await expect(page.getByLabel('Tenant ID').inputValue()).resolves.toBe(String(UNAPPROVED));
    const secretField = page.getByLabel('Client secret');
    await expect(secretField.getAttribute('type')).resolves.toBe('password');
    await secretField.fill(wrong);
    await page.getByRole('button', { name: 'Test connection' }).click();
    const refused = page.getByText('ServiceTitan refused this client ID and secret');
    await refused.waitFor();
    await expect(secretField.getAttribute('aria-invalid')).resolves.toBe('true');
    const describedBy = (await secretField.getAttribute('aria-describedby'))?.split(' ') ?? [];
    const errorId = await refused.getAttribute('id');
    expect(describedBy).toContain(errorId);
    // Nothing was saved (the company was: it is reused on the next try).
    expect(await h.count('servicetitan_credentials')).toBe(0);
    expect(await h.count('companies')).toBe(1);

    // Show/hide, then the right secret: awaiting approval, with the guidance.
    await page.getByRole('button', { name: `Use tenant ${UNAPPROVED} (Integration)` }).click();
    await page.getByRole('button', { name: 'Show the client secret' }).click();
    await expect(secretField.getAttribute('type')).resolves.toBe('text');
    await page.getByRole('button', { name: 'Hide the client secret' }).click();
    await expect(secretField.getAttribute('type')).resolves.toBe('password');
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByRole('heading', { name: 'Waiting for the client to approve the application' }).waitFor();
    await page.getByText('Awaiting approval', { exact: true }).waitFor();
    await page.getByText('Settings > Integrations > API Application Access').first().waitFor();
    await page.getByText(/Checking again in \d+ s/).waitFor();
    const message = await page.getByLabel('Message for the client’s administrator').inputValue();
    expect(message).toContain(`tenant ID ${UNAPPROVED}`);
    expect(message).toContain('Allow Access');
    expect(message).not.toContain(secret);
    const summary = await page.locator('.wizard-summary').textContent();
    expect(summary).toMatch(
      /Wizard Plumbing \(America\/Denver\) · Tenant 1000002 · Integration · Client ID \*{4}\S{4}/,
    );
    expect(await page.getByLabel('Client secret').count()).toBe(0);
    await expectNothingExposed(page, [secret, wrong]);
    await page.screenshot({ path: screenshotPath('console-wizard.png'), fullPage: true });

    // The client's administrator approves, on the sandbox's API Application Access page.
    const [approvals] = await Promise.all([
      page.context().waitForEvent('page'),
      page.getByRole('link', { name: /API Application Access page/ }).click(),
    ]);
    await approvals.getByRole('button', { name: 'Allow Access' }).click();
    await approvals.getByText(`Access allowed for tenant ${UNAPPROVED}`).waitFor();
    await approvals.close();

    // The automatic re-check (every 10 s) finds it connected, without "Test again".
    await page.getByText('Connected', { exact: true }).waitFor({ timeout: 30_000 });
    const streams = await page.locator('table tbody tr').allInnerTexts();
    expect(streams.some((r) => /^Customers\tCRM\tReadable$/.test(r))).toBe(true);
    expect(streams.some((r) => /^Invoices\tAccounting\tReadable$/.test(r))).toBe(true);
    await page.getByRole('button', { name: 'Continue to the schedule' }).click();

    // Weekly by default, Monday 03:00 in the company's zone, with the next five times.
    await expect(page.getByLabel('Frequency').inputValue()).resolves.toBe('weekly');
    const times = page.locator('.next-runs li');
    await times.nth(4).waitFor();
    for (const t of await times.allInnerTexts()) expect(t).toMatch(/^Mon, .* 3:00\sAM MST$/);
    await page.getByText(/15 min\s+later/).waitFor();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Schedule saved' }).waitFor();
    const credentialId = (await h.call('get', '/api/credentials')).body.items[0].id as number;
    const schedule = await h.call('get', `/api/credentials/${credentialId}/schedule`);
    expect(schedule.body.config).toMatchObject({ frequency: 'weekly', dayOfWeek: 1, hour: 3, minute: 0 });
    expect(schedule.body.timeZone).toBe('America/Denver');

    // Sync now, watched live to the end.
    await page.getByRole('button', { name: 'Sync now' }).click();
    const done = page.getByText(/First sync finished: [\d,]+ records saved/);
    await done.waitFor({ timeout: 90_000 });
    const rows = await page.locator('.run-progress tbody tr').allInnerTexts();
    expect(rows.find((r) => r.startsWith('Customers'))).toMatch(/\t30\t30\t0$/);
    expect(rows.find((r) => r.startsWith('Invoices'))).toMatch(/\t45\t45\t0$/);
    const runLink = await page.getByRole('link', { name: 'Open the run page' }).getAttribute('href');
    expect(runLink).toMatch(/^\/runs\/\d+$/);
    const run = await h.call('get', `/api/syncs/${runLink!.split('/')[2]}`);
    expect(run.body.status).toBe('completed');

    await expectNothingExposed(page, [secret, wrong]);
    expect(carrying).toEqual([`POST ${server.baseUrl}/api/credentials`]);
    // The wrong secret's 422 is the one failed request this test provokes.
    expect(errors.filter((e) => !/status of 422/.test(e))).toEqual([]);
    await page.context().close();
  });

  it('when an existing company is chosen, then a tenant connected elsewhere is refused at "Tenant ID", ServiceTitan being down is said at "Environment", a tenant without Accounting then connects with that stream skipped, and a daily schedule shows its own next run times', async () => {
    const elsewhere = await createCompany(h, 'Aspen Air');
    expect((await createCredential(h, elsewhere, 1_000_001)).status).toBe(201);
    await createCompany(h, 'Birch Electric');
    const { page, errors } = await openPage(browser);
    await signIn(page, server.baseUrl, await h.token('admin'));
    await page.goto(`${server.baseUrl}/connect`);
    await page.getByRole('radio', { name: 'An existing company' }).check();
    await page
      .getByLabel('Existing company', { exact: true })
      .selectOption({ label: 'Birch Electric (America/Chicago)' });
    await page.getByRole('button', { name: 'Continue' }).click();

    await page.getByRole('button', { name: 'Use tenant 1000001 (Integration)' }).click();
    await page.getByRole('button', { name: 'Test connection' }).click();
    const taken = page.getByText('Tenant 1000001 is already connected in Integration');
    await taken.waitFor();
    const tenantField = page.getByLabel('Tenant ID');
    expect((await tenantField.getAttribute('aria-describedby'))?.split(' ')).toContain(
      await taken.getAttribute('id'),
    );

    // ServiceTitan down: said next to "Environment", nothing saved; once it answers, it connects.
    h.sandbox.injectFault({ kind: 'html-503', tenantId: NO_ACCOUNTING, path: '/connect/token' });
    await page.getByRole('button', { name: `Use tenant ${NO_ACCOUNTING} (Integration)` }).click();
    await page.getByRole('button', { name: 'Test connection' }).click();
    const down = page.getByText("ServiceTitan's Integration environment did not answer properly");
    await down.waitFor({ timeout: 30_000 });
    expect(
      (await page.getByRole('group', { name: 'Environment' }).getAttribute('aria-describedby'))?.split(' '),
    ).toContain(await down.getAttribute('id'));
    h.sandbox.clearFaults();
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByText('Connected', { exact: true }).waitFor();
    expect(await page.getByText(/Checking again in/).count()).toBe(0);
    const streams = await page.locator('table tbody tr').allInnerTexts();
    expect(streams).toContain('Invoices\tAccounting\tNot licensed for this tenant: skipped');
    expect(streams).toContain('Customers\tCRM\tReadable');

    await page.getByRole('button', { name: 'Continue to the schedule' }).click();
    await page.locator('.next-runs li').nth(4).waitFor();
    await page.getByLabel('Frequency').selectOption('daily');
    await page.getByLabel('Time', { exact: true }).fill('06:30');
    await expect
      .poll(async () => (await page.locator('.next-runs li').allInnerTexts()).join('|'), { timeout: 10_000 })
      .toMatch(/^([^|]*6:30\sAM CST\|){4}[^|]*6:30\sAM CST$/);
    const days = (await page.locator('.next-runs li').allInnerTexts()).map((t) => t.slice(0, 3));
    expect(new Set(days).size).toBe(5);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Schedule saved' }).waitFor();
    const listed = await h.call('get', '/api/credentials');
    const credential = listed.body.items.find(
      (c: { tenantId: string }) => c.tenantId === String(NO_ACCOUNTING),
    );
    const schedule = await h.call('get', `/api/credentials/${credential.id}/schedule`);
    expect(schedule.body.config).toMatchObject({ frequency: 'daily', hour: 6, minute: 30 });
    expect(errors.filter((e) => !/status of (409|422)/.test(e))).toEqual([]);
    await page.context().close();
  });

  it('when an operator opens the wizard, then it says only an admin may connect a tenant, and the dashboard has no button for it', async () => {
    const { page } = await openPage(browser);
    await signIn(page, server.baseUrl, await h.token('operator'));
    expect(await page.getByRole('link', { name: 'Connect a tenant' }).count()).toBe(0);
    await page.goto(`${server.baseUrl}/connect`);
    await page.getByText('Only an admin can connect a tenant.').waitFor();
    expect(await page.getByLabel('Client secret').count()).toBe(0);
    await page.context().close();
  });
});
