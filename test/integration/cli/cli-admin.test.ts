// The real `vexil` binary against a running Vexil over HTTP: --help everywhere, project, key,
// flag, cohort and eval commands, tables and --json, one-line errors with non-zero exits.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { startTestApp, type TestApp } from '../http/http-helpers.ts';
import { runVexil } from '../../helpers/cli.ts';

describe('vexil CLI over the admin API', () => {
  let t: TestApp;
  let env: Record<string, string>;
  const vexil = (...args: string[]) => runVexil(args, env);
  const ok = async (...args: string[]) => {
    const r = await vexil(...args);
    assert.equal(r.code, 0, `vexil ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    t = await startTestApp('postgres');
    const url = await t.app.server.listen({ port: 0, host: '127.0.0.1' });
    env = { VEXIL_URL: url, VEXIL_KEY: t.personalKey };
    await t.store.applyPersonUpdates(t.project.id, [{ distinctId: 'stored-pro', set: { plan: 'pro' } }]);
  });
  after(async () => t.close());

  test('--help works for vexil and every command, without a server or a key', async () => {
    for (const args of [['--help'], ['-h'], ['help'], ['help', 'flag'], ['flag', '--help'], ['flag', 'create', '--help'], ['project', '--help'], ['key', '--help'], ['cohort', '--help'], ['eval', '--help'], ['export', '--help'], ['import', '--help'], ['serve', '--help'], ['migrate', '--help']]) {
      const r = await runVexil(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, /Usage/, args.join(' '));
    }
  });

  test('project list and create: a table, then --json', async () => {
    const created = await ok('project', 'create', 'Shop');
    assert.match(created, /project token:\s+phc_/);
    assert.match(created, /secret key:\s+phs_/);
    const table = await ok('project', 'list');
    const [header, ...rows] = table.trim().split('\n');
    assert.match(header!, /^ID\s+NAME\s+TOKEN\s+TIMEZONE$/);
    assert.ok(rows.some((r) => /\bShop\b/.test(r)));
    const json = JSON.parse(await ok('project', 'list', '--json')) as { name: string }[];
    assert.ok(json.some((p) => p.name === 'Shop'));
  });

  test('flag create, list, get, enable/disable, rollout, delete — by key, project by id or name', async () => {
    const p = String(t.project.id);
    assert.match(await ok('flag', 'create', 'new-checkout', '--project', p, '--rollout', '30', '--name', 'New checkout'), /created flag new-checkout/);
    await ok('flag', 'create', 'pro-only', '--project', p, '--filters', JSON.stringify({ groups: [{ properties: [{ key: 'plan', type: 'person', operator: 'exact', value: ['pro'] }], rollout_percentage: 100 }] }));
    const list = await ok('flag', 'list', '--project', p);
    assert.match(list, /new-checkout\s+yes\s+30%/);
    assert.match(list, /pro-only\s+yes\s+1 condition/);
    assert.match(await ok('flag', 'disable', 'new-checkout', '--project', p), /new-checkout: disabled/);
    assert.equal((JSON.parse(await ok('flag', 'get', 'new-checkout', '--project', p, '--json')) as { active: boolean }).active, false);
    await ok('flag', 'enable', 'new-checkout', '--project', p);
    assert.match(await ok('flag', 'rollout', 'new-checkout', '75', '--project', p), /rolled out to 75%/);
    const got = await ok('flag', 'get', 'new-checkout', '--project', p);
    assert.match(got, /active:\s+true/);
    assert.match(got, /rollout:\s+75%/);
    const projectName = (await t.store.getProject(t.project.id))!.name;
    assert.match(await ok('flag', 'list', '--project', projectName), /new-checkout/);
    await ok('flag', 'create', 'short-lived', '--project', p);
    assert.match(await ok('flag', 'delete', 'short-lived', '--project', p), /short-lived: deleted/);
    assert.doesNotMatch(await ok('flag', 'list', '--project', p), /short-lived/);
  });

  test('eval prints each flag with its value, reason and why; stored properties count', async () => {
    const p = String(t.project.id);
    await ok('flag', 'create', 'everyone', '--project', p);
    const out = await ok('eval', '--project', p, '--distinct-id', 'u1', '--prop', 'plan=pro');
    assert.match(out.split('\n')[0]!, /^FLAG\s+VALUE\s+REASON\s+WHY$/);
    assert.match(out, /pro-only\s+true\s+condition_match #0\s+Matched condition set 1/);
    assert.match(out, /everyone\s+true\s+condition_match/);
    const stored = JSON.parse(await ok('eval', '--project', p, '--distinct-id', 'stored-pro', '--json')) as { flags: Record<string, { enabled: boolean }> };
    assert.equal(stored.flags['pro-only']!.enabled, true);
    const free = await ok('eval', '--project', p, '--distinct-id', 'u2', '--prop', 'plan=free', '--flag', 'pro-only');
    assert.match(free, /pro-only\s+false\s+no_condition_match/);
    assert.doesNotMatch(free, /everyone/);
  });

  test('key create, list, revoke; cohort list and get', async () => {
    const created = await ok('key', 'create', 'ci', '--scope', 'feature_flag:read', '--json');
    const key = JSON.parse(created) as { id: string; value: string };
    assert.match(key.value, /^phx_/);
    assert.match(await ok('key', 'list'), /\bci\b.*feature_flag:read/);
    const readOnly = await runVexil(['flag', 'list', '--project', String(t.project.id)], { ...env, VEXIL_KEY: key.value });
    assert.equal(readOnly.code, 0, readOnly.stderr);
    assert.match(await ok('key', 'revoke', String(key.id)), /revoked/);
    const revoked = await runVexil(['flag', 'list', '--project', String(t.project.id)], { ...env, VEXIL_KEY: key.value });
    assert.equal(revoked.code, 1);

    await t.store.createCohort(t.project.id, { name: 'pros', isStatic: false, filters: { properties: { type: 'OR', values: [{ type: 'AND', values: [{ key: 'plan', type: 'person', value: 'pro' }] }] } } }, 'test');
    assert.match(await ok('cohort', 'list', '--project', String(t.project.id)), /pros\s+person_property/);
    assert.match(await ok('cohort', 'get', 'pros', '--project', String(t.project.id)), /"plan"/);
  });

  test('errors: one line on stderr, no stack, non-zero exit', async () => {
    // A port nothing listens on: bound, then released.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const closed = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
    await new Promise((resolve) => probe.close(resolve));
    const cases: [string[], Record<string, string>, number, RegExp][] = [
      [['flag', 'get', 'nope', '--project', String(t.project.id)], env, 1, /^vexil: no flag 'nope' in project \d+\n$/],
      [['flag', 'list'], env, 64, /--project is required/],
      [['flag', 'list', '--project', '999999'], env, 1, /GET \/api\/projects\/999999\/feature_flags\/\?limit=1000 failed with 404: Not found\./],
      [['project', 'list'], { VEXIL_URL: env.VEXIL_URL! }, 64, /no API key/],
      [['project', 'list'], { ...env, VEXIL_KEY: 'phx_wrong' }, 1, /failed with 401/],
      [['project', 'list'], { ...env, VEXIL_URL: closed }, 1, /cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/],
      [['flag', 'create', 'bad key!', '--project', String(t.project.id)], env, 65, /failed with 400: .*\(field key\)/],
      [['flag', 'rollout', 'everyone', '150', '--project', String(t.project.id)], env, 64, /percentage 0–100/],
      [['flag', 'frobnicate'], env, 64, /unknown flag command 'frobnicate'/],
      [['frobnicate'], env, 64, /unknown command 'frobnicate'/],
      [['flag', 'list', '--project'], env, 64, /--project needs a value/],
    ];
    for (const [args, e, code, pattern] of cases) {
      const r = await runVexil(args, e);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, pattern, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
  });
});
