// Coverage gate for the pure core (STYLE §10): runs the engine's unit tests with node's coverage
// and fails when src/engine falls below the gate. Comment and import lines count as uncovered in
// node 20's source-mapped line figures, so the gate is on functions and branches.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const GATE = { functions: 95, branches: 85 };
const files = [];
const walk = (p) => {
  if (statSync(p).isDirectory()) for (const e of readdirSync(p).sort()) walk(join(p, e));
  else if (p.endsWith('.test.ts')) files.push(p);
};
walk('test/unit/engine');
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--enable-source-maps', '--experimental-test-coverage', '--test', '--test-reporter=tap', ...files],
  { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
);
const out = `${r.stdout}${r.stderr}`;
if (r.status !== 0) {
  process.stdout.write(out);
  console.error('engine coverage: the engine tests failed');
  process.exit(1);
}
// Rows look like: "# src/engine/evaluate.ts | 97.82 | 96.90 | 100.00 | 1-6"
let lines = 0, branches = 0, functions = 0, n = 0;
for (const row of out.split('\n')) {
  const m = /^# (src\/engine\/\S+)\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)/.exec(row);
  if (!m) continue;
  n++;
  lines += Number(m[2]);
  branches += Number(m[3]);
  functions += Number(m[4]);
}
if (n === 0) {
  console.error('engine coverage: no coverage rows for src/engine in the test output');
  process.exit(1);
}
const avg = (x) => Math.round((x / n) * 10) / 10;
const result = { files: n, lines: avg(lines), branches: avg(branches), functions: avg(functions) };
const ok = result.functions >= GATE.functions && result.branches >= GATE.branches;
console.log(`engine coverage (mean over ${n} files): functions ${result.functions}%, branches ${result.branches}%, lines ${result.lines}% — gate: functions ≥ ${GATE.functions}%, branches ≥ ${GATE.branches}%: ${ok ? 'ok' : 'BELOW GATE'}`);
process.exit(ok ? 0 : 1);
