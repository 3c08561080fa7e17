/**
 * @module store/embedded/footprint
 * What keeps an idle embedded node small (issue 13, "Embedded footprint"). PGlite is PostgreSQL
 * compiled to WebAssembly inside this process, so whatever it allocates, compiles or leaves
 * behind counts in the node's RSS. Three things made an idle node 800+ MB and are handled here;
 * the fourth, `shared_buffers`, is in memory-settings.ts. Figures: BENCHMARKS.md.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Creating a database: PGlite runs initdb in a second PostgreSQL instance, copies the whole
 * WebAssembly heap and tars the result, leaving ~400 MB of unreachable buffers that an idle
 * process never collects. Run in a child process, all of it goes back to the OS at its exit,
 * and the node then opens the database exactly as on a restart. Only the first start pays the
 * extra process (about a second next to initdb's own several).
 */
const INITDB_SCRIPT = `
import { PGlite } from ${JSON.stringify(import.meta.resolve('@electric-sql/pglite'))};
const pg = await PGlite.create(process.argv[1], { startParams: [...PGlite.defaultStartParams, ...JSON.parse(process.argv[2])] });
await pg.close();
`;

/**
 * Creates the database in `dataDir` (which must exist) in a child process, unless it already
 * holds one; the test is PGlite's own (PG_VERSION exists). `startParams` are the `-c` settings.
 */
export async function initDataDirOutOfProcess(dataDir: string, startParams: readonly string[]): Promise<void> {
  if (existsSync(join(dataDir, 'PG_VERSION'))) return;
  try {
    await promisify(execFile)(process.execPath, ['--input-type=module', '-e', INITDB_SCRIPT, dataDir, JSON.stringify(startParams)], {
      // initdb's chatter; only read when it fails.
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (err) {
    // The default message repeats the whole script; what matters is the child's stderr, less
    // the minified source line Node prints above an uncaught error.
    const stderr = String((err as { stderr?: unknown }).stderr ?? '')
      .split('\n')
      .filter((line) => line.length < 500)
      .slice(-20)
      .join('\n')
      .trim();
    throw new Error(`creating the embedded database in ${dataDir} failed: ${stderr || (err as Error).message}`, { cause: err });
  }
}

/**
 * V8 compiles PGlite's 9 MB module with its baseline compiler (Liftoff), then recompiles hot
 * functions with TurboFan; after start-up and migrations those second copies hold 35–60 MB that
 * stay resident. Without them queries run ~10–50 % slower (BENCHMARKS.md), which the person
 * cache mostly hides, so tier-up is off unless asked for. The flag is read when a module is
 * compiled, so it must be set before each PGlite; WebAssembly is only used by PGlite here.
 */
export function chooseWasmCompiler(tierUp: boolean): void {
  v8.setFlagsFromString(tierUp ? '--no-liftoff-only' : '--liftoff-only');
}

/**
 * One full garbage collection once the database is open: loading PGlite leaves ~10 MB of
 * buffers (the module's bytes, start-up strings) that an idle process would carry forever,
 * because V8 only collects when something allocates. Runs at start-up only, never per request.
 * `gc` is only reachable through a context created after `--expose-gc` is set.
 */
export function collectStartupGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}
