// Flags as code with the real binary against a running Vexil: export a project as YAML, apply it
// to another project (dry run, then for real, then again: nothing to do), field diffs, --prune,
// and invalid files refused with line and field before anything is written.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createProject, startTestApp, type TestApp, type TestProject } from '../http/http-helpers.ts';
import { runVexil } from '../../helpers/cli.ts';

describe('vexil export / import (flags as code)', () => {
  let t: TestApp;
  let env: Record<string, string>;
  let dir: string;
  let source: string;
  let target: TestProject;
  const ok = async (...args: string[]) => {
    const r = await runVexil(args, env);
    assert.equal(r.code, 0, `vexil ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await t.app.server.inject({ method: method as 'GET', url: path, headers: { authorization: `Bearer ${t.personalKey}`, 'content-type': 'application/json' }, payload: body === undefined ? undefined : JSON.stringify(body) });
    assert.ok(res.statusCode < 300, `${method} ${path}: ${res.body}`);
    return JSON.parse(res.body);
  };

  before(async () => {
    t = await startTestApp('postgres');
    const url = await t.app.server.listen({ port: 0, host: '127.0.0.1' });
    env = { VEXIL_URL: url, VEXIL_KEY: t.personalKey };
    dir = await mkdtemp(join(tmpdir(), 'vexil-code-'));
    source = String(t.project.id);
    target = await createProject(t.store, 'target');
    const base = `/api/projects/${source}`;
    const pros = await api('POST', `${base}/cohorts/`, { name: 'pros', filters: { properties: { type: 'OR', values: [{ type: 'AND', values: [{ key: 'plan', type: 'person', operator: 'exact', value: ['pro'] }] }] } } });
    await api('POST', `${base}/cohorts/`, { name: 'pro-or-admin', filters: { properties: { type: 'OR', values: [{ type: 'AND', values: [{ key: 'id', type: 'cohort', value: pros.id }] }, { type: 'AND', values: [{ key: 'role', type: 'person', operator: 'exact', value: ['admin'] }] }] } } });
    await api('POST', `${base}/cohorts/`, { name: 'beta-testers', is_static: true });
    const base_flag = await api('POST', `${base}/feature_flags/`, { key: 'checkout', name: 'New checkout', filters: { groups: [{ properties: [], rollout_percentage: 30 }] }, tags: ['web'] });
    await api('POST', `${base}/feature_flags/`, {
      key: 'pricing',
      filters: {
        groups: [{ properties: [{ key: 'id', type: 'cohort', value: pros.id }], rollout_percentage: 100 }],
        multivariate: { variants: [{ key: 'control', rollout_percentage: 50 }, { key: 'cheap', rollout_percentage: 50 }] },
        payloads: { cheap: '{"discount":20}' },
      },
    });
    await api('POST', `${base}/feature_flags/`, { key: 'checkout-extras', filters: { groups: [{ properties: [{ key: String(base_flag.id), type: 'flag', operator: 'flag_evaluates_to', value: true }], rollout_percentage: 100 }] }, ensure_experience_continuity: true });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
    await t.close();
  });

  test('export: sorted, ids replaced by names and keys, stable', async () => {
    const yaml = await ok('export', '--project', source);
    assert.equal(await ok('export', '--project', source), yaml, 'the same file twice');
    const file = parse(yaml);
    assert.equal(file.version, 1);
    assert.deepEqual(file.flags.map((f: { key: string }) => f.key), ['checkout', 'checkout-extras', 'pricing']);
    assert.deepEqual(file.cohorts.map((c: { name: string }) => c.name), ['beta-testers', 'pro-or-admin', 'pros']);
    assert.equal(file.flags[2].filters.groups[0].properties[0].value, 'pros');
    assert.equal(file.flags[1].filters.groups[0].properties[0].key, 'checkout');
    assert.equal(file.cohorts[1].filters.properties.values[0].values[0].value, 'pros');
    assert.deepEqual(Object.keys(file.flags[0]), ['key', 'name', 'active', 'ensure_experience_continuity', 'evaluation_runtime', 'bucketing_identifier', 'tags', 'evaluation_tags', 'filters']);
    assert.doesNotMatch(yaml, /\bid:/);
    await writeFile(join(dir, 'flags.yaml'), yaml);
  });

  test('import into another project: dry run writes nothing, then apply, then nothing to do; export matches', async () => {
    const file = join(dir, 'flags.yaml');
    const p = String(target.id);
    const dry = await ok('import', file, '--project', p, '--dry-run');
    assert.match(dry, /^\+ cohort pros$/m);
    assert.match(dry, /^\+ flag checkout-extras$/m);
    assert.match(dry, /Plan: 6 to create, 0 to change, 0 unchanged, 0 to delete\./);
    assert.match(dry, /Dry run: nothing was written\./);
    assert.equal((await t.store.listFlags(target.id, { limit: 10, offset: 0 })).count, 0);

    assert.match(await ok('import', file, '--project', p), /Applied to project/);
    const again = await ok('import', file, '--project', p);
    assert.match(again, /Plan: 0 to create, 0 to change, 6 unchanged, 0 to delete\./);
    assert.match(again, /Nothing to do\./);
    const exported = await ok('export', '--project', p);
    assert.equal(exported, await ok('export', '--project', source), 'the target now exports the same file');
  });

  test('a changed file shows field diffs; --prune deletes what the file leaves out', async () => {
    const file = parse(await ok('export', '--project', String(target.id)));
    file.flags[0].filters.groups[0].rollout_percentage = 55;
    file.flags[0].name = 'Checkout v2';
    file.flags = file.flags.filter((f: { key: string }) => f.key !== 'pricing');
    const changed = join(dir, 'changed.yaml');
    await writeFile(changed, (await import('yaml')).stringify(file));
    const p = String(target.id);
    const plan = await ok('import', changed, '--project', p);
    assert.match(plan, /^~ flag checkout$/m);
    assert.match(plan, /^ {4}name: "New checkout" → "Checkout v2"$/m);
    assert.match(plan, /^ {4}filters\.groups\[0\]\.rollout_percentage: 30 → 55$/m);
    assert.doesNotMatch(plan, /- flag pricing/, 'no deletion without --prune');
    const pruned = await ok('import', changed, '--project', p, '--prune');
    assert.match(pruned, /^- flag pricing$/m);
    assert.match(pruned, /Plan: 0 to create, 0 to change, 5 unchanged, 1 to delete\./);
    assert.doesNotMatch(await ok('flag', 'list', '--project', p), /pricing/);
  });

  test('invalid files are refused with line and field, before anything is written', async () => {
    const p = String(target.id);
    const before = await ok('export', '--project', p);
    const cases: [string, RegExp][] = [
      ['version: 1\nflags:\n  - key: a\n    filters:\n      groups:\n        - properties: []\n          rollout_percentage: 150\n', /bad\.yaml:7: flags\[0\]\.filters\.groups\[0\]\.rollout_percentage: .*100/],
      ['version: 1\nflags:\n  - key: ok-flag\n    filters: { groups: [] }\n  - key: "bad key"\n    filters: { groups: [] }\n', /bad\.yaml:5: flags\[1\]\.key: only letters/],
      ['version: 1\nflags:\n  - key: a\n    filters:\n      groups:\n        - properties:\n            - { key: id, type: cohort, value: nobody }\n', /bad\.yaml:7: flags\[0\]\.filters\.groups\[0\]\.properties\[0\]\.value: "nobody" is not a cohort name/],
      ['version: 1\nflags:\n  - key: a\n    colour: red\n    filters: { groups: [] }\n', /bad\.yaml:3: flags\[0\]: Unrecognized key: "colour"/],
      ['version: 1\nflags: [\n', /bad\.yaml:\d+: invalid YAML/],
      ['version: 2\n', /bad\.yaml:1: version: /],
    ];
    for (const [text, pattern] of cases) {
      const bad = join(dir, 'bad.yaml');
      await writeFile(bad, text);
      const r = await runVexil(['import', bad, '--project', p], env);
      assert.equal(r.code, 65, r.stderr);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    }
    assert.equal(await ok('export', '--project', p), before, 'nothing was written');
  });
});
