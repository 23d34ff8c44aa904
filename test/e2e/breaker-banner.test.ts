import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBreakerStore } from '../../src/servicetitan/breaker-store.js';
import { type ApiHarness, startApiHarness } from '../integration/api/support/harness.js';
import { buildConsole, launchChromium, openPage, screenshotPath, serve, signIn } from '../support/console.js';
import { testLogger } from '../support/integration.js';

let h: ApiHarness;
let server: Awaited<ReturnType<typeof serve>>;
let browser: Browser;

beforeAll(async () => {
  buildConsole();
  h = await startApiHarness({ sandbox: { tenants: [{ tenantId: 1_000_101, customers: 1, invoices: 1 }] } });
  server = await serve(h);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  h?.assertNoLeaks();
  await h?.close();
});

describe('dashboard: ServiceTitan circuit breaker', () => {
  it('when a worker reports the integration breaker open, then the dashboard says requests are paused until when; once closed, or when the news is old, there is no banner', async () => {
    // What a worker's breaker writes on a transition (src/main/activity-deps.ts wires it so).
    const store = createBreakerStore({ orm: h.orm, logger: testLogger });
    const retryAt = new Date(Date.now() + 10 * 60_000);
    store.record({ environment: 'integration', state: 'open', failures: 10, retryAt });
    await store.flushed();

    const { page, errors } = await openPage(browser);
    await signIn(page, server.baseUrl, await h.token('viewer'));
    const banner = page.getByRole('alert').filter({ hasText: 'ServiceTitan integration API failing' });
    await banner.waitFor();
    const clock = await page.evaluate<string>(
      `new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' }).format(new Date(${retryAt.getTime()}))`,
    );
    expect(await banner.textContent()).toBe(
      `ServiceTitan integration API failing: requests paused until ${clock}, then syncs retry on their own.`,
    );
    await page.screenshot({ path: screenshotPath('console-breaker-banner.png') });

    store.record({ environment: 'integration', state: 'closed', failures: 0, retryAt: null });
    await store.flushed();
    // The dashboard refreshes itself every 5 s.
    await banner.waitFor({ state: 'detached', timeout: 15_000 });

    // Left open by a worker that stopped long ago: it says nothing about now, so no banner.
    await h.orm.em.getConnection().execute(
      `update servicetitan_breakers set state = 'open', retry_at = now() - interval '20 minutes',
           updated_at = now() - interval '21 minutes' where environment = 'integration'`,
    );
    await page.reload();
    await page.getByText('0 credentials', { exact: true }).waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
