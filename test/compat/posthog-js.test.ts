// The real posthog-js (array.full.js) in headless Chromium against a listening Vexil: page load
// fetches /array/{token}/config(.js), flags arrive, identify re-evaluates them, events are
// captured, and no request to Vexil fails and nothing is logged as an error.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { launchBrowser, openRecordedPage } from '../helpers/browser.ts';
import { addFlag, rollout, startTestApp, type TestApp } from '../integration/http/http-helpers.ts';

const require = createRequire(import.meta.url);
/**
 * array.full.js has the external-script loader and takes its config from `config.js`;
 * array.full.no-external.js has none and falls back to the JSON `config`.
 */
const BUNDLES = [
  { file: 'array.full.js', configPath: (token: string) => `/array/${token}/config.js` },
  { file: 'array.full.no-external.js', configPath: (token: string) => `/array/${token}/config` },
];
/** Bounds every wait in the page; the assertions themselves never depend on time. */
const WAIT_MS = 30_000;

function pageHtml(bundle: string, token: string, apiHost: string): string {
  return `<!doctype html><html><head><title>vexil</title><script src="/${bundle}"></script></head><body>
<script>
  window.posthog.init(${JSON.stringify(token)}, {
    api_host: ${JSON.stringify(apiHost)},
    opt_out_useragent_filter: true,
    person_profiles: 'identified_only',
    request_batching: false,
  });
</script></body></html>`;
}

describe('posthog-js in Chromium against Vexil', () => {
  let t: TestApp;
  let vexil: string;
  let site: Server;
  let siteUrl: string;
  let browser: Browser;

  before(async () => {
    t = await startTestApp('embedded');
    await addFlag(t, t.project.id, 'browser-flag', rollout(100));
    await addFlag(t, t.project.id, 'pro-flag', { groups: [{ properties: [{ key: 'plan', type: 'person', operator: 'exact', value: ['pro'] }], rollout_percentage: 100 }] });
    vexil = await t.app.server.listen({ port: 0, host: '127.0.0.1' });
    const files = new Map<string, Buffer>();
    for (const b of BUNDLES) files.set(`/${b.file}`, await readFile(require.resolve(`posthog-js/dist/${b.file}`)));
    // The page comes from another origin than Vexil, as on a real site (CORS included).
    site = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const file = files.get(url.pathname);
      if (file) res.writeHead(200, { 'content-type': 'application/javascript' }).end(file);
      else if (url.pathname === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(pageHtml(url.searchParams.get('bundle') ?? '', t.project.token, vexil));
      // Chromium asks for a favicon; without one its 404 would read as a console error.
      else if (req.url === '/favicon.ico') res.writeHead(204).end();
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}/`;
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await new Promise((resolve) => site?.close(resolve));
    await t?.close();
  });

  for (const bundle of BUNDLES) test(`${bundle.file}: page load, flags and identify, every request to Vexil succeeds, no console error`, async () => {
    const { context, page, record } = await openRecordedPage(browser);
    try {
      const captured = page.waitForResponse((r) => r.url().startsWith(`${vexil}/i/v0/e`) && r.request().method() === 'POST', { timeout: WAIT_MS });
      await page.goto(`${siteUrl}?bundle=${bundle.file}`);
      await page.waitForFunction(() => (globalThis as any).posthog.isFeatureEnabled('browser-flag') === true, undefined, { timeout: WAIT_MS });
      assert.equal(await page.evaluate(() => (globalThis as any).posthog.isFeatureEnabled('pro-flag')), false);
      assert.equal((await captured).status(), 200, 'the $pageview reached capture');

      await page.evaluate(() => (globalThis as any).posthog.identify('user-pro', { plan: 'pro' }));
      await page.waitForFunction(() => (globalThis as any).posthog.isFeatureEnabled('pro-flag') === true, undefined, { timeout: WAIT_MS });

      const paths = record.requests.filter((r) => r.url.startsWith(vexil)).map((r) => new URL(r.url).pathname);
      assert.ok(paths.includes(bundle.configPath(t.project.token)), `config requested: ${paths.join(', ')}`);
      assert.ok(paths.some((p) => p.startsWith('/flags')), `flags requested: ${paths.join(', ')}`);
      const failed = record.failures.filter((f) => f.url.startsWith(vexil));
      assert.deepEqual(failed, [], 'no failed request to Vexil');
      assert.deepEqual(record.consoleErrors, [], `no console error (failed requests: ${JSON.stringify(record.failures)})`);
      // Products Vexil turns off are never asked for.
      for (const p of paths) assert.doesNotMatch(p, /^\/(s|api\/surveys|api\/web_experiments|static)\b/);
    } finally {
      await context.close();
    }
  });
});
