// `vexil import posthog` with the real binary, migrating from one running Vexil (which speaks
// PostHog's admin API) to another: flags with payloads, variants, dependencies, continuity and
// tags; dynamic and static cohorts with members; ids remapped; a second run changes nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../http/http-helpers.ts';
import { runVexil } from '../../helpers/cli.ts';

describe('vexil import posthog (Vexil → Vexil)', () => {
  let src: TestApp;
  let dst: TestApp;
  let srcUrl: string;
  let dstUrl: string;
  const api = async (t: TestApp, method: string, path: string, body?: unknown) => {
    const res = await t.app.server.inject({ method: method as 'GET', url: path, headers: { authorization: `Bearer ${t.personalKey}`, 'content-type': 'application/json' }, payload: body === undefined ? undefined : JSON.stringify(body) });
    assert.ok(res.statusCode < 300, `${method} ${path}: ${res.body}`);
    return JSON.parse(res.body);
  };

  before(async () => {
    src = await startTestApp('postgres');
    dst = await startTestApp('embedded');
    srcUrl = await src.app.server.listen({ port: 0, host: '127.0.0.1' });
    dstUrl = await dst.app.server.listen({ port: 0, host: '127.0.0.1' });
    const base = `/api/projects/${src.project.id}`;
    // Ids in the source differ from the target's: burn a few so remapping is really exercised.
    for (const key of ['filler-1', 'filler-2']) await api(src, 'POST', `${base}/feature_flags/`, { key, deleted: false });
    for (const key of ['filler-1', 'filler-2']) {
      const f = (await api(src, 'GET', `${base}/feature_flags/?search=${key}`)).results[0];
      await api(src, 'PATCH', `${base}/feature_flags/${f.id}/`, { deleted: true });
    }
    const pros = await api(src, 'POST', `${base}/cohorts/`, { name: 'pros', filters: { properties: { type: 'OR', values: [{ type: 'AND', values: [{ key: 'plan', type: 'person', operator: 'exact', value: ['pro'] }] }] } } });
    await api(src, 'POST', `${base}/cohorts/`, { name: 'pros-or-admins', filters: { properties: { type: 'OR', values: [{ type: 'AND', values: [{ key: 'id', type: 'cohort', value: pros.id }] }, { type: 'AND', values: [{ key: 'role', type: 'person', operator: 'exact', value: ['admin'] }] }] } } });
    const vips = await api(src, 'POST', `${base}/cohorts/`, { name: 'vips', is_static: true });
    await api(src, 'PATCH', `${base}/cohorts/${vips.id}/add_persons_to_static_cohort/`, { distinct_ids: ['vip-1', 'vip-2'] });
    const main = await api(src, 'POST', `${base}/feature_flags/`, { key: 'checkout', name: 'Checkout', filters: { groups: [{ properties: [], rollout_percentage: 40 }], payloads: { true: '{"v":2}' } }, tags: ['web', 'team-a'], ensure_experience_continuity: true });
    await api(src, 'POST', `${base}/feature_flags/`, {
      key: 'pricing',
      filters: {
        groups: [{ properties: [{ key: 'id', type: 'cohort', value: pros.id }], rollout_percentage: 100, variant: 'cheap' }],
        multivariate: { variants: [{ key: 'control', rollout_percentage: 50 }, { key: 'cheap', rollout_percentage: 50 }] },
        payloads: { cheap: '{"discount":20}' },
      },
    });
    await api(src, 'POST', `${base}/feature_flags/`, { key: 'vip-lounge', filters: { groups: [{ properties: [{ key: 'id', type: 'cohort', value: vips.id }], rollout_percentage: 100 }] } });
    await api(src, 'POST', `${base}/feature_flags/`, { key: 'checkout-extras', active: false, filters: { groups: [{ properties: [{ key: String(main.id), type: 'flag', operator: 'flag_evaluates_to', value: true }], rollout_percentage: 100 }] } });
  });
  after(async () => {
    await src.close();
    await dst.close();
  });

  const migrate = (...extra: string[]) =>
    runVexil(['import', 'posthog', '--host', srcUrl, '--key', src.personalKey, '--project-id', String(src.project.id), '--url', dstUrl, '--vexil-key', dst.personalKey, ...extra]);
  const exportOf = async (url: string, key: string, project: number) => {
    const r = await runVexil(['export', '--project', String(project)], { VEXIL_URL: url, VEXIL_KEY: key });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };

  test('copies flags and cohorts into a new project; the two export the same file', async () => {
    const dry = await migrate('--dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /Plan: 7 to create/);
    assert.equal((await dst.store.listProjects()).length, 1, 'a dry run creates no project');

    const r = await migrate();
    assert.equal(r.code, 0, r.stderr);
    const created = /created project (\d+)/.exec(r.stdout);
    assert.ok(created, r.stdout);
    const target = Number(created[1]);
    assert.match(r.stdout, /cohort vips: 2 member distinct ids copied/);
    assert.equal(await exportOf(dstUrl, dst.personalKey, target), await exportOf(srcUrl, src.personalKey, src.project.id));

    // Static members arrived: the flag on the static cohort is on for them in the target.
    await dst.app.notifyDefinitionsChanged(target);
    const token = (await dst.store.getProject(target))!.apiToken;
    const flags = await dst.app.server.inject({ method: 'POST', url: '/flags?v=2', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ token, distinct_id: 'vip-2' }) });
    assert.equal(JSON.parse(flags.body).flags['vip-lounge'].enabled, true);

    const again = await migrate('--to-project', String(target));
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /Plan: 0 to create, 0 to change, 7 unchanged, 0 to delete\./);
  });

  test('errors are one line: unreachable source, wrong source key, missing options', async () => {
    const bad = await runVexil(['import', 'posthog', '--host', srcUrl, '--key', 'phx_wrong', '--project-id', String(src.project.id), '--url', dstUrl, '--vexil-key', dst.personalKey]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^vexil: GET \/api\/projects\/\d+\/(feature_flags|cohorts)\/\?limit=1000 failed with 401/);
    const usage = await runVexil(['import', 'posthog', '--host', srcUrl, '--key', src.personalKey, '--url', dstUrl, '--vexil-key', dst.personalKey]);
    assert.equal(usage.code, 64);
    assert.match(usage.stderr, /--project-id is required/);
  });
});
