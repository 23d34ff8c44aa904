import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, createCompany, startApiHarness } from '../integration/api/support/harness.js';
import {
  buildConsole,
  expectNothingExposed,
  launchChromium,
  openPage,
  screenshotPath,
  serve,
  signIn,
} from '../support/console.js';

const SCREENSHOT = screenshotPath('console-setup.png');

let h: ApiHarness;
let server: Awaited<ReturnType<typeof serve>>;
let baseUrl: string;
let browser: Browser;
let companyId: number;

beforeAll(async () => {
  buildConsole();
  h = await startApiHarness();
  h.watched.add(h.sandbox.appKey);
  companyId = await createCompany(h, 'Acme Heating');
  server = await serve(h);
  baseUrl = server.baseUrl;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await h?.close();
});

const nav = (page: Page) => page.getByRole('navigation', { name: 'Main' });

/** Changes a filter and waits for the audit page's answer to it. */
async function refilter(page: Page, change: () => Promise<unknown>): Promise<void> {
  const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/audit');
  await change();
  expect((await answered).status()).toBe(200);
}

/** The audit table's rows as text, once its caption says `caption` (and nothing is loading). */
async function auditRows(page: Page, caption: RegExp): Promise<string[]> {
  await page.locator('caption').filter({ hasText: caption }).waitFor();
  await page.locator('caption').filter({ hasText: 'loading' }).waitFor({ state: 'detached' });
  return page.locator('tbody tr').allInnerTexts();
}

describe('web console: admin pages', () => {
  it('when an admin creates a token, then it is shown once, signs in elsewhere, and once revoked its session stops; the audit trail shows it all and filters', async () => {
    const adminToken = await h.token('admin');
    const { page, errors } = await openPage(browser);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseUrl });
    await signIn(page, baseUrl, adminToken);

    await nav(page).getByRole('link', { name: 'API tokens' }).click();
    await page.getByRole('heading', { name: 'API tokens', level: 1 }).waitFor();
    await page.getByLabel('Name').fill('Night operator');
    await page.getByLabel('Role').selectOption('operator');
    await page.getByLabel('Company (optional)').selectOption({ label: 'Acme Heating' });
    await page.getByRole('button', { name: 'Create token' }).click();

    // Shown once, with a copy button and the warning.
    const shown = page.getByLabel('New API token');
    await shown.waitFor();
    const token = await shown.inputValue();
    expect(token).toMatch(/^stsk_[\w-]{43}$/);
    await page.getByText('Copy it now: it cannot be shown again.').waitFor();
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByText('Copied to the clipboard.').waitFor();
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(token);
    const row = page.getByRole('row').filter({ hasText: 'Night operator' });
    expect(await row.locator('th, td').allInnerTexts()).toEqual([
      'Night operator',
      'Operator',
      'Acme Heating',
      expect.stringMatching(/\d/),
      'Never',
      'Active',
      'Revoke',
    ]);

    // After a reload it cannot be had again: not in the page, not from the API.
    await page.reload();
    await row.waitFor();
    expect(await page.getByLabel('New API token').count()).toBe(0);
    expect(await page.content()).not.toContain(token);
    const listed = await page.evaluate<string>("fetch('/api/tokens').then((r) => r.text())");
    expect(listed).toContain('Night operator');
    expect(listed).not.toContain(token);

    // The new token signs in elsewhere, as an operator: no admin pages for it.
    const other = await openPage(browser);
    await signIn(other.page, baseUrl, token);
    await other.page.getByText('Signed in as Night operator (operator, company').waitFor();
    expect(await nav(other.page).getByRole('link').allInnerTexts()).toEqual(['Dashboard']);

    // Revoked with a confirmation: the other session stops working.
    await row.getByRole('button', { name: 'Revoke Night operator' }).click();
    await page.getByRole('button', { name: 'Keep it' }).click();
    expect(await row.getByText('Active').count()).toBe(1);
    await row.getByRole('button', { name: 'Revoke Night operator' }).click();
    await page.getByRole('button', { name: 'Yes, revoke “Night operator”' }).click();
    await row.getByText('Revoked', { exact: true }).waitFor();
    // Its sign-in and requests were its last use.
    expect((await row.locator('td').nth(3).textContent())!).toMatch(/now|second/);
    await other.page.reload();
    await other.page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await other.page.evaluate<number>("fetch('/api/dashboard').then((r) => r.status)")).toBe(401);
    expect(other.errors).toEqual([]);
    await other.page.context().close();

    // The audit trail: those actions, newest first, then filtered.
    const tokenId = ((await h.call('get', '/api/tokens')).body.items as { id: number; name: string }[]).find(
      (t) => t.name === 'Night operator',
    )!.id;
    await nav(page).getByRole('link', { name: 'Audit trail' }).click();
    await page.getByRole('heading', { name: 'Audit trail' }).waitFor();
    const all = await auditRows(page, /^Events 1–\d+ of \d+$/);
    const first = (text: string) => all.findIndex((r) => r.includes(text));
    expect(first('token.revoke')).toBeGreaterThanOrEqual(0);
    expect(first('token.revoke')).toBeLessThan(first('token.create'));
    expect(all.some((r) => r.includes('Night operator') && r.includes('session.sign_in'))).toBe(true);
    expect(all[first('token.revoke')]).toMatch(/Success/);
    expect(all[first('token.revoke')]).toMatch(new RegExp(`token #${tokenId}`));

    await refilter(page, () => page.getByLabel('Action', { exact: true }).selectOption('token.revoke'));
    const revoked = await auditRows(page, /^Events 1–1 of 1$/);
    expect(revoked[0]).toMatch(/Revoked a token/);
    await refilter(page, () => page.getByLabel('Action', { exact: true }).selectOption(''));
    await refilter(page, () => page.getByLabel('Actor token', { exact: true }).selectOption(String(tokenId)));
    const byActor = await auditRows(page, /^Events 1–1 of 1$/);
    expect(byActor[0]).toMatch(/Signed in[\s\S]*session\.sign_in/);
    await refilter(page, () => page.getByLabel('Actor token', { exact: true }).selectOption(''));
    await refilter(page, () =>
      page.getByLabel('Company', { exact: true }).selectOption({ label: 'Acme Heating' }),
    );
    const byCompany = await auditRows(page, /^Events 1–\d+ of \d+$/);
    expect(byCompany.every((r) => r.includes('Acme Heating'))).toBe(true);
    expect(byCompany.some((r) => r.includes('Night operator'))).toBe(true);
    await refilter(page, () => page.getByRole('button', { name: 'Clear filters' }).click());
    await refilter(page, () => page.getByLabel('From', { exact: true }).fill('2099-01-01T00:00'));
    await auditRows(page, /^No events match\.$/);
    await refilter(page, () => page.getByLabel('From', { exact: true }).fill(''));
    await refilter(page, () => page.getByLabel('To', { exact: true }).fill('2000-01-01T00:00'));
    await auditRows(page, /^No events match\.$/);
    await refilter(page, () => page.getByRole('button', { name: 'Clear filters' }).click());

    // Paging: more events than one page.
    for (let i = 0; i < 50; i++)
      expect(
        (await h.call('post', '/api/tokens', { body: { name: `bulk ${i}`, role: 'viewer' }, exempt: true }))
          .status,
      ).toBe(201);
    await page.reload();
    const caption = page.locator('caption');
    await caption.filter({ hasText: /^Events 1–50 of \d+/ }).waitFor();
    const total = Number((await caption.textContent())!.match(/of (\d+)/)![1]);
    expect(total).toBeGreaterThan(50);
    await page.getByRole('button', { name: 'Next page' }).click();
    await caption.filter({ hasText: `Events 51–${total} of ${total}` }).waitFor();
    await page.getByText(`Page 2 of ${Math.ceil(total / 50)}`).waitFor();
    expect(await page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await caption.filter({ hasText: /^Events 1–50 of/ }).waitFor();

    await expectNothingExposed(page, [adminToken, token]);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('when an admin opens Setup, then it explains the registration and shows every live check passing, and Check again checks again', async () => {
    const { page, errors } = await openPage(browser);
    await signIn(page, baseUrl, await h.token('admin'));
    await nav(page).getByRole('link', { name: 'Setup' }).click();
    await page.getByRole('heading', { name: 'Setup', level: 1 }).waitFor();
    await page.getByRole('heading', { name: 'Register the application with ServiceTitan' }).waitFor();
    await page.getByText('Settings > Integrations > API Application Access').waitFor();

    const summary = page.getByText(/^Checked .*: all 8 checks pass\.$/);
    await summary.waitFor();
    const items = page.getByRole('list', { name: 'Checks' }).getByRole('listitem');
    const names = await items.evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
    expect(names).toEqual([
      'ServiceTitan app key: OK',
      'Integration auth URL: OK',
      'Integration API URL: OK',
      'Production auth URL: OK',
      'Production API URL: OK',
      'Encryption keys: OK',
      'Temporal: OK',
      'PostgreSQL: OK',
    ]);
    await page.getByText('SERVICETITAN_APP_KEY is set.').waitFor();
    expect(await page.getByText('To fix:').count()).toBe(0);
    // This deployment's URLs, per environment.
    const integration = page.getByRole('row').filter({ hasText: 'Integration' }).last();
    expect(await integration.textContent()).toContain(h.sandbox.url);

    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    // Check again asks the server again (a live check, not a cached answer).
    const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/setup');
    await page.getByRole('button', { name: 'Check again' }).click();
    expect((await answered).status()).toBe(200);
    await summary.waitFor();

    await expectNothingExposed(page, [h.sandbox.appKey]);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('when a viewer signs in, then no admin link shows, and /tokens, /audit and /setup say its role may not use them; an admin limited to one company has the audit trail only', async () => {
    const { page, errors } = await openPage(browser);
    await signIn(page, baseUrl, await h.token('viewer', companyId));
    expect(await nav(page).getByRole('link').allInnerTexts()).toEqual(['Dashboard']);

    for (const [path, title, message] of [
      ['/tokens', 'API tokens', 'Your role (viewer) may not manage API tokens.'],
      ['/audit', 'Audit trail', 'Your role (viewer) may not read the audit trail.'],
      ['/setup', 'Setup', "Your role (viewer) may not see this deployment's setup."],
    ] as const) {
      await page.goto(`${baseUrl}${path}`);
      await page.getByRole('heading', { name: title, level: 1 }).waitFor();
      await page.getByRole('alert').filter({ hasText: message }).waitFor();
      await page.getByRole('link', { name: 'Back to the dashboard' }).waitFor();
    }
    expect(errors).toEqual([]);
    await page.context().close();

    // An admin limited to one company reads its audit trail, but tokens and setup span companies.
    const limited = await openPage(browser);
    await signIn(limited.page, baseUrl, await h.token('admin', companyId));
    expect(await nav(limited.page).getByRole('link').allInnerTexts()).toEqual([
      'Dashboard',
      'Audit trail',
      'Feature flags',
    ]);
    await limited.page.goto(`${baseUrl}/setup`);
    await limited.page
      .getByRole('alert')
      .filter({
        hasText: `Your token is limited to company ${companyId}: it may not see this deployment's setup.`,
      })
      .waitFor();
    expect(limited.errors).toEqual([]);
    await limited.page.context().close();
  });
});
