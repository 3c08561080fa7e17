/**
 * @module bench/footprint.bench
 * `npm run bench:footprint`: idle resident memory of a Vexil node (issue 13, target ≤ 150 MB for
 * an embedded node). Starts the compiled server exactly as `npm start` does (same node flags,
 * read from package.json) three times: embedded on a fresh data directory (first start, which
 * creates the database), embedded again on that directory (restart), and PostgreSQL in its own
 * schema of BENCH_PG_URL (default the test database; the row is skipped with a note when it is
 * unreachable). Each node is read once it answers /_readiness and has idled IDLE seconds: VmRSS
 * and VmHWM from /proc, V8 heap and external memory from its /metrics. The last line of output
 * is one JSON object.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../src/store/open-store.ts';
import { dropSchema, uniqueSchemaName } from '../test/helpers/db.ts';
import { freePort, spawnNode, stop, tail, waitForHttp } from './http/proc.ts';

const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const IDLE_S = Number(process.env.BENCH_IDLE_S ?? 5);
/** A first start runs initdb, which takes 20–40 s on a busy shared machine. */
const READY_TIMEOUT_MS = 180_000;
const TARGET_MB = 150;
const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Row {
  node: string;
  rss_mb: number;
  peak_rss_mb: number;
  heap_used_mb: number;
  external_mb: number;
  ready_s: number;
}

/** The node flags of `npm start` (its last command is `node FLAGS… dist/src/main.js`). */
async function startFlags(): Promise<string[]> {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const words = pkg.scripts.start.split('&&').pop()!.trim().split(/\s+/);
  if (words[0] !== 'node' || words.at(-1) !== 'dist/src/main.js') throw new Error(`unexpected start script: ${pkg.scripts.start}`);
  return words.slice(1, -1);
}

function statusKb(pid: number, field: string): number {
  const m = new RegExp(`${field}:\\s+(\\d+)\\s+kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no ${field} for ${pid}`);
  return Number(m[1]);
}

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

/** Starts a node with `env`, waits until ready plus IDLE_S, reads its memory, stops it. */
async function measure(label: string, flags: string[], env: Record<string, string>): Promise<Row> {
  const port = await freePort();
  const logFile = join(os.tmpdir(), `vexil-footprint-${process.pid}-${port}.log`);
  const proc = spawnNode([...flags, MAIN], {
    env: { ...process.env, VEXIL_WORKERS: '1', ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    logFile,
    cwd: ROOT,
  });
  try {
    const readyMs = await waitForHttp(`http://127.0.0.1:${port}/_readiness`, { timeoutMs: READY_TIMEOUT_MS, everyMs: 200, proc });
    await new Promise((r) => setTimeout(r, IDLE_S * 1000));
    const pid = proc.child.pid!;
    // Read /proc before /metrics: the scrape itself allocates.
    const rssKb = statusKb(pid, 'VmRSS');
    const hwmKb = statusKb(pid, 'VmHWM');
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
    const row: Row = {
      node: label,
      rss_mb: mb(rssKb * 1024),
      peak_rss_mb: mb(hwmKb * 1024),
      heap_used_mb: mb(metric(metrics, 'vexil_nodejs_heap_size_used_bytes')),
      external_mb: mb(metric(metrics, 'vexil_nodejs_external_memory_bytes')),
      ready_s: Math.round(readyMs / 100) / 10,
    };
    console.error(`${label}: ${row.rss_mb} MB`);
    return row;
  } catch (err) {
    throw new Error(`${label}: ${(err as Error).message}\n${tail(logFile)}`, { cause: err });
  } finally {
    await stop(proc, 10_000);
    await rm(logFile, { force: true });
  }
}

/** The PostgreSQL row: its own migrated schema, chosen by a startup parameter in the URL. */
async function measurePostgres(flags: string[]): Promise<Row | string> {
  const schema = uniqueSchemaName();
  const store = await openStore({ databaseUrl: PG_URL, dataDir: '', schema, poolSize: 1 });
  try {
    await store.migrate();
  } catch (err) {
    await store.close().catch(() => {});
    return `PostgreSQL row skipped: ${PG_URL} unreachable (${(err as Error).message})`;
  }
  await store.close();
  try {
    const url = new URL(PG_URL);
    // `options` is a libpq startup parameter: every connection of the node uses this schema.
    url.searchParams.set('options', `-c search_path=${schema}`);
    return await measure('postgresql', flags, { DATABASE_URL: url.toString() });
  } finally {
    await dropSchema(PG_URL, schema);
  }
}

async function main(): Promise<void> {
  const flags = await startFlags();
  const dataDir = await mkdtemp(join(os.tmpdir(), 'vexil-footprint-'));
  const rows: Row[] = [];
  let note: string | null = null;
  try {
    rows.push(await measure('embedded, first start', flags, { VEXIL_DATA_DIR: dataDir }));
    rows.push(await measure('embedded, restart', flags, { VEXIL_DATA_DIR: dataDir }));
    const pg = await measurePostgres(flags);
    if (typeof pg === 'string') note = pg;
    else rows.push(pg);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }

  console.log(`node ${flags.join(' ')} dist/src/main.js, idle ${IDLE_S} s after /_readiness; target ≤ ${TARGET_MB} MB for embedded`);
  console.log('node                    RSS MB   peak MB   heap used MB   external MB   ready s');
  for (const r of rows) {
    console.log(
      `${r.node.padEnd(22)} ${String(r.rss_mb).padStart(6)} ${String(r.peak_rss_mb).padStart(9)} ${String(r.heap_used_mb).padStart(14)} ${String(r.external_mb).padStart(13)} ${String(r.ready_s).padStart(9)}`,
    );
  }
  if (note) console.log(note);
  const embedded = rows.filter((r) => r.node.startsWith('embedded'));
  console.log(
    JSON.stringify({
      scenario: 'idle RSS after start',
      idle_s: IDLE_S,
      node_flags: flags,
      rows,
      note,
      embedded_within_target: embedded.every((r) => r.rss_mb <= TARGET_MB),
      node: process.version,
      cpu: os.cpus()[0]?.model ?? 'unknown',
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
