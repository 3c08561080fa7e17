// Builds the admin UI (web/ → web/dist) with Vite, after type-checking it. web/ has its own
// package.json and lock file; its dependencies are installed with `npm ci` the first time, so
// `npm install && npm start` on a fresh clone needs no other step. Run directly or imported.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const web = join(root, 'web');

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
}

/** Installs web/'s dependencies if missing, type-checks web/ and writes web/dist. */
export function buildWeb() {
  if (!existsSync(join(web, 'node_modules', 'vite', 'package.json'))) {
    // npm_execpath is npm's own CLI when this runs under `npm start`/`npm run`.
    const npmCli = process.env.npm_execpath;
    const args = ['ci', '--no-audit', '--no-fund'];
    if (npmCli && npmCli.endsWith('.js')) run(process.execPath, [npmCli, ...args], web);
    else run('npm', args, web);
  }
  const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  run(process.execPath, [tsc, '-p', 'tsconfig.json'], web);
  run(process.execPath, [join(web, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], web);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    buildWeb();
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
