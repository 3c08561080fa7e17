/**
 * @module http/routes/web-ui
 * Serves the admin UI built from `web/` (Vite's `web/dist`): `GET /` answers the page to browsers,
 * `/assets/*` the hashed bundles through @fastify/static. The UI is a static single-page app that
 * talks to the admin API over HTTP, so nothing here touches `/flags` or the store.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** The built UI: the page itself, read once, and where its assets are. */
export interface WebUi {
  indexHtml: string;
  assetsDir: string;
}

// The page may load only its own scripts and styles and talk only to this origin; it is never
// framed (clickjacking an admin page). Inline style attributes are allowed for Preact's `style`.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/**
 * `web/dist` of this checkout: this file is `src/http/routes/` under tsx and
 * `dist/src/http/routes/` once compiled, so both depths are tried.
 */
export function defaultWebDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, '../../../web/dist'), resolve(here, '../../../../web/dist')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? candidates[0]!;
}

/** Reads the built UI from `dir`; null when it has not been built (the API then runs alone). */
export function loadWebUi(dir: string): WebUi | null {
  const index = join(dir, 'index.html');
  if (!existsSync(index)) return null;
  return { indexHtml: readFileSync(index, 'utf8'), assetsDir: join(dir, 'assets') };
}

/**
 * Whether `GET /` should answer the UI: only to clients that ask for HTML (browsers). PostHog's
 * `/` answers plain text, and SDKs, probes and tests that call it without `Accept: text/html`
 * keep getting that.
 */
export function wantsHtml(req: FastifyRequest): boolean {
  const accept = req.headers.accept;
  return typeof accept === 'string' && accept.includes('text/html');
}

/**
 * Registers `/assets/*` (hashed file names, so cached for a year) and returns the function that
 * sends the page. The page itself is never cached, so a new build is picked up on reload.
 */
export async function registerWebUi(app: FastifyInstance, ui: WebUi): Promise<(reply: FastifyReply) => unknown> {
  if (existsSync(ui.assetsDir)) {
    await app.register(fastifyStatic, {
      root: ui.assetsDir,
      prefix: '/assets/',
      decorateReply: false,
      index: false,
      immutable: true,
      maxAge: '365d',
      cacheControl: true,
    });
  }
  return (reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .send(ui.indexHtml);
}
