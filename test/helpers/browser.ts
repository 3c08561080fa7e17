/**
 * @module test/helpers/browser
 * One headless Chromium set-up for browser tests: Debian's `chromium` package (installed by
 * `.ci/run` when missing) driven by playwright-core, which downloads no browser of its own; and a
 * page recorder (requests, failed responses, console errors) so a test can assert that a page
 * talked to Vexil cleanly.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Where Debian installs Chromium; VEXIL_TEST_CHROMIUM overrides it. */
export const CHROMIUM_PATH = process.env.VEXIL_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** Flags for a quiet, offline, sandbox-free (root in CI) headless run. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * Launches headless Chromium. playwright's `launch` gives every browser a fresh temporary
 * user-data-dir, removed on close, so no state leaks between tests. Fails with the install hint
 * when Chromium is missing (never skips).
 */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: apt-get install -y --no-install-recommends chromium (or set VEXIL_TEST_CHROMIUM)`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS], timeout: 60_000 });
}

/** What a page did, collected from the moment it was opened. */
export interface PageRecord {
  /** Every request: method and URL. */
  requests: { method: string; url: string }[];
  /** Responses with status ≥ 400 and requests that failed outright (network error, aborted). */
  failures: { url: string; status: number | null; error?: string }[];
  /** console.error messages and uncaught page errors. */
  consoleErrors: string[];
}

/** Opens a page in a fresh context and records its traffic and console errors. */
export async function openRecordedPage(browser: Browser): Promise<{ context: BrowserContext; page: Page; record: PageRecord }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const record: PageRecord = { requests: [], failures: [], consoleErrors: [] };
  page.on('request', (r) => record.requests.push({ method: r.method(), url: r.url() }));
  page.on('response', (r) => {
    if (r.status() >= 400) record.failures.push({ url: r.url(), status: r.status() });
  });
  page.on('requestfailed', (r) => record.failures.push({ url: r.url(), status: null, error: r.failure()?.errorText }));
  page.on('console', (m) => {
    if (m.type() === 'error') record.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => record.consoleErrors.push(String(e)));
  return { context, page, record };
}
