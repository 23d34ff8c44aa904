import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';
import type { ApiHarness } from '../integration/api/support/harness.js';

// The web console's end-to-end tests drive Debian's Chromium (`.ci/run` installs it when missing)
// against the real API app on a free port. Scripts run in the page are strings: test files are
// type-checked without the DOM library.

export const CHROMIUM = '/usr/bin/chromium';

/**
 * Where the e2e tests write their screenshots: into docs/ (the README shows them) with
 * `UPDATE_SCREENSHOTS=1 npm test` or `npm run screenshots`; otherwise into a temporary folder, so a
 * test run does not rewrite tracked files (every shot differs in its times and ports).
 */
export function screenshotPath(name: string): string {
  if (process.env.UPDATE_SCREENSHOTS) return new URL(`../../docs/${name}`, import.meta.url).pathname;
  const dir = path.join(os.tmpdir(), 'stsync-screenshots');
  mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}

/** Builds the console (cached: a no-op when console/dist matches its sources). */
export function buildConsole(): void {
  const built = spawnSync(process.execPath, ['scripts/build-console.mjs'], { stdio: 'inherit' });
  expect(built.status, 'the console builds').toBe(0);
}

export async function launchChromium(): Promise<Browser> {
  expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`).toBe(true);
  return chromium.launch({
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
}

/** The harness's app on a free loopback port. */
export async function serve(h: ApiHarness): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const server: Server = h.app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A fresh page that collects console errors (a CSP refusal is one) and page errors. */
export async function openPage(browser: Browser): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    // A 401 from GET /api/session is the console asking whether it is signed in; 4xx answers
    // the test provokes on purpose show as failed resources too.
    if (m.type() === 'error' && !/status of 40[13]/.test(m.text())) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, errors };
}

/** Signs in through the sign-in form and waits for the dashboard. */
export async function signIn(page: Page, baseUrl: string, token: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
}

/** No credential kept where page scripts can read it, and none of `secrets` in the page. */
export async function expectNothingExposed(page: Page, secrets: string[]): Promise<void> {
  const storage = await page.evaluate<string>('JSON.stringify([{ ...localStorage }, { ...sessionStorage }])');
  expect(storage).toBe('[{},{}]');
  const content = await page.content();
  for (const secret of secrets) expect(content).not.toContain(secret);
  expect(await page.evaluate<string>('document.cookie')).not.toContain('stsync_session');
}
