/**
 * @module test/helpers/browser
 * Launches Debian's Chromium (`/usr/bin/chromium`, installed by `.ci/run`) headless through
 * playwright-core, and records what a page does: every request, failed response and console
 * error, so a test can assert that a page talked to Vexil cleanly.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Where `.ci/run` installs Chromium. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Flags that keep headless Chromium quiet and off the network except for the page's own requests. */
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Launches a headless Chromium; the caller closes it. Fails with a clear message when it is missing. */
export async function launchChromium(): Promise<Browser> {
  try {
    return await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ARGS, timeout: 60_000 });
  } catch (err) {
    throw new Error(`could not launch ${CHROMIUM_PATH} (install it: apt-get install -y chromium): ${(err as Error).message}`, { cause: err });
  }
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
