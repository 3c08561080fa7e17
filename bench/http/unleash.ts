/**
 * @module bench/http/unleash
 * Unleash for the HTTP benchmark: installs unleash-server 7.5.x into a directory of its own when
 * missing (never into the project's dependencies), creates the 50-toggle equivalent of the
 * fixture project through Unleash's admin API, and builds frontend-API requests.
 *
 * Mapping (the same one the engine benchmark's unleash-client peer uses, bench/peers/unleash.ts):
 * each PostHog flag is a toggle in project `default`, enabled in `development`; each release
 * condition is a `flexibleRollout` strategy (rollout = the condition's percentage, stickiness
 * `default` = userId, groupId = the flag key) whose constraints are the condition's person
 * filters (exact → IN, is_not → NOT_IN, icontains → STR_CONTAINS case-insensitive, regex →
 * REGEX, gt/gte/lt → NUM_GT/NUM_GTE/NUM_LT); a cohort is one segment per OR branch, and a
 * condition on a cohort one strategy per branch; multivariate variants are strategy variants
 * with weights ×10 (Unleash weights sum to 1000), all but the last of weight type "fix" so the
 * server keeps the fixture's split instead of spreading it evenly. The benchmark checks the
 * result: the frontend API's answers must equal unleash-client's offline evaluation.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import type { ProjectDefs } from '../../src/engine/index.ts';
import type { BenchUser } from '../fixtures/fifty-flag-project.ts';
import { toUnleashBootstrap } from '../peers/unleash.ts';
import { UNLEASH_ADMIN_TOKEN, UNLEASH_FRONTEND_TOKEN } from './unleash-worker.ts';
import { pool, requestJson } from './vexil-admin.ts';

/** The unleash-server release line the benchmark runs (7.5.x runs on Node 20; later ones need 22). */
export const UNLEASH_SPEC = 'unleash-server@7.5';

/** The installed unleash-server version in `dir`, or null. */
export function installedUnleash(dir: string): string | null {
  const pkg = join(dir, 'node_modules', 'unleash-server', 'package.json');
  if (!existsSync(pkg)) return null;
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}

/**
 * Installs unleash-server 7.5.x into `dir` (its own package.json, `npm install --no-save`) when
 * it is not there yet; says so through `say`. Returns the installed version.
 */
export function ensureUnleash(dir: string, say: (line: string) => void): string {
  const current = installedUnleash(dir);
  if (current?.startsWith('7.5.')) return current;
  say(`unleash-server 7.5.x is not installed in ${dir}: installing it there (npm install --no-save ${UNLEASH_SPEC}; once, about a minute)…`);
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, 'package.json'))) {
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'vexil-bench-unleash', private: true, description: 'unleash-server for npm run bench:http; not a project dependency' }, null, 2)}\n`);
  }
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error', UNLEASH_SPEC], { cwd: dir, encoding: 'utf8' });
  const version = installedUnleash(dir);
  if (r.status !== 0 || !version) throw new Error(`npm install ${UNLEASH_SPEC} failed:\n${r.stdout}\n${r.stderr}`);
  say(`  unleash-server ${version} installed.`);
  return version;
}

/** Creates the segments and the 50 toggles of `defs` in Unleash's `default` project. */
export async function createUnleashProject(base: string, defs: ProjectDefs): Promise<number> {
  const auth = { authorization: UNLEASH_ADMIN_TOKEN };
  const { data, segments } = toUnleashBootstrap(defs);
  const segmentIds = new Map<number, number>();
  for (const s of segments) {
    const created = (await requestJson(`${base}/api/admin/segments`, { method: 'POST', headers: auth, body: { name: s.name, constraints: s.constraints } })) as { id: number };
    segmentIds.set(s.id, created.id);
  }
  type Variant = { name: string; weight: number; weightType: string; stickiness: string };
  type Strategy = { name: string; parameters: Record<string, string>; constraints: unknown[]; segments: number[]; variants?: Variant[] };
  // unleash-server spreads the weight of every "variable" variant evenly (and wants at least one):
  // all but the last are "fix" so the weights stay the fixture's; the last gets the remainder.
  const keepWeights = (variants: Variant[] | undefined) =>
    variants?.map((v, i) => ({ ...v, weightType: i === variants.length - 1 ? 'variable' : 'fix' }));
  await pool(data, 4, async (toggle) => {
    const name = String(toggle.name);
    const features = `${base}/api/admin/projects/default/features`;
    await requestJson(features, { method: 'POST', headers: auth, body: { name, type: toggle.type, impressionData: false } });
    for (const s of toggle.strategies as Strategy[]) {
      await requestJson(`${features}/${name}/environments/development/strategies`, {
        method: 'POST',
        headers: auth,
        body: { ...s, segments: s.segments.map((id) => segmentIds.get(id) ?? id), ...(s.variants ? { variants: keepWeights(s.variants) } : {}) },
      });
    }
    if (toggle.enabled) await requestJson(`${features}/${name}/environments/development/on`, { method: 'POST', headers: auth });
  });
  return data.length;
}

/** The frontend-API request target for `user`: userId plus every property as a context field. */
export function frontendTarget(user: BenchUser): string {
  const params = new URLSearchParams({ userId: user.distinctId });
  for (const [k, v] of Object.entries(user.properties)) if (k !== 'distinct_id') params.set(k, String(v));
  return `/api/frontend?${params.toString()}`;
}

export { UNLEASH_FRONTEND_TOKEN };

/**
 * The enabled toggle names (with variant) the frontend API gives `user`, on a new connection
 * each time (so successive calls reach different cluster workers).
 */
export function frontendAnswer(port: number, user: BenchUser): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: frontendTarget(user), agent: false, headers: { authorization: UNLEASH_FRONTEND_TOKEN }, timeout: 10_000 },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`GET /api/frontend → ${res.statusCode}: ${text.slice(0, 300)}`));
          const body = JSON.parse(text) as { toggles: { name: string; enabled: boolean; variant?: { name: string; enabled: boolean } }[] };
          resolve(body.toggles.filter((t) => t.enabled).map((t) => (t.variant?.enabled ? `${t.name}=${t.variant.name}` : t.name)).sort());
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('GET /api/frontend timed out')));
    req.on('error', reject);
  });
}
