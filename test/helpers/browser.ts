/**
 * @module test/helpers/browser
 * One headless Chromium set-up for browser tests: Debian's `chromium` package (installed by
 * `.ci/run` when missing) driven by playwright-core, which downloads no browser of its own.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

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
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS] });
}
