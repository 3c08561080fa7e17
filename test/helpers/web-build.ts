/**
 * @module test/helpers/web-build
 * Makes sure `web/dist` is built and newer than every file under `web/src` before a browser test
 * serves it (a fresh clone has no build; built assets are not committed).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's `web/` folder. */
export const WEB_DIR = fileURLToPath(new URL('../../web', import.meta.url));
/** Where the built UI lands. */
export const WEB_DIST = join(WEB_DIR, 'dist');

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((e) => newestMtime(join(path, e))));
}

/** Builds the UI with scripts/build-web.mjs when it is missing or older than its sources. */
export function ensureWebBuilt(): string {
  const index = join(WEB_DIST, 'index.html');
  const sources = [join(WEB_DIR, 'src'), join(WEB_DIR, 'index.html'), join(WEB_DIR, 'vite.config.ts'), join(WEB_DIR, 'package.json')];
  if (!existsSync(index) || Math.max(...sources.map(newestMtime)) > statSync(index).mtimeMs) {
    const script = fileURLToPath(new URL('../../scripts/build-web.mjs', import.meta.url));
    const r = spawnSync(process.execPath, [script], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`building the web UI failed (exit ${r.status ?? r.signal})`);
  }
  return WEB_DIST;
}
