// Table-driven evaluation cases (test/compat/cases/evaluation.json): one named test per row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { buildPersonProperties, compileSnapshot, evaluateFlags } from '../../../src/engine/index.ts';
import type { CohortDef, EvaluationContext, FlagDef } from '../../../src/engine/index.ts';

interface Row {
  name: string;
  flags: FlagDef[];
  cohorts?: CohortDef[];
  groupTypeMapping?: Record<string, string>;
  context: Record<string, unknown> & { distinctId: string };
  expected: Record<string, Record<string, unknown> | null>;
  expectedInconclusive?: boolean;
  expectedErrors?: boolean;
}

const { cases } = JSON.parse(readFileSync(new URL('../../compat/cases/evaluation.json', import.meta.url), 'utf8')) as { cases: Row[] };
const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);

export function contextOf(row: Row): EvaluationContext {
  const c = row.context;
  const loaded = c.storedDataLoaded !== false;
  const overrides = typeof c.personPropertiesJson === 'string' ? JSON.parse(c.personPropertiesJson) : (c.personProperties ?? {});
  return {
    distinctId: c.distinctId,
    personProperties: buildPersonProperties(null, overrides as Record<string, unknown>, c.distinctId, loaded),
    groups: (c.groups ?? {}) as Record<string, unknown>,
    groupProperties: (c.groupProperties ?? {}) as Record<string, Record<string, unknown>>,
    storedDataLoaded: loaded,
    staticCohorts: new Set((c.staticCohorts ?? []) as number[]),
    hashKeyOverrides: new Map(Object.entries((c.hashKeyOverrides ?? {}) as Record<string, string>)),
    anonDistinctId: c.anonDistinctId as string | undefined,
    deviceId: c.deviceId as string | undefined,
    flagKeys: c.flagKeys as string[] | undefined,
    runtime: c.runtime as EvaluationContext['runtime'],
    evaluationContexts: c.evaluationContexts as string[] | undefined,
    now: NOW,
  };
}

for (const row of cases) {
  test(row.name, () => {
    const snapshot = compileSnapshot({ flags: row.flags, cohorts: row.cohorts ?? [], groupTypeMapping: row.groupTypeMapping ?? {} });
    const result = evaluateFlags(snapshot, contextOf(row));
    const byKey = new Map(result.flags.map((f) => [f.key, f]));
    for (const [key, expected] of Object.entries(row.expected)) {
      const got = byKey.get(key);
      if (expected === null) {
        assert.equal(got, undefined, `${key} should be absent`);
        continue;
      }
      assert.ok(got, `${key} missing from result`);
      for (const [field, value] of Object.entries(expected)) {
        assert.deepEqual((got as unknown as Record<string, unknown>)[field], value, `${key}.${field}`);
      }
    }
    if (row.expectedInconclusive !== undefined) assert.equal(result.inconclusive, row.expectedInconclusive, 'inconclusive');
    assert.equal(result.errors, row.expectedErrors ?? false, 'errors');
  });
}

test('stopAtInconclusive: same verdict; same flags when conclusive, none when inconclusive', () => {
  let stopped = 0;
  for (const row of cases) {
    const snapshot = compileSnapshot({ flags: row.flags, cohorts: row.cohorts ?? [], groupTypeMapping: row.groupTypeMapping ?? {} });
    const full = evaluateFlags(snapshot, contextOf(row));
    const probe = evaluateFlags(snapshot, { ...contextOf(row), stopAtInconclusive: true });
    assert.equal(probe.inconclusive, full.inconclusive, row.name);
    if (!full.inconclusive) {
      assert.deepEqual(probe.flags, full.flags, row.name);
      continue;
    }
    stopped++;
    assert.deepEqual(probe.flags, [], row.name);
  }
  assert.ok(stopped > 0, 'some table rows are inconclusive');
});
