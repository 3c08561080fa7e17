/**
 * @module bench/peers/unleash
 * unleash-client fed the 50-flag project translated into Unleash toggles, offline via bootstrap.
 */
import { InMemStorageProvider, startUnleash, type Unleash } from 'unleash-client';
import type { FlagDef, ProjectDefs, PropertyFilterDef } from '../../src/engine/index.ts';
import type { BenchUser } from '../fixtures/fifty-flag-project.ts';
import { packageVersion, type FlagValue, type Peer } from './peer.ts';

interface Constraint { contextName: string; operator: string; values?: string[]; value?: string; caseInsensitive?: boolean; inverted?: boolean }
interface Segment { id: number; name: string; constraints: Constraint[] }

/** One PostHog person filter → one Unleash constraint. */
function constraintFor(f: PropertyFilterDef): Constraint {
  const v = f.value;
  const list = (Array.isArray(v) ? v : [v]).map(String);
  const base = { contextName: f.key, inverted: f.negation === true };
  switch (f.operator ?? 'exact') {
    case 'exact': return { ...base, operator: 'IN', values: list };
    case 'is_not': return { ...base, operator: 'NOT_IN', values: list };
    case 'icontains': return { ...base, operator: 'STR_CONTAINS', values: list, caseInsensitive: true };
    // unleash-client ≥ 6 evaluates REGEX constraints with re2js (unanchored find), like PostHog's search.
    case 'regex': return { ...base, operator: 'REGEX', value: String(v) };
    case 'gt': return { ...base, operator: 'NUM_GT', value: String(v) };
    case 'gte': return { ...base, operator: 'NUM_GTE', value: String(v) };
    case 'lt': return { ...base, operator: 'NUM_LT', value: String(v) };
    case 'lte': return { ...base, operator: 'NUM_LTE', value: String(v) };
    default: throw new Error(`no Unleash mapping for operator ${String(f.operator)}`);
  }
}

type Tree = { type: string; values: (Tree | PropertyFilterDef)[] };
const isTree = (v: Tree | PropertyFilterDef): v is Tree => 'values' in v;

/**
 * A cohort as OR-ed branches of AND-ed constraints. A segment can only AND its constraints, so
 * each OR branch becomes its own segment (and the flag condition one strategy per branch).
 */
function cohortBranches(tree: Tree): Constraint[][] {
  const flat = (t: Tree): Constraint[] => {
    if (t.type === 'OR' && t.values.length > 1) throw new Error('nested OR in a cohort has no Unleash mapping');
    return t.values.flatMap((v) => (isTree(v) ? flat(v) : [constraintFor(v)]));
  };
  if (tree.type === 'OR') return tree.values.map((v) => (isTree(v) ? flat(v) : [constraintFor(v)]));
  return [flat(tree)];
}

function segmentsFor(defs: ProjectDefs): { segments: Segment[]; byCohort: Map<number, number[]> } {
  const segments: Segment[] = [];
  const byCohort = new Map<number, number[]>();
  for (const cohort of defs.cohorts) {
    const tree = (cohort.filters as { properties: Tree }).properties;
    const ids = cohortBranches(tree).map((constraints, i) => {
      const id = cohort.id * 10 + i;
      segments.push({ id, name: `${cohort.name ?? cohort.id} #${i}`, constraints });
      return id;
    });
    byCohort.set(cohort.id, ids);
  }
  return { segments, byCohort };
}

/** PostHog conditions (OR-ed, first match wins) → flexibleRollout strategies (same). */
function toggleFor(flag: FlagDef, byCohort: Map<number, number[]>): Record<string, unknown> {
  const variants = flag.filters.multivariate?.variants?.map((v) => ({
    name: v.key,
    weight: Math.round(v.rollout_percentage * 10),
    weightType: 'variable',
    stickiness: 'default',
  }));
  const strategies = (flag.filters.groups ?? []).flatMap((c) => {
    const props = c.properties ?? [];
    const cohort = props.find((p) => p.type === 'cohort');
    const constraints = props.filter((p) => p.type !== 'cohort').map(constraintFor);
    const parameters = { rollout: String(c.rollout_percentage ?? 100), stickiness: 'default', groupId: flag.key };
    const segmentChoices = cohort ? (byCohort.get(Number(cohort.value)) ?? []).map((id) => [id]) : [[]];
    return segmentChoices.map((segments) => ({ name: 'flexibleRollout', parameters, constraints, segments, ...(variants ? { variants } : {}) }));
  });
  return { name: flag.key, type: variants ? 'experiment' : 'release', enabled: flag.active, stale: false, impressionData: false, strategies, variants: [] };
}

/** The Unleash bootstrap (toggles + segments) equivalent to the PostHog project. */
export function toUnleashBootstrap(defs: ProjectDefs): { data: Record<string, unknown>[]; segments: Segment[] } {
  const { segments, byCohort } = segmentsFor(defs);
  return { data: defs.flags.map((f) => toggleFor(f, byCohort)), segments };
}

/**
 * Timed path: `unleash.isEnabled(key, ctx)` for boolean toggles and `unleash.getVariant(key, ctx)`
 * for multivariate ones, with `ctx = { userId, properties }`. The client starts from a
 * bootstrap with `refreshInterval: 0` (never fetches), `disableMetrics` and an in-memory store;
 * its URL points at a closed port and is never contacted.
 */
export async function createUnleashPeer(defs: ProjectDefs): Promise<Peer> {
  const bootstrap = toUnleashBootstrap(defs);
  const unleash: Unleash = await startUnleash({
    appName: 'vexil-bench',
    url: 'http://127.0.0.1:9/api/',
    refreshInterval: 0,
    disableMetrics: true,
    storageProvider: new InMemStorageProvider(),
    bootstrap: bootstrap as never,
    skipInstanceCountWarning: true,
  });
  unleash.on('error', (err: unknown) => {
    throw new Error(`unleash-client reported an error during the benchmark: ${String(err)}`);
  });
  const keys = defs.flags.map((f) => f.key);
  const isVariant = defs.flags.map((f) => (f.filters.multivariate?.variants?.length ?? 0) > 0);
  const n = keys.length;
  const valueOf = (i: number, ctx: { userId: string; properties: BenchUser['properties'] }): FlagValue => {
    if (!isVariant[i]) return unleash.isEnabled(keys[i], ctx);
    const v = unleash.getVariant(keys[i], ctx);
    return v.feature_enabled ? (v.enabled ? v.name : true) : false;
  };
  return {
    name: `unleash-client ${packageVersion('unleash-client')}`,
    path: 'unleash.isEnabled(key, ctx) × 40 + unleash.getVariant(key, ctx) × 10',
    async: false,
    evaluate(user: BenchUser) {
      const ctx = { userId: user.distinctId, properties: user.properties };
      let on = 0;
      for (let i = 0; i < n; i++) {
        if (isVariant[i]) {
          if (unleash.getVariant(keys[i], ctx).enabled) on++;
        } else if (unleash.isEnabled(keys[i], ctx)) on++;
      }
      return on;
    },
    async values(user) {
      const ctx = { userId: user.distinctId, properties: user.properties };
      const out: Record<string, FlagValue> = {};
      for (let i = 0; i < n; i++) out[keys[i]] = valueOf(i, ctx);
      return out;
    },
    close: async () => unleash.destroy(),
  };
}
