/**
 * @module test/integration/admin/flag-validation.test
 * Every feature-flag validation rule as a table row (body → status, code, attr, detail), with
 * PostHog's wording (posthog/api/feature_flag.py, spec §8), plus dependency rules on update.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { STORE_KINDS, assertDrfError, createCohort, createFlag, flagBody, openAdmin, type AdminHarness } from './admin-harness.ts';

interface Fixtures { cohort: number; behavioral: number; nestsBehavioral: number; activeFlag: number; inactiveFlag: number }
interface Row { name: string; body: (f: Fixtures) => Record<string, unknown>; code: string; attr: string | null; detail?: string | RegExp }

const prop = (p: Record<string, unknown>) => ({ groups: [{ properties: [p], rollout_percentage: 100 }] });
const mv = (variants: Array<[string, number]>, extra: Record<string, unknown> = {}) => ({
  groups: [{ properties: [], rollout_percentage: 100 }],
  multivariate: { variants: variants.map(([key, rollout_percentage]) => ({ key, rollout_percentage })) },
  ...extra,
});
const withFilters = (filters: unknown) => () => flagBody(`v-${Math.random().toString(36).slice(2, 10)}`, { filters });

const rows: Row[] = [
  { name: 'key with spaces', body: () => flagBody('bad key!'), code: 'invalid_key', attr: 'key', detail: 'Only letters, numbers, hyphens (-) & underscores (_) are allowed.' },
  { name: 'duplicate key', body: () => flagBody('existing-flag'), code: 'unique', attr: 'key', detail: 'There is already a feature flag with this key.' },
  { name: 'missing key', body: () => ({ name: 'x' }), code: 'required', attr: 'key', detail: 'This field is required.' },
  { name: 'numeric key', body: () => ({ key: 5 }), code: 'invalid_input', attr: 'key', detail: 'Not a valid string.' },
  { name: 'null name', body: () => flagBody('n1', { name: null }), code: 'null', attr: 'name' },
  { name: 'active not boolean', body: () => flagBody('n2', { active: 'yes' }), code: 'invalid_input', attr: 'active', detail: 'Must be a valid boolean.' },
  { name: 'tags not a list', body: () => flagBody('n3', { tags: 'a' }), code: 'invalid_input', attr: 'tags', detail: 'Expected a list of items but got type "str".' },
  { name: 'unknown runtime', body: () => flagBody('n4', { evaluation_runtime: 'edge' }), code: 'invalid_choice', attr: 'evaluation_runtime', detail: '"edge" is not a valid choice.' },
  { name: 'unknown bucketing identifier', body: () => flagBody('n5', { bucketing_identifier: 'email' }), code: 'invalid_choice', attr: 'bucketing_identifier' },
  { name: 'evaluation tags outside tags', body: () => flagBody('n6', { tags: ['a'], evaluation_tags: ['b'] }), code: 'invalid_input', attr: null, detail: 'Evaluation tags must be a subset of tags. Invalid evaluation tags: b' },
  { name: 'encrypted payloads on a flag that is not remote configuration', body: () => flagBody('n7', { has_encrypted_payloads: true }), code: 'invalid_input', attr: 'has_encrypted_payloads' },
  { name: 'filters not an object', body: withFilters([]), code: 'invalid_input', attr: 'filters', detail: 'Expected a dictionary of items but got type "list".' },
  { name: 'filters without groups', body: withFilters({ payloads: {} }), code: 'invalid_input', attr: 'filters', detail: 'filters.groups: this field is required.' },
  { name: 'empty groups on create', body: withFilters({ groups: [] }), code: 'invalid_input', attr: 'filters', detail: 'Feature flags must have at least one condition set (group).' },
  {
    name: 'unknown operator names its path',
    body: withFilters({ groups: [{ properties: [{ key: 'a', value: 'x' }, { key: 'b', value: 'y', operator: 'is_cool' }] }] }),
    code: 'invalid_input', attr: 'filters', detail: "filters.groups[0].properties[1].operator: unknown operator 'is_cool'",
  },
  { name: 'property without key', body: withFilters(prop({ value: 'x' })), code: 'invalid_input', attr: 'filters', detail: 'filters.groups[0].properties[0].key' },
  { name: 'rollout percentage as text', body: withFilters({ groups: [{ rollout_percentage: 'fifty' }] }), code: 'invalid_input', attr: 'filters', detail: 'filters.groups[0].rollout_percentage' },
  { name: 'group type index out of range', body: withFilters({ groups: [{}], aggregation_group_type_index: 7 }), code: 'invalid_input', attr: 'filters', detail: 'filters.aggregation_group_type_index' },
  { name: 'group property on a person flag', body: withFilters(prop({ key: 'plan', value: 'pro', type: 'group', group_type_index: 0 })), code: 'invalid_input', attr: 'filters', detail: 'Filters are not valid (can only use person, cohort, and flag properties)' },
  { name: 'person property on a group flag', body: withFilters({ ...prop({ key: 'email', value: 'x' }), aggregation_group_type_index: 0 }), code: 'invalid_input', attr: 'filters', detail: 'Filters are not valid (can only use group properties)' },
  { name: 'other group type on a group flag', body: withFilters({ ...prop({ key: 'plan', value: 'x', type: 'group', group_type_index: 1 }), aggregation_group_type_index: 0 }), code: 'invalid_input', attr: 'filters', detail: 'Filters are not valid (can only use group properties)' },
  { name: 'flag property with another operator', body: (f) => flagBody('n9', { filters: prop({ key: String(f.activeFlag), type: 'flag', operator: 'exact', value: true }) }), code: 'invalid_input', attr: 'filters', detail: "Flag properties must use the 'flag_evaluates_to' operator" },
  { name: 'variants not summing to 100', body: withFilters(mv([['a', 50], ['b', 40]])), code: 'invalid_input', attr: 'filters', detail: 'Invalid variant definitions: Variant rollout percentages must sum to 100.' },
  { name: 'duplicate variant keys', body: withFilters(mv([['a', 50], ['a', 50]])), code: 'invalid_input', attr: 'filters', detail: 'Variant keys must be unique.' },
  { name: 'variant without percentage', body: withFilters({ groups: [{}], multivariate: { variants: [{ key: 'a' }] } }), code: 'invalid_input', attr: 'filters', detail: 'filters.multivariate.variants[0].rollout_percentage' },
  { name: 'unknown variant override', body: withFilters({ ...mv([['a', 100]]), groups: [{ variant: 'z' }] }), code: 'invalid_input', attr: 'filters', detail: 'Filters are not valid (variant override does not exist)' },
  { name: 'regex with a number', body: withFilters(prop({ key: 'a', operator: 'regex', value: 5 })), code: 'invalid_value', attr: 'filters', detail: 'Invalid value for operator regex: 5' },
  { name: 'gt with a number', body: withFilters(prop({ key: 'a', operator: 'gt', value: 5 })), code: 'invalid_value', attr: 'filters', detail: 'Invalid value for operator gt: 5' },
  { name: 'icontains with a list', body: withFilters(prop({ key: 'a', operator: 'icontains', value: ['x'] })), code: 'invalid_value', attr: 'filters', detail: 'Invalid value for operator icontains: ["x"]' },
  { name: 'unparseable date', body: withFilters(prop({ key: 'd', operator: 'is_date_before', value: 'not a date' })), code: 'invalid_date', attr: 'filters', detail: 'Invalid date value: not a date' },
  { name: 'numeric date', body: withFilters(prop({ key: 'd', operator: 'is_date_after', value: 123 })), code: 'invalid_date', attr: 'filters' },
  { name: 'in on a person property', body: withFilters(prop({ key: 'a', operator: 'in', value: ['x'] })), code: 'invalid_operator', attr: 'filters', detail: "The 'in' operator is only valid for cohort properties, not 'person' properties." },
  { name: 'unknown cohort', body: withFilters(prop({ key: 'id', type: 'cohort', value: 999999 })), code: 'cohort_does_not_exist', attr: 'filters', detail: 'Cohort with id 999999 does not exist' },
  { name: 'non-numeric cohort id', body: withFilters(prop({ key: 'id', type: 'cohort', value: 'abc' })), code: 'cohort_does_not_exist', attr: 'filters' },
  { name: 'behavioral cohort', body: (f) => flagBody('n10', { filters: prop({ key: 'id', type: 'cohort', value: f.behavioral }) }), code: 'behavioral_cohort_found', attr: 'filters', detail: "Cohort 'Did purchase' with filters on events cannot be used in feature flags." },
  { name: 'cohort nesting a behavioral cohort', body: (f) => flagBody('n11', { filters: prop({ key: 'id', type: 'cohort', value: f.nestsBehavioral }) }), code: 'behavioral_cohort_found', attr: 'filters', detail: "Cohort 'Did purchase'" },
  { name: 'over 1000 values', body: withFilters(prop({ key: 'a', value: Array.from({ length: 1001 }, (_, i) => `v${i}`) })), code: 'invalid_input', attr: 'filters', detail: 'Property group expressions of type a cannot contain more than 1000 values.' },
  { name: 'payloads as a list', body: withFilters({ groups: [{}], payloads: ['x'] }), code: 'invalid_input', attr: 'filters', detail: 'Payloads must be passed as a dictionary' },
  { name: 'payload that is not JSON text', body: withFilters({ groups: [{}], payloads: { true: '{oops' } }), code: 'invalid_input', attr: 'filters', detail: 'Payload value is not valid JSON' },
  { name: 'boolean payload key other than true', body: withFilters({ groups: [{}], payloads: { yes: '1' } }), code: 'invalid_input', attr: 'filters', detail: "Payload keys must be 'true' for boolean flags" },
  { name: 'multivariate payload for no variant', body: withFilters(mv([['a', 100]], { payloads: { b: '1' } })), code: 'invalid_input', attr: 'filters', detail: 'Payload keys must match a variant key for multivariate flags' },
  { name: 'flag dependency by key', body: withFilters(prop({ key: 'existing-flag', type: 'flag', operator: 'flag_evaluates_to', value: true })), code: 'invalid_input', attr: 'filters', detail: "Flag dependencies must reference flag IDs (integers), not flag keys. Invalid reference: 'existing-flag'" },
  { name: 'flag dependency on a missing flag', body: withFilters(prop({ key: '999999', type: 'flag', operator: 'flag_evaluates_to', value: true })), code: 'invalid_input', attr: 'filters', detail: 'Flag dependency references non-existent flag with ID 999999' },
  { name: 'flag dependency on a disabled flag', body: (f) => flagBody('n12', { filters: prop({ key: String(f.inactiveFlag), type: 'flag', operator: 'flag_evaluates_to', value: true }) }), code: 'invalid_input', attr: 'filters', detail: /^Cannot create dependency on disabled flag 'inactive-dep' \(ID: \d+\)\. Flag dependencies must reference active flags only\.$/ },
];

const validRows: Array<{ name: string; body: (f: Fixtures) => Record<string, unknown> }> = [
  { name: 'dependency on an active flag', body: (f) => flagBody('ok-dep', { filters: prop({ key: String(f.activeFlag), type: 'flag', operator: 'flag_evaluates_to', value: 'variant-x' }) }) },
  { name: 'relative and absolute dates', body: () => flagBody('ok-dates', { filters: { groups: [{ properties: [{ key: 'd', operator: 'is_date_after', value: '-7d' }, { key: 'e', operator: 'is_date_before', value: '2024-01-31T10:00:00Z' }] }] } }) },
  { name: 'cohort by numeric string with not_in', body: (f) => flagBody('ok-cohort', { filters: prop({ key: 'id', type: 'cohort', value: String(f.cohort), operator: 'not_in' }) }) },
  { name: 'group flag with its group properties', body: () => flagBody('ok-group', { filters: { ...prop({ key: 'plan', value: 'pro', type: 'group', group_type_index: 2 }), aggregation_group_type_index: 2 } }) },
  { name: 'is_set without a value, semver and exact lists', body: () => flagBody('ok-ops', { filters: { groups: [{ properties: [{ key: 'a', operator: 'is_set' }, { key: 'v', operator: 'semver_gte', value: '1.2.0' }, { key: 'c', value: ['x', 'y'] }] }] } }) },
  { name: 'non-object payload values kept as is', body: () => flagBody('ok-payload', { filters: { groups: [{}], payloads: { true: 42 } } }) },
];

for (const kind of STORE_KINDS) {
  describe(`admin flag validation (${kind})`, () => {
    let h: AdminHarness;
    let pid: number;
    let P: string;
    const fx = {} as Fixtures;
    before(async () => {
      h = await openAdmin(kind);
      pid = (await h.makeProject('Validation')).id;
      P = `/api/projects/${pid}/feature_flags`;
      fx.cohort = (await createCohort(h, pid, 'Plain')).id;
      fx.behavioral = (await createCohort(h, pid, 'Did purchase', { properties: { type: 'AND', values: [{ type: 'behavioral', key: 'purchase', value: 'performed_event', event_type: 'events' }] } })).id;
      fx.nestsBehavioral = (await createCohort(h, pid, 'Wrapper', { properties: { type: 'AND', values: [{ type: 'cohort', key: 'id', value: fx.behavioral }] } })).id;
      fx.activeFlag = (await createFlag(h, pid, flagBody('existing-flag'))).id;
      fx.inactiveFlag = (await createFlag(h, pid, flagBody('inactive-dep', { active: false }))).id;
    });
    after(async () => h.close());

    for (const row of rows) {
      test(`rejects ${row.name}`, async () => {
        const before = h.notices.length;
        const res = await h.call('POST', `${P}/`, { body: row.body(fx) });
        assertDrfError(res, 400, { type: 'validation_error', code: row.code, attr: row.attr, detail: row.detail });
        assert.equal(h.notices.length, before, 'a rejected write sends no change notice');
      });
    }
    for (const row of validRows) {
      test(`accepts ${row.name}`, async () => {
        const res = await h.call('POST', `${P}/`, { body: row.body(fx) });
        assert.equal(res.status, 201, res.raw);
      });
    }

    test('unknown top-level fields are ignored, as DRF ignores them, on create and update', async () => {
      const res = await h.call('POST', `${P}/`, { body: flagBody('ignores-extras', { colour: 'red', analytics_dashboards: [1] }) });
      assert.equal(res.status, 201, res.raw);
      assert.equal(res.body.colour, undefined);
      const patched = await h.call('PATCH', `${P}/${res.body.id}/`, { body: { name: 'renamed', shade: 'blue' } });
      assert.equal(patched.status, 200, patched.raw);
      assert.equal(patched.body.name, 'renamed');
      assert.equal(patched.body.shade, undefined);
    });

    test('PATCH may leave groups empty; POST may not', async () => {
      const f = await createFlag(h, pid, flagBody('emptyable'));
      assert.equal((await h.call('PATCH', `${P}/${f.id}/`, { body: { filters: { groups: [] } } })).status, 200);
    });

    const dep = (id: number) => ({ groups: [{ properties: [{ key: String(id), type: 'flag', operator: 'flag_evaluates_to', value: true }] }] });

    test('a flag cannot depend on itself', async () => {
      const f = await createFlag(h, pid, flagBody('selfish'));
      assertDrfError(await h.call('PATCH', `${P}/${f.id}/`, { body: { filters: dep(f.id) } }), 400, { attr: 'filters', detail: "Feature flag 'selfish' cannot depend on itself" });
    });

    test('cycles anywhere in the dependency graph are refused', async () => {
      const a = await createFlag(h, pid, flagBody('cyc-a'));
      const b = await createFlag(h, pid, flagBody('cyc-b', { filters: dep(a.id) }));
      const c = await createFlag(h, pid, flagBody('cyc-c', { filters: dep(b.id) }));
      assertDrfError(await h.call('PATCH', `${P}/${a.id}/`, { body: { filters: dep(b.id) } }), 400, { attr: 'filters', detail: 'Circular dependency detected: cyc-a → cyc-b → cyc-a' });
      assertDrfError(await h.call('PATCH', `${P}/${a.id}/`, { body: { filters: dep(c.id) } }), 400, { detail: 'Circular dependency detected: cyc-a → cyc-c → cyc-b → cyc-a' });
      assertDrfError(await h.call('PUT', `${P}/${a.id}/`, { body: { key: 'cyc-a', filters: dep(c.id) } }), 400, { detail: 'Circular dependency detected' });
    });

    test('a flag others depend on cannot be deleted or disabled; a flag on a disabled one cannot be enabled', async () => {
      const base = await createFlag(h, pid, flagBody('dep-base'));
      const child = await createFlag(h, pid, flagBody('dep-child', { filters: dep(base.id) }));
      assertDrfError(await h.call('PATCH', `${P}/${base.id}/`, { body: { deleted: true } }), 400, {
        code: 'invalid_input', attr: null,
        detail: `Cannot delete this feature flag because other flags depend on it: dep-child (ID: ${child.id}). Please update or delete the dependent flags first.`,
      });
      assertDrfError(await h.call('PATCH', `${P}/${base.id}/`, { body: { active: false } }), 400, {
        attr: null, detail: `Cannot disable this feature flag because other flags depend on it: dep-child (ID: ${child.id}). Please update or disable the dependent flags first.`,
      });
      assert.equal((await h.call('PATCH', `${P}/${child.id}/`, { body: { active: false } })).status, 200);
      assert.equal((await h.call('PATCH', `${P}/${base.id}/`, { body: { active: false } })).status, 200);
      assertDrfError(await h.call('PATCH', `${P}/${child.id}/`, { body: { active: true } }), 400, {
        detail: `Cannot enable this feature flag because it depends on disabled flags: dep-base (ID: ${base.id}). Please enable the dependency flags first.`,
      });
      assert.equal((await h.call('PATCH', `${P}/${base.id}/`, { body: { deleted: true } })).status, 200, 'no active dependents any more');
    });

    test('renaming a key validates format and uniqueness', async () => {
      const f = await createFlag(h, pid, flagBody('renamable'));
      assertDrfError(await h.call('PATCH', `${P}/${f.id}/`, { body: { key: 'existing-flag' } }), 400, { code: 'unique', attr: 'key' });
      assertDrfError(await h.call('PATCH', `${P}/${f.id}/`, { body: { key: 'no/slash' } }), 400, { code: 'invalid_key', attr: 'key' });
      assert.equal((await h.call('PATCH', `${P}/${f.id}/`, { body: { key: 'renamable' } })).status, 200, 'its own key is fine');
    });
  });
}
