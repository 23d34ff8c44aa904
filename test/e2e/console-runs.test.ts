import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SkippedRecord, SyncRun } from '../../src/db/entities/index.js';
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

// The credential and run pages in real Chromium against the real API, worker, Temporal and sandbox.
// Runs stay in flight exactly as long as a test needs through sandbox holds (no timing guesses).

const ACME_TENANT = 1_000_001;
const BIRCH_TENANT = 1_000_002;
/** Personal data as a skipped customer record carries it: operators may read it, viewers never. */
const RAW = { id: 424242, name: 'Jane Q. Skipped', phone: '+1-555-0199', email: 'jane.skipped@example.test' };
const REASON = 'modifiedOn is missing or not a date: "yesterday"';

let h: ApiHarness;
let server: Awaited<ReturnType<typeof serve>>;
let baseUrl: string;
let browser: Browser;
let acme: number;
let acmeCredential: number;
let birchCredential: number;
let birchRun: number;
let fullRun: number;
let tokens: { admin: string; operator: string; viewer: string };

beforeAll(async () => {
  buildConsole();
  h = await startApiHarness({
    // One page per chunk: a pause or a cancel lands between two pages, whatever the machine's speed.
    worker: { chunkMs: 1 },
    sandbox: {
      pageSizes: { customers: 10, contacts: 10, invoices: 10 },
      tenants: [
        { tenantId: ACME_TENANT, customers: 60, invoices: 60 },
        { tenantId: BIRCH_TENANT, customers: 10, invoices: 10 },
      ],
    },
  });
  acme = await createCompany(h, 'Acme Heating');
  const birch = await createCompany(h, 'Birch Plumbing');
  acmeCredential = (await createCredential(h, acme, ACME_TENANT, { test: true })).body.id;
  birchCredential = (await createCredential(h, birch, BIRCH_TENANT, { test: true })).body.id;
  // A finished run of the other company, for the scoped viewer to be refused.
  const em = h.orm.em.fork();
  const other = em.create(SyncRun, {
    credential: birchCredential,
    trigger: 'manual',
    streams: ['customers'],
    mode: 'full',
    status: 'completed',
  });
  await em.flush();
  birchRun = other.id;
  tokens = {
    admin: await h.token('admin'),
    operator: await h.token('operator'),
    viewer: await h.token('viewer', acme),
  };
  server = await serve(h);
  baseUrl = server.baseUrl;
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await h?.close();
});

/**
 * Page errors but the browser's own line for a 404 answer: the console asks for a schedule that
 * may not exist, and the scoped viewer is refused others' pages on purpose.
 */
const unexpected = (errors: string[]) => errors.filter((e) => !/status of 404/.test(e));

async function signedIn(role: keyof typeof tokens): Promise<{ page: Page; errors: string[] }> {
  const opened = await openPage(browser);
  await signIn(opened.page, baseUrl, tokens[role]);
  return opened;
}

/** The rows of the run page's per-stream table as [stream, state, pages, fetched, saved, skipped]. */
async function streamRows(page: Page): Promise<string[][]> {
  const rows = page.getByRole('table', { name: 'Progress per stream' }).locator('tbody tr');
  const texts: string[][] = [];
  for (const row of await rows.all())
    texts.push((await row.locator('th, td').allInnerTexts()).map((t) => t.trim()));
  return texts;
}

async function runIdOf(page: Page): Promise<number> {
  await page.waitForURL(/\/runs\/\d+$/);
  return Number(new URL(page.url()).pathname.split('/').pop());
}

describe('credential and run pages', { timeout: 180_000 }, () => {
  it('when an operator starts a full sync from the credential page, then the run page shows live per-stream progress until every stream is Completed', async () => {
    const { page, errors } = await signedIn('operator');
    const events: number[] = [];
    page.on('response', (r) => {
      if (/\/api\/syncs\/\d+\/events$/.test(r.url())) events.push(r.status());
    });
    await page.getByRole('link', { name: 'Acme Heating' }).click();
    await page.getByRole('heading', { name: 'Acme Heating', level: 1 }).waitFor();
    await page.getByRole('heading', { name: 'Sync now' }).waitFor();
    await page.getByLabel('Full (every record again)').check();
    // Held at its first request, the run is visibly live before it may finish.
    const hold = h.sandbox.hold({ tenantId: ACME_TENANT });
    try {
      await page.getByRole('button', { name: 'Sync now' }).click();
      fullRun = await runIdOf(page);
      await page.getByRole('heading', { name: `Sync run ${fullRun}` }).waitFor();
      await hold.reached();
      await page.getByText('Live', { exact: true }).waitFor();
      await page.locator('.section-head').getByText('Running', { exact: true }).waitFor();
    } finally {
      hold.release();
    }
    await page.locator('.section-head').getByText('Completed', { exact: true }).waitFor({ timeout: 60_000 });
    const rows = await streamRows(page);
    expect(rows.map((r) => r.slice(0, 2))).toEqual([
      ['Customers', 'Completed'],
      ['Customer contacts', 'Completed'],
      ['Invoices', 'Completed'],
    ]);
    // Saved counts are the sandbox's records: 60 customers, 120 contacts, 60 invoices.
    expect(rows.map((r) => r[4])).toEqual(['60', '120', '60']);
    expect(events).toContain(200);
    await expect(
      page.getByRole('link', { name: 'Open this run in the Temporal Web UI' }).getAttribute('href'),
    ).resolves.toMatch(/^http:\/\/temporal-ui\.test:8233\/namespaces\/default\/workflows\/.+\/.+$/);
    await page.getByText('No record was skipped.').waitFor();
    expect(unexpected(errors)).toEqual([]);
    await page.context().close();
  });

  it('when an operator pauses and resumes a running run, then the page shows Paused, then it runs on and completes', async () => {
    const hold = h.sandbox.hold({ tenantId: ACME_TENANT });
    let released = false;
    const { page, errors } = await signedIn('operator');
    try {
      await page.goto(`${baseUrl}/credentials/${acmeCredential}`);
      // Full: every stream has pages left after the one in hand (an incremental one would be done).
      await page.getByLabel('Full (every record again)').check();
      await page.getByRole('button', { name: 'Sync now' }).click();
      const runId = await runIdOf(page);
      await hold.reached();
      await page.getByRole('button', { name: 'Pause', exact: true }).click();
      await page.getByRole('button', { name: 'Resume', exact: true }).waitFor();
      await page.locator('.section-head').getByText('Paused', { exact: true }).waitFor();
      hold.release();
      released = true;
      // Every stream finishes the page in hand and waits.
      await expect
        .poll(async () => (await streamRows(page)).map((r) => r[1]), { timeout: 30_000 })
        .toEqual(['Paused', 'Paused', 'Paused']);
      expect((await h.call('get', `/api/syncs/${runId}`, { exempt: true })).body.status).toBe('paused');

      await page.getByRole('button', { name: 'Resume', exact: true }).click();
      await page
        .locator('.section-head')
        .getByText('Completed', { exact: true })
        .waitFor({ timeout: 60_000 });
      await expect(page.getByRole('button', { name: 'Pause', exact: true }).count()).resolves.toBe(0);
      expect(unexpected(errors)).toEqual([]);
    } finally {
      if (!released) hold.release();
      await page.context().close();
    }
  });

  it('when an operator cancels a running run, then it ends Cancelled, and a company viewer watching it sees no control', async () => {
    const hold = h.sandbox.hold({ tenantId: ACME_TENANT });
    const operator = await signedIn('operator');
    const viewer = await signedIn('viewer');
    try {
      await operator.page.goto(`${baseUrl}/credentials/${acmeCredential}`);
      await operator.page.getByLabel('Full (every record again)').check();
      await operator.page.getByRole('button', { name: 'Sync now' }).click();
      const runId = await runIdOf(operator.page);
      await hold.reached();

      await viewer.page.goto(`${baseUrl}/runs/${runId}`);
      await viewer.page.getByRole('heading', { name: `Sync run ${runId}` }).waitFor();
      await viewer.page.locator('.section-head').getByText('Running', { exact: true }).waitFor();
      for (const name of ['Pause', 'Resume', 'Cancel run'])
        await expect(viewer.page.getByRole('button', { name, exact: true }).count()).resolves.toBe(0);

      await operator.page.getByRole('button', { name: 'Cancel run' }).click();
      // The chunk in hand finishes first: the run says it is cancelling until then.
      await operator.page.getByText('Cancelling…').waitFor();
      await expect(operator.page.getByRole('button', { name: 'Cancel run' }).isDisabled()).resolves.toBe(
        true,
      );
      hold.release();
      await operator.page
        .locator('.section-head')
        .getByText('Cancelled', { exact: true })
        .waitFor({ timeout: 60_000 });
      await viewer.page
        .locator('.section-head')
        .getByText('Cancelled', { exact: true })
        .waitFor({ timeout: 30_000 });
      expect((await h.call('get', `/api/syncs/${runId}`, { exempt: true })).body.status).toBe('cancelled');
      expect(unexpected(operator.errors)).toEqual([]);
      expect(unexpected(viewer.errors)).toEqual([]);
    } finally {
      hold.release();
      await operator.page.context().close();
      await viewer.page.context().close();
    }
  });

  it('when a run skipped records, then everyone sees the reasons and only operators and admins see the payloads', async () => {
    // The sandbox sends no record the maps refuse, so two refused records are stored as a sync
    // stores them (a row per record, the run's skipped count).
    const em = h.orm.em.fork();
    const run = await em.findOneOrFail(SyncRun, fullRun);
    run.counts = { ...run.counts, customers: { ...run.counts.customers!, skipped: 2 } };
    em.create(SkippedRecord, {
      syncRun: fullRun,
      stream: 'customers',
      externalId: String(RAW.id),
      reason: REASON,
      raw: RAW,
    });
    em.create(SkippedRecord, {
      syncRun: fullRun,
      stream: 'customers',
      externalId: null,
      reason: 'id is missing',
      raw: { name: RAW.name },
    });
    await em.flush();

    const operator = await signedIn('operator');
    await operator.page.goto(`${baseUrl}/runs/${fullRun}`);
    const table = operator.page.getByRole('table', { name: 'Skipped records' });
    await table.waitFor();
    await operator.page.getByText('2 skipped records').waitFor();
    await table.getByText(REASON).waitFor();
    await operator.page.screenshot({ path: screenshotPath('console-run.png'), fullPage: true });
    await table.getByText('Show payload').first().click();
    await table.getByText(RAW.email).waitFor();
    expect(unexpected(operator.errors)).toEqual([]);
    await operator.page.context().close();

    const viewer = await signedIn('viewer');
    await viewer.page.goto(`${baseUrl}/runs/${fullRun}`);
    const withheld = viewer.page.getByRole('table', { name: 'Skipped records' });
    await withheld.getByText(REASON).waitFor();
    await expect(withheld.getByText('Withheld').count()).resolves.toBe(2);
    await expect(withheld.getByText('Show payload').count()).resolves.toBe(0);
    const content = await viewer.page.content();
    for (const value of [RAW.name, RAW.phone, RAW.email]) expect(content).not.toContain(value);
    expect(unexpected(viewer.errors)).toEqual([]);
    await viewer.page.context().close();
  });

  it('when an operator sets, pauses and unpauses the schedule, then the page shows it in the company time zone with its next run times', async () => {
    const { page, errors } = await signedIn('operator');
    await page.goto(`${baseUrl}/credentials/${acmeCredential}`);
    await page.getByText('No schedule: this tenant syncs only when someone starts a sync.').waitFor();
    await page.getByRole('button', { name: 'Add a schedule' }).click();
    await page.getByLabel('Frequency').selectOption('daily');
    await page.getByLabel('Time (America/Chicago)').fill('05:30');
    await page.getByRole('button', { name: 'Save schedule' }).click();
    await page.getByText('Every day at 05:30').waitFor();
    const times = page.getByRole('list', { name: 'Next run times' }).locator('time');
    await expect.poll(() => times.count()).toBeGreaterThan(0);
    // Each next run is 05:30 in Chicago, plus up to the 15 minutes of jitter that spreads the load.
    for (const time of await times.all()) {
      const iso = (await time.getAttribute('datetime')) ?? '';
      const chicago = new Intl.DateTimeFormat('en-GB', {
        timeZone: 'America/Chicago',
        hour: '2-digit',
        minute: '2-digit',
      });
      expect(chicago.format(new Date(iso))).toMatch(/^05:(3\d|4[0-5])$/);
    }

    await page.getByRole('button', { name: 'Edit schedule' }).click();
    await page.getByLabel('Frequency').selectOption('weekly');
    await page.getByLabel('Day of the week').selectOption({ label: 'Wednesday' });
    await page.getByLabel('Time (America/Chicago)').fill('04:15');
    await page.getByRole('button', { name: 'Save schedule' }).click();
    await page.getByText('Every Wednesday at 04:15').waitFor();

    await page.getByRole('button', { name: 'Pause schedule' }).click();
    await page.getByText('Paused: no scheduled run starts until it is unpaused.').waitFor();
    expect(
      (await h.call('get', `/api/credentials/${acmeCredential}/schedule`, { exempt: true })).body.paused,
    ).toBe(true);
    await page.getByRole('button', { name: 'Unpause schedule' }).click();
    await page.getByRole('list', { name: 'Next run times' }).waitFor();
    expect(unexpected(errors)).toEqual([]);
    await page.context().close();
  });

  it('when an admin opens the credential, then it sees status, last test, schedule, Sync now, history and the admin actions', async () => {
    const { page, errors } = await signedIn('admin');
    await page.goto(`${baseUrl}/credentials/${acmeCredential}`);
    await page.getByRole('heading', { name: 'Acme Heating', level: 1 }).waitFor();
    await page.locator('.section-head').getByText('Connected', { exact: true }).waitFor();
    await page.getByText('Every Wednesday at 04:15').waitFor();
    const history = page.getByRole('table', { name: 'Run history' });
    await history.getByText('Cancelled').waitFor();
    await expect(history.locator('tbody tr').count()).resolves.toBe(3);
    for (const name of ['Sync now', 'Test connection', 'Rotate secret', 'Disable…', 'Edit schedule'])
      await expect(page.getByRole('button', { name, exact: true }).isVisible(), name).resolves.toBe(true);
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByRole('list', { name: 'Access per stream' }).getByText('Customers: readable').waitFor();
    await page.screenshot({ path: screenshotPath('console-credential.png'), fullPage: true });
    expect(unexpected(errors)).toEqual([]);
    await page.context().close();
  });

  it('when the history has more runs than a page, then filters narrow it and the pager moves through it', async () => {
    const em = h.orm.em.fork();
    for (let i = 0; i < 10; i++)
      em.create(SyncRun, {
        credential: acmeCredential,
        trigger: 'schedule',
        streams: ['customers', 'customerContacts', 'invoices'],
        mode: 'incremental',
        status: i % 2 === 0 ? 'completed' : 'failed',
        error: i % 2 === 0 ? null : 'ServiceTitan was unreachable',
      });
    await em.flush();

    const { page, errors } = await signedIn('viewer');
    await page.goto(`${baseUrl}/credentials/${acmeCredential}`);
    const history = page.getByRole('table', { name: 'Run history' });
    await page.getByText('13 runs', { exact: true }).waitFor();
    await expect(history.locator('tbody tr').count()).resolves.toBe(10);
    await page.getByText('Page 1 of 2').waitFor();
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText('Page 2 of 2').waitFor();
    await expect.poll(() => history.locator('tbody tr').count()).toBe(3);
    // The oldest run is the full one the first test started.
    await history.getByRole('link', { name: `Run ${fullRun}` }).waitFor();

    await page.getByLabel('Run status').selectOption('failed');
    await page.getByText('5 runs match the filters').waitFor();
    await expect(page.getByText(/^Page \d of \d$/).count()).resolves.toBe(0);
    await page.getByLabel('Run status').selectOption('cancelled');
    await page.getByText('1 run matches the filters').waitFor();
    await page.getByLabel('Run status').selectOption('');
    await page.getByLabel('Started before').fill('2020-01-01');
    await page.getByText('No run matches the filters.').waitFor();
    expect(unexpected(errors)).toEqual([]);
    await page.context().close();
  });

  it("when a company-scoped viewer uses the console, then it sees only its company, cannot open another company's credential or run, and sees no action", async () => {
    const { page, errors } = await signedIn('viewer');
    const rows = page.locator('tbody tr');
    await rows.first().waitFor();
    const texts = await rows.allInnerTexts();
    expect(texts).toHaveLength(1);
    expect(texts[0]).toContain('Acme Heating');
    expect(texts.join('\n')).not.toContain('Birch');
    await expect(page.getByRole('link', { name: 'Connect a tenant' }).count()).resolves.toBe(0);

    await page.goto(`${baseUrl}/credentials/${birchCredential}`);
    await page
      .getByRole('alert')
      .filter({ hasText: `Credential ${birchCredential} does not exist, or this token may not see it.` })
      .waitFor();
    await page.goto(`${baseUrl}/runs/${birchRun}`);
    await page
      .getByRole('alert')
      .filter({ hasText: `Sync run ${birchRun} does not exist, or this token may not see it.` })
      .waitFor();

    await page.goto(`${baseUrl}/credentials/${acmeCredential}`);
    await page.getByRole('heading', { name: 'Run history' }).waitFor();
    await page.getByText('Every Wednesday at 04:15').waitFor();
    for (const name of [
      'Sync now',
      'Test connection',
      'Rotate secret',
      'Disable…',
      'Edit schedule',
      'Add a schedule',
      'Pause schedule',
      'Unpause schedule',
      'Remove schedule',
    ])
      await expect(page.getByRole('button', { name, exact: true }).count(), name).resolves.toBe(0);
    await expect(page.getByLabel('New client secret').count()).resolves.toBe(0);
    expect(unexpected(errors)).toEqual([]);
    await page.context().close();
  });

  it('when an operator syncs a date range of some streams, then the run covers that window and only those streams', async () => {
    const { page, errors } = await signedIn('operator');
    await page.goto(`${baseUrl}/credentials/${acmeCredential}`);
    await page.getByLabel('Date range (records modified between two dates, UTC)').check();
    await page.getByLabel('From', { exact: true }).fill('2024-06-01');
    await page.getByLabel('To', { exact: true }).fill('2024-05-01');
    await page.getByText('The start must be before the end.').waitFor();
    await expect(page.getByRole('button', { name: 'Sync now' }).isDisabled()).resolves.toBe(true);
    await page.getByLabel('To', { exact: true }).fill('2025-01-01');
    await page.getByLabel('Customer contacts').uncheck();
    await page.getByRole('button', { name: 'Sync now' }).click();
    const runId = await runIdOf(page);
    await page.locator('.section-head').getByText('Completed', { exact: true }).waitFor({ timeout: 60_000 });
    await page.getByText('Date range 2024-06-01 to 2025-01-01').waitFor();
    expect((await streamRows(page)).map((r) => r.slice(0, 2))).toEqual([
      ['Customers', 'Completed'],
      ['Invoices', 'Completed'],
    ]);
    const run = (await h.call('get', `/api/syncs/${runId}`, { exempt: true })).body;
    expect(run.streams).toEqual(['customers', 'invoices']);
    expect(run.mode).toEqual({ from: '2024-06-01T00:00:00.000Z', to: '2025-01-01T00:00:00.000Z' });
    expect(unexpected(errors)).toEqual([]);
    await page.context().close();
  });

  it('when an admin rotates the secret, then the new secret never shows in the page and the credential keeps working', async () => {
    const { page, errors } = await signedIn('admin');
    await page.goto(`${baseUrl}/credentials/${acmeCredential}`);
    // The sandbox knows one secret per client: "rotating" to it again still proves the page path.
    const secret = h.sandbox.tenants.find((t) => t.tenantId === ACME_TENANT)!.clientSecret;
    const field = page.getByLabel('New client secret');
    await field.fill(secret);
    await expect(field.getAttribute('type')).resolves.toBe('password');
    await page.getByRole('button', { name: 'Show' }).click();
    await expect(field.getAttribute('type')).resolves.toBe('text');
    await page.getByRole('button', { name: 'Hide' }).click();
    await expect(field.getAttribute('type')).resolves.toBe('password');
    const before = (await h.call('get', `/api/credentials/${acmeCredential}`, { exempt: true })).body
      .updatedAt;
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByText('The secret was replaced.').waitFor();
    await expect(field.inputValue()).resolves.toBe('');
    expect(
      (await h.call('get', `/api/credentials/${acmeCredential}`, { exempt: true })).body.updatedAt,
    ).not.toBe(before);
    await expectNothingExposed(page, [secret, tokens.admin]);
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByRole('list', { name: 'Access per stream' }).getByText('Customers: readable').waitFor();
    await expectNothingExposed(page, [secret, tokens.admin]);
    expect(unexpected(errors)).toEqual([]);
    await page.context().close();
  });

  it('when an admin disables the credential, then a dialog naming it asks first, and afterwards no sync can be started', async () => {
    const { page, errors } = await signedIn('admin');
    await page.goto(`${baseUrl}/credentials/${acmeCredential}`);
    await page.getByRole('button', { name: 'Disable…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Disable this credential?' });
    await dialog.waitFor();
    await dialog.getByText(`Acme Heating, Integration tenant ${ACME_TENANT}`).waitFor();
    await dialog.getByRole('button', { name: 'Keep it enabled' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(
      (await h.call('get', `/api/credentials/${acmeCredential}`, { exempt: true })).body.disabledAt,
    ).toBeNull();

    await page.getByRole('button', { name: 'Disable…' }).click();
    await dialog.getByRole('button', { name: 'Disable credential' }).click();
    await page.getByText(/This credential was disabled on/).waitFor();
    await page.locator('.section-head').getByText('Disabled', { exact: true }).waitFor();
    await page.getByText('No schedule: this tenant syncs only when someone starts a sync.').waitFor();
    await expect(page.getByRole('button', { name: 'Sync now' }).count()).resolves.toBe(0);
    const row = (await h.call('get', `/api/credentials/${acmeCredential}`, { exempt: true })).body;
    expect(row.status).toBe('disabled');
    expect(unexpected(errors)).toEqual([]);
    await page.context().close();
  });
});
