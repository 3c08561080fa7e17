/**
 * @module test/helpers/flag-generator
 * Seeded, reproducible random PostHog projects (flags, cohorts, group types) in Vexil's stored
 * form, plus random users, for the differential test and any other property-style test.
 *
 * Everything generated stays inside what PostHog's server and posthog-node's local evaluator
 * define identically; the places where they differ are left out on purpose (see the list in
 * test/compat/differential.test.ts). The same seed always gives the same project.
 */
import type { CohortDef, ConditionDef, FlagDef, ProjectDefs, PropertyFilterDef } from '../../src/engine/types.ts';
import { mulberry32 } from './rng.ts';

/** A small deterministic PRNG (mulberry32) with the helpers the generator needs. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

export function createRng(seed: number): Rng {
  const next = mulberry32(seed);
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  return { next, int, pick: (items) => items[int(0, items.length - 1)], chance: (p) => next() < p };
}

/** One request: what a caller passes to posthog-node and, identically, to Vexil. */
export interface GeneratedUser {
  distinctId: string;
  /** Includes `distinct_id`, as posthog-node adds it and the server injects it (spec §6.1). */
  personProperties: Record<string, unknown>;
  groups: Record<string, string | number>;
  /** One bag for every group in `groups` (possibly empty). */
  groupProperties: Record<string, Record<string, unknown>>;
}

export interface GeneratedProject {
  seed: number;
  /** Stored form: flag dependencies reference the dependency's id (spec §5.8). */
  defs: ProjectDefs;
  users: GeneratedUser[];
}

export interface GenerateOptions {
  flags?: number;
  users?: number;
  cohorts?: number;
  /** The clock that relative dates in user properties are anchored to (ms). */
  now: number;
}

type Kind = 'email' | 'text' | 'enum' | 'number' | 'bool' | 'date' | 'version';
type Filter = { operator: string | null | undefined; value?: unknown };

/** Keys avoid the `$initial_*` back-fill list (§6.1) and `$group_key`, which only the SDK adds. */
const PERSON_KEYS: Record<string, Kind> = {
  email: 'email', name: 'text', plan: 'enum', country: 'enum', age: 'number', score: 'number',
  is_beta: 'bool', signup_date: 'date', last_seen: 'date', app_version: 'version',
};
const GROUP_KEYS: Record<string, Kind> = {
  industry: 'enum', name: 'text', employees: 'number', founded: 'date', sdk_version: 'version',
};
export const GROUP_TYPE_MAPPING: Readonly<Record<number, string>> = { 0: 'company', 1: 'project' };

const DAY = 86_400_000;
/** Days before `now`; every one sits ≥ 0.3 day away from each relative filter boundary below. */
const DATE_OFFSETS_DAYS = [0.2, 2.5, 5, 10, 20, 50, 120, 250, 500, 1000, 3000, -3, -400];
const VALUES: Record<Exclude<Kind, 'date'>, readonly unknown[]> = {
  email: ['alice@example.com', 'Bob@Example.COM', 'carol+x@test.io', 'dave@EXAMPLE.org', 'élise@exemple.fr',
    'ZOË@example.com', 'eve@sub.example.com', 'not-an-email', '', null],
  text: ['Alice', 'ALICE', 'alice', 'Ärger', 'ärger', 'ÉCOLE', 'école', 'Zoë', 'straße', 'José', "O'Brien",
    'a b c', '42', '4.5', 4.5, true, false, 'null', null, '😀 smile', '用户'],
  enum: ['free', 'Free', 'PRO', 'pro', 'enterprise', 'Enterprise', 'US', 'us', 'DE', 'fr', ''],
  number: [0, 1, 17, 18, 21, 42, 99, 100, -5, 4.5, -1.25, 18.5, 99.99, 0.1, '42', '18', '3.50', '-7', '1e2', '007', '0.5', null],
  bool: [true, false, 'true', 'false', 'TRUE', 'False', 1, 0, 'yes', null],
  version: ['1.2.3', '1.2.10', '1.3.0', '2.0.0', '0.9.12', '0.0.3', '0.0.4', '10.1.0', '1.2', '3', 'v1.4.0',
    '1.10.0', 'not-a-version', null],
};
const ABSOLUTE_DATES = ['2019-05-20T10:00:00Z', '2023-06-01', '2024-02-29T23:59:59.500Z',
  '2024-12-31T22:00:00-02:00', '2026-01-01T00:00:00Z'];

const REGEXES: Record<Kind, readonly string[]> = {
  email: ['^[a-z]+@example\\.com$', '@(example|test)\\.', '\\.io$', '[A-Z]', '^$', '(abc', '[a-', ''],
  text: ['^[A-Z]', 'ice$', '\\d', '^\\w+$', 'a.c', '\\s', '^(alice|bob)$'],
  enum: ['^(free|pro)$', '^[A-Z]{2}$', 'ter', '^$'],
  number: ['^\\d{2}$', '^[0-9]+(\\.[0-9]+)?$', '^-', 'e'],
  bool: ['^t', 'rue$'],
  date: ['^20'],
  version: ['^1\\.', '\\.0$', '^\\d+\\.\\d+\\.\\d+$'],
};
const CONTAINS: Record<Kind, readonly unknown[]> = {
  email: ['@example.com', 'EXAMPLE', 'test.io', 'é', 'ALICE'], text: ['li', 'ÄR', 'a', ' ', 'null', '4'],
  enum: ['pr', 'E', 'us'], number: ['2', '.', '1'], bool: ['t', 'RUE'], date: ['20'], version: ['.0', '1.'],
};
const RELATIVE_DATES = ['-7d', '30d', '-12h', '36h', '-1d', '-2w', '-1m', '-3m', '6m', '-1y', '2y'];
const SEMVER_FILTERS = ['1.2.3', '2.0.0', '0.9', '1', '1.10.0', '0.0.3', 'v1.3.0'];
const ROLLOUTS = [null, 100, 0, 50, 25, 75, 33.3, 99.9, 0.5, 10, 66.67, undefined] as const;
const VARIANT_KEYS = ['control', 'test', 'test-2', 'alt-B'];
const SPLITS = [[50, 50], [10, 90], [33.33, 66.67], [34, 33, 33], [33.33, 33.33, 33.34], [25, 25, 25, 25], [70, 10, 10, 10]];
const PAYLOADS = ['{"color":"blue","n":1}', '"hello"', '42', '[1,2,"x"]', 'plain text', 'true', 7, [1, 2], '{"nested":{"a":[]}}'];
const DISTINCT_IDS = ['user', 'Ünïcødé', '😀', '用户', 'some-distinct-id', 'UPPER-Case', 'a', 'id with spaces'];
const GROUP_KEY_VALUES = ['acme', 'Globex', 'initech', '😀corp', 'umbrella', 42, 7];

function recase(rng: Rng, v: unknown): unknown {
  if (typeof v !== 'string') return v;
  return rng.pick([v, v, v.toUpperCase(), v.toLowerCase()]);
}

function dateValue(rng: Rng, now: number): unknown {
  if (rng.chance(0.05)) return null;
  if (rng.chance(0.3)) return rng.pick(ABSOLUTE_DATES);
  return new Date(now - rng.pick(DATE_OFFSETS_DAYS) * DAY).toISOString();
}

/** A property value of the key's kind (numbers as date values are excluded, spec §5.6). */
function propertyValue(rng: Rng, kind: Kind, now: number): unknown {
  return kind === 'date' ? dateValue(rng, now) : rng.pick(VALUES[kind]);
}

/** An operator and filter value that both sides define identically for this kind of key. */
function filterFor(rng: Rng, kind: Kind): Filter {
  const r = rng.next();
  if (r < 0.08) return { operator: rng.pick(['is_set', 'is_not_set']) };
  if (r < 0.2 && kind !== 'date') return { operator: rng.pick(['regex', 'not_regex']), value: rng.pick(REGEXES[kind]) };
  if (r < 0.3 && kind !== 'date') return { operator: rng.pick(['icontains', 'not_icontains']), value: recase(rng, rng.pick(CONTAINS[kind])) };
  switch (kind) {
    case 'number':
      // No exact/is_not here: the SDK is silently inconclusive on integer property values there
      // (§5 `str(x)`), and may then answer from a later condition where the server would not.
      return { operator: rng.pick(['gt', 'gte', 'lt', 'lte']), value: rng.pick([18, '21', 42.5, 0, -1.5, '100', 99.99, '4.5', 7]) };
    case 'bool':
      return { operator: rng.pick(['exact', 'exact', 'is_not']), value: rng.pick([true, false, 'true', 'FALSE', ['true'], ['false'], [], ['true', 'false']]) };
    case 'date':
      return {
        operator: rng.pick(['is_date_before', 'is_date_after']),
        value: rng.chance(0.6) ? rng.pick(RELATIVE_DATES) : rng.pick(['2024-01-15', '2023-06-01T12:00:00Z', '2025-03-01T00:00:00+02:00', '2020-01-01']),
      };
    case 'version': {
      const op = rng.pick(['semver_eq', 'semver_neq', 'semver_gt', 'semver_gte', 'semver_lt', 'semver_lte', 'semver_tilde', 'semver_caret', 'semver_wildcard', 'exact']);
      if (op === 'semver_wildcard') return { operator: op, value: rng.pick(['1.*', '1.2.*', '0.*', '10.*', '0.0.*']) };
      if (op === 'exact') return { operator: op, value: rng.pick(['1.2.3', ['1.2.3', '2.0.0']]) };
      return { operator: op, value: rng.pick(SEMVER_FILTERS) };
    }
    default: {
      const pool = VALUES[kind].filter((v) => v !== null);
      const value = rng.chance(0.3) ? [recase(rng, rng.pick(pool)), recase(rng, rng.pick(pool))] : recase(rng, rng.pick(pool));
      return { operator: rng.pick<string | null | undefined>(['exact', 'exact', 'exact', 'is_not', 'is_not', null, undefined]), value };
    }
  }
}

function propertyFilter(rng: Rng, keys: Record<string, Kind>, groupTypeIndex?: number): PropertyFilterDef {
  const key = rng.chance(0.05) && groupTypeIndex === undefined ? 'distinct_id' : rng.pick(Object.keys(keys));
  const f = filterFor(rng, key === 'distinct_id' ? 'text' : keys[key]);
  const out: PropertyFilterDef = groupTypeIndex === undefined ? { key, type: 'person' } : { key, type: 'group', group_type_index: groupTypeIndex };
  if (f.operator !== undefined) out.operator = f.operator;
  if ('value' in f) out.value = f.value;
  return out;
}

function generateCohorts(rng: Rng, count: number): CohortDef[] {
  const cohorts: CohortDef[] = [];
  for (let i = 0; i < count; i++) {
    const id = 100 + i;
    const inner = Array.from({ length: rng.int(1, 3) }, () => ({
      type: rng.pick(['AND', 'OR']),
      values: Array.from({ length: rng.int(1, 3) }, () => i > 0 && rng.chance(0.2)
        ? { key: 'id', type: 'cohort', value: 100 + rng.int(0, i - 1), negation: rng.chance(0.3) }
        : { ...propertyFilter(rng, PERSON_KEYS), negation: rng.chance(0.2) }),
    }));
    cohorts.push({ id, name: `cohort-${id}`, is_static: false, filters: { properties: { type: rng.pick(['AND', 'OR']), values: inner } } });
  }
  return cohorts;
}

function dependencyFilter(rng: Rng, prior: readonly FlagDef[]): PropertyFilterDef {
  const dep = rng.pick(prior);
  const variants = dep.filters.multivariate?.variants.map((v) => v.key) ?? [];
  return { key: String(dep.id), type: 'flag', operator: 'flag_evaluates_to', value: rng.pick<unknown>([true, false, ...variants]) };
}

function generateCondition(rng: Rng, flagAgg: number | null, prior: readonly FlagDef[], cohorts: readonly CohortDef[], variants: readonly string[]): ConditionDef {
  const condition: ConditionDef = {};
  // Per-condition group aggregation only on person flags (§4.2); the SDK reads a group flag's
  // explicit-null condition from the group bag, the server from the person bag.
  let agg = flagAgg;
  if (flagAgg === null && rng.chance(0.06)) condition.aggregation_group_type_index = agg = rng.int(0, 1);
  const properties: PropertyFilterDef[] = [];
  for (let n = rng.pick([0, 1, 1, 2, 2, 3]); n > 0; n--) {
    const r = rng.next();
    if (agg !== null) properties.push(propertyFilter(rng, GROUP_KEYS, agg));
    else if (r < 0.12 && cohorts.length > 0) properties.push({ key: 'id', type: 'cohort', value: rng.pick(cohorts).id, operator: rng.pick(['in', 'in', 'not_in', null]) });
    else if (r < 0.26 && prior.length > 0) properties.push(dependencyFilter(rng, prior));
    else properties.push(propertyFilter(rng, PERSON_KEYS));
  }
  if (properties.length > 0 || rng.chance(0.5)) condition.properties = properties;
  const rollout = rng.pick(ROLLOUTS);
  if (rollout !== undefined) condition.rollout_percentage = rollout === 33.3 ? rng.int(1, 9999) / 100 : rollout;
  if (variants.length > 0 && rng.chance(0.35)) condition.variant = rng.chance(0.1) ? 'no-such-variant' : rng.pick(variants);
  return condition;
}

function generateFlag(rng: Rng, index: number, prior: readonly FlagDef[], cohorts: readonly CohortDef[]): FlagDef {
  const id = 1 + index;
  const agg = rng.chance(0.15) ? rng.int(0, 1) : null;
  const split = rng.chance(0.35) ? rng.pick(SPLITS) : [];
  const variants = split.map((pct, i) => ({ key: VARIANT_KEYS[i], name: null, rollout_percentage: pct }));
  const keys = variants.map((v) => v.key);
  const groups = Array.from({ length: rng.chance(0.03) ? 0 : rng.int(1, 4) },
    () => generateCondition(rng, agg, agg === null ? prior : [], agg === null ? cohorts : [], keys));
  const payloads: Record<string, unknown> = {};
  // Falsy payloads are left out: the SDK reads `payloads[key] || null`.
  for (const k of keys.length > 0 ? keys : ['true']) if (rng.chance(0.4)) payloads[k] = rng.pick(PAYLOADS);
  // Holdouts only on person flags: the server's answer for a group flag without its group is unconfirmed.
  const holdout = agg === null && rng.chance(0.05) ? { id: rng.int(1, 50), exclusion_percentage: rng.pick([0, 10, 20, 50, 100]) } : null;
  if (holdout && rng.chance(0.5)) payloads[`holdout-${holdout.id}`] = '{"holdout":true}';
  return {
    id,
    key: `${rng.pick(['beta', 'new-ui', 'checkout', 'Dark_Mode', 'exp'])}-${index}`,
    name: null,
    active: rng.chance(0.95),
    deleted: false,
    ensure_experience_continuity: false,
    version: 1,
    filters: {
      groups,
      multivariate: variants.length > 0 ? { variants } : null,
      aggregation_group_type_index: agg,
      payloads,
      ...(holdout ? { holdout } : {}),
      // Drawn last so the rest of a flag is generated as before; posthog-node honours it locally.
      ...(rng.chance(0.25) ? { early_exit: true } : {}),
    },
  };
}

function generateUser(rng: Rng, now: number): GeneratedUser {
  const distinctId = `${rng.pick(DISTINCT_IDS)}-${rng.int(0, 99_999)}`;
  const personProperties: Record<string, unknown> = { distinct_id: distinctId };
  for (const [key, kind] of Object.entries(PERSON_KEYS)) if (rng.chance(0.82)) personProperties[key] = propertyValue(rng, kind, now);
  const groups: Record<string, string | number> = {};
  const groupProperties: Record<string, Record<string, unknown>> = {};
  for (const name of Object.values(GROUP_TYPE_MAPPING)) {
    if (!rng.chance(0.6)) continue;
    groups[name] = rng.pick(GROUP_KEY_VALUES);
    const bag: Record<string, unknown> = {};
    for (const [key, kind] of Object.entries(GROUP_KEYS)) if (rng.chance(0.8)) bag[key] = propertyValue(rng, kind, now);
    groupProperties[name] = bag;
  }
  return { distinctId, personProperties, groups, groupProperties };
}

/**
 * Generates one project from `seed`: `flags` flags (dependencies only point at earlier, existing
 * flags, so there are no cycles: with a missing dependency the SDK skips just that condition
 * while the server answers `missing_dependency` for the whole flag), `cohorts` dynamic cohorts (nested AND/OR
 * groups, negation, cohorts inside earlier cohorts) and `users` users. Pure: same seed and `now`,
 * same output.
 */
export function generateProject(seed: number, options: GenerateOptions): GeneratedProject {
  const rng = createRng(seed);
  const cohorts = generateCohorts(rng, options.cohorts ?? 6);
  const flags: FlagDef[] = [];
  for (let i = 0; i < (options.flags ?? 50); i++) flags.push(generateFlag(rng, i, flags, cohorts));
  const users = Array.from({ length: options.users ?? 25 }, () => generateUser(rng, options.now));
  return { seed, defs: { flags, cohorts, groupTypeMapping: GROUP_TYPE_MAPPING, timezone: 'UTC' }, users };
}
