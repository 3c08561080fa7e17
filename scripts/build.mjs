// Compiles src/ and bench/ to dist/ with tsc (production and benchmarks run plain JavaScript:
// no transpiler in the hot path), then copies the SQL migrations next to the compiled store.
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
rmSync('dist', { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
cpSync('src/store/postgres/migrations', 'dist/src/store/postgres/migrations', { recursive: true });
// The admin UI is served from web/dist by the same process (src/http/routes/web-ui.ts).
const { buildWeb } = await import('./build-web.mjs');
buildWeb();
