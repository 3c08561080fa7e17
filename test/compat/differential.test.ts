/**
 * @module test/compat/differential.test
 * Differential test: Vexil's engine against posthog-node's own local evaluator on thousands of
 * seeded random flags and users. Every case the SDK answers conclusively must agree exactly.
 *
 * Seed: VEXIL_DIFF_SEED (default below), size: VEXIL_DIFF_PROJECTS (× 50 flags × 25 users).
 * VEXIL_DIFF_REPORT=<path> writes every mismatch as JSON (a failing-case list).
 *
 * Vexil follows PostHog's server. Where posthog-node 5.70 / @posthog/core 1.67.3 answer differently,
 * the case is kept out — by the generator (G) or skipped here (S, counted by reason):
 *  - gt/gte/lt/lte on non-numeric values: the SDK falls back to string comparison (§5.4). G: only
 *    numbers and strict numeric strings on numeric keys.
 *  - Numbers (and numeric strings) as date property values: SDK reads ms, server Unix seconds (§5.6).
 *    G: dates are ISO strings; naive date-times are avoided too (JS reads them in local time).
 *  - is_date_exact: the SDK does not know it (§5, §7.3). G: not generated.
 *  - Semver pre-releases, build metadata, a `V` prefix, leading/trailing whitespace, 4+ components
 *    (the SDK ignores the 4th), `1.*.*`/`*` wildcards (§5.5). G: plain X.Y.Z (and X.Y, X, `v`).
 *  - Integers in exact/is_not: the SDK refuses to decide (§5 `str(x)`) and, as that refusal is
 *    swallowed per condition, may answer from a later condition. G: no exact on numeric keys.
 *  - A filter value of null: server false (§5), SDK compares against "null". G: never generated.
 *  - property_matching_version 2 (§5.1): G: never sent, so both use the legacy boolean-like rule.
 *  - Regex syntax outside the SDK's portable subset and non-ASCII subjects (§5.3): the SDK itself
 *    asks the server. S: `inconclusive:regex`. G: patterns are simple, ASCII and valid in both.
 *  - Missing properties (§5.2): S: `inconclusive:missing_context`, and `missing_property` when the
 *    SDK consulted a missing key yet answered (it treats a missing key as unknown and can answer
 *    from a later condition, where the server reads "absent" and may match the earlier one).
 *  - Any other doubt the SDK swallows before answering, e.g. an invalid semver inside a dependency:
 *    the server reads that filter as false, so `flag_evaluates_to: false` (§5.8) or a negated
 *    cohort filter (§6.3) matches there, while the SDK skips the condition. S: `swallowed_inconclusive`.
 *  - `$group_key` (added by the SDK client only) and `$initial_*` back-fill (server only, §6.1):
 *    G: no such keys in filters; both sides get the same property bags, `distinct_id` included.
 *  - Empty group keys / distinct ids (server: skip condition / hash 0, §3, §4.2). G: never empty.
 *  - Super groups / feature enrollment (the SDK ignores them, §4.2), experience continuity and
 *    static cohorts (the SDK asks the server, §7.3), holdouts on group flags (unconfirmed). G.
 *  - Cohort or person filters in group-aggregated conditions, and an explicit-null condition
 *    aggregation on a group flag: the SDK reads the group bag, the server the person bag (§6.2). G.
 *  - Missing or cyclic flag dependencies: the SDK skips the condition, the server answers
 *    `missing_dependency` for the flag (§4.1). G: dependencies only point at earlier flags.
 *  - Falsy payloads (`0`, `false`, `""`): the SDK reads `payloads[k] || null`. G: not generated.
 *  - Inactive flags: the server omits them from /flags (§2), the SDK says false. S: `inactive`.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { compileSnapshot, evaluateFlags } from '../../src/engine/index.ts';
import type { FlagDef, FlagResult, ProjectDefs } from '../../src/engine/types.ts';
import { generateProject, type GeneratedUser } from '../helpers/flag-generator.ts';
import { createLocalEvaluator, toLocalEvaluationDefinitions, type LocalDefinitions } from '../helpers/posthog-local.ts';

const DEFAULT_SEED = 0x5eed_f1a6;
const SEED = process.env.VEXIL_DIFF_SEED ? Number(process.env.VEXIL_DIFF_SEED) >>> 0 : DEFAULT_SEED;
const PROJECTS = Number(process.env.VEXIL_DIFF_PROJECTS ?? 48);
const PRINTED_MISMATCHES = 10;

interface Mismatch {
  projectSeed: number;
  flag: FlagDef;
  /** The flag as posthog-node saw it (dependency keys rewritten, `dependency_chain` added). */
  sdkFlag: unknown;
  /** Stored definitions of the flags and cohorts it needs, transitively. */
  dependencies: FlagDef[];
  cohorts: ProjectDefs['cohorts'];
  user: GeneratedUser;
  posthogNode: { value: boolean | string; payload: unknown };
  vexil: { value: boolean | string | null; payload: unknown; reason: string | null; conditionIndex: number | null; failed: boolean } | null;
}

/** The flags and cohorts `flag` reaches through dependencies and (nested) cohort filters. */
function closure(flag: FlagDef, defs: ProjectDefs): { dependencies: FlagDef[]; cohorts: ProjectDefs['cohorts'] } {
  const flagIds = new Set<number>();
  const cohortIds = new Set<number>();
  const visitFilters = (filters: readonly { type?: string | null; key: string; value?: unknown }[]): void => {
    for (const p of filters) {
      if (p.type === 'flag' && !flagIds.has(Number(p.key))) {
        flagIds.add(Number(p.key));
        const dep = defs.flags.find((f) => f.id === Number(p.key));
        if (dep) visitFlag(dep);
      } else if (p.type === 'cohort' && !cohortIds.has(Number(p.value))) {
        cohortIds.add(Number(p.value));
        const cohort = defs.cohorts.find((c) => c.id === Number(p.value));
        const groups = (cohort?.filters as { properties?: { values?: { values?: [] }[] } } | undefined)?.properties?.values ?? [];
        for (const g of groups) visitFilters(g.values ?? []);
      }
    }
  };
  const visitFlag = (f: FlagDef): void => { for (const c of f.filters.groups ?? []) visitFilters(c.properties ?? []); };
  visitFlag(flag);
  return { dependencies: defs.flags.filter((f) => flagIds.has(f.id)), cohorts: defs.cohorts.filter((c) => cohortIds.has(c.id)) };
}

function vexilAnswer(r: FlagResult | undefined): Mismatch['vexil'] {
  if (r === undefined) return null;
  return { value: r.failed ? null : (r.variant ?? r.enabled), payload: r.payloadValue ?? null, reason: r.reason, conditionIndex: r.conditionIndex, failed: r.failed };
}

test('the harness reproduces the worked hashing examples of spec §3.4 through posthog-node', async () => {
  const flag = (key: string, rollout: number): FlagDef => ({ id: 1, key, active: true, filters: { groups: [{ properties: [], rollout_percentage: rollout }] } });
  const user = (distinctId: string): GeneratedUser => ({ distinctId, personProperties: { distinct_id: distinctId }, groups: {}, groupProperties: {} });
  for (const [key, id, rollout, expected] of [['beta-feature', 'some-distinct-id', 34, false], ['beta-feature', 'some-distinct-id', 35, true], ['test-flag', 'user-1', 1, true]] as const) {
    const local = await createLocalEvaluator(toLocalEvaluationDefinitions({ flags: [flag(key, rollout)], cohorts: [], groupTypeMapping: {} }));
    assert.deepEqual(await local.evaluate(key, user(id)), { conclusive: true, value: expected, payload: null });
    await local.close();
  }
});

test('Vexil agrees with posthog-node local evaluation on every conclusive random case', async () => {
  const now = Date.now();
  const skipped: Record<string, number> = {};
  const answers: Record<string, number> = {};
  const mismatches: Mismatch[] = [];
  let compared = 0;
  let flagCount = 0;
  const started = performance.now();

  for (let p = 0; p < PROJECTS; p++) {
    const projectSeed = (SEED + Math.imul(p, 0x9e3779b9)) >>> 0;
    const project = generateProject(projectSeed, { now });
    const snapshot = compileSnapshot(project.defs);
    const definitions: LocalDefinitions = toLocalEvaluationDefinitions(project.defs);
    const sdkFlags = new Map((definitions.flags as FlagDef[]).map((f) => [f.key, f]));
    const local = await createLocalEvaluator(definitions);
    flagCount += project.defs.flags.length;
    try {
      for (const user of project.users) {
        const result = evaluateFlags(snapshot, {
          distinctId: user.distinctId,
          personProperties: user.personProperties,
          groups: user.groups,
          groupProperties: user.groupProperties,
          storedDataLoaded: true,
          now,
        });
        const byKey = new Map(result.flags.map((r) => [r.key, r]));
        for (const flag of project.defs.flags) {
          if (!flag.active) {
            skipped.inactive = (skipped.inactive ?? 0) + 1;
            continue;
          }
          const sdk = await local.evaluate(flag.key, user);
          if (!sdk.conclusive) {
            skipped[sdk.reason] = (skipped[sdk.reason] ?? 0) + 1;
            continue;
          }
          compared++;
          const answer = sdk.value === false ? 'false' : sdk.value === true ? 'true' : 'variant';
          answers[answer] = (answers[answer] ?? 0) + 1;
          if (sdk.payload !== null) answers['with payload'] = (answers['with payload'] ?? 0) + 1;
          const vexil = vexilAnswer(byKey.get(flag.key));
          if (vexil !== null && vexil.value === sdk.value && isDeepStrictEqual(vexil.payload, sdk.payload)) continue;
          mismatches.push({
            projectSeed, flag, sdkFlag: sdkFlags.get(flag.key), ...closure(flag, project.defs), user,
            posthogNode: { value: sdk.value, payload: sdk.payload }, vexil,
          });
        }
      }
    } finally {
      await local.close();
    }
  }

  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const list = (counts: Record<string, number>): string => Object.entries(counts).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
  console.log(`differential: seed ${SEED} (VEXIL_DIFF_SEED), ${PROJECTS} projects, ${flagCount} flags, ${seconds} s`);
  console.log(`differential: skipped ${Object.values(skipped).reduce((a, b) => a + b, 0)} cases (${list(skipped)})`);
  console.log(`differential: posthog-node answers compared: ${list(answers)}`);
  for (const m of mismatches.slice(0, PRINTED_MISMATCHES)) console.log(`differential mismatch: ${JSON.stringify(m)}`);
  if (process.env.VEXIL_DIFF_REPORT) writeFileSync(process.env.VEXIL_DIFF_REPORT, JSON.stringify(mismatches, null, 2));
  console.log(`differential: compared ${compared} cases, ${mismatches.length} mismatches`);
  assert.ok(compared > 10_000 || PROJECTS < 10, `too few conclusive cases to mean anything: ${compared}`);
  assert.equal(mismatches.length, 0, `${mismatches.length} mismatches; reproduce with VEXIL_DIFF_SEED=${SEED}`);
});
