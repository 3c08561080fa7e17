// Fuzz: thousands of random and mutated requests (seeded, bounded) at every endpoint. Each must
// answer below 500, with a JSON or plain-text body, within a deadline; the process must survive.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { STORE_KINDS, addFlag, rollout, startTestApp, type TestApp } from './http-helpers.ts';
import { mulberry32 } from '../../helpers/rng.ts';

/** Requests per store kind; VEXIL_FUZZ_COUNT raises it for a longer local run. */
const COUNT = Number(process.env.VEXIL_FUZZ_COUNT ?? 2500);
const SEED = Number(process.env.VEXIL_FUZZ_SEED ?? 0x5eed);
const DEADLINE_MS = 5000;

/** Percent-encodes every byte (lone surrogates included, which encodeURIComponent rejects). */
const enc = (s: string) => [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');


class Gen {
  constructor(readonly rnd: () => number) {}
  int(n: number): number {
    return Math.floor(this.rnd() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  string(): string {
    const alphabets = ['abc', 'distinct_id', '😀', '\u0000', '"', '\\', '{', '%', '=', ' ', 'ü', '\ud800', 'phc_', 'NaN'];
    let s = '';
    for (let i = this.int(12); i > 0; i--) s += this.pick(alphabets);
    return s;
  }
  value(depth = 0): unknown {
    switch (this.int(depth > 4 ? 5 : 8)) {
      case 0: return null;
      case 1: return this.rnd() < 0.5;
      case 2: return this.pick([0, -1, 1.5, 1e308, -0, 2 ** 53 + 1, 123456789]);
      case 3: return this.string();
      case 4: return this.pick(['', 'true', 'false', 'control', '2024-01-01', '1.2.3']);
      case 5: return Array.from({ length: this.int(4) }, () => this.value(depth + 1));
      default: {
        const o: Record<string, unknown> = {};
        for (let i = this.int(5); i > 0; i--) o[this.pick(['a', 'email', '$set', '__proto__', 'constructor', this.string()])] = this.value(depth + 1);
        return o;
      }
    }
  }
}

const FIELDS = ['token', 'api_key', '$token', 'distinct_id', '$distinct_id', 'person_properties', '$properties', 'groups', '$groups',
  'group_properties', '$anon_distinct_id', '$device_id', 'flag_keys_to_evaluate', 'flag_keys', 'evaluation_contexts',
  'evaluation_runtime', 'disable_flags', 'geoip_disable', 'timezone'];

describe('fuzz', () => {
  for (const kind of STORE_KINDS) {
    describe(`every endpoint survives random and mutated input (${kind} store)`, () => {
      let t: TestApp;
      before(async () => {
        t = await startTestApp(kind, { VEXIL_BODY_LIMIT_BYTES: String(64 * 1024), VEXIL_DECOMPRESSED_LIMIT_BYTES: String(256 * 1024) });
        const pid = t.project.id;
        await t.store.ensureGroupTypeIndex(pid, 'company');
        await addFlag(t, pid, 'rollout', rollout(50));
        await addFlag(t, pid, 'email', { groups: [{ properties: [{ key: 'email', type: 'person', operator: 'regex', value: '^a.*@x\\.com$' }] }] });
        await addFlag(t, pid, 'group', { aggregation_group_type_index: 0, groups: [{ properties: [{ key: 'tier', type: 'group', group_type_index: 0, operator: 'gt', value: 3 }] }] });
        await addFlag(t, pid, 'multi', { groups: [{}], multivariate: { variants: [{ key: 'a', rollout_percentage: 50 }, { key: 'b', rollout_percentage: 50 }] } }, { ensureExperienceContinuity: true });
      });
      after(async () => t.close());

      test(`${COUNT} requests, seed ${SEED}`, async () => {
        const g = new Gen(mulberry32(SEED + (kind === 'postgres' ? 1 : 0)));
        const validBody = () => ({
          token: t.project.token,
          distinct_id: g.pick(['u1', 'anon', 42, '']),
          person_properties: { email: g.pick(['a@x.com', 'b@y.org']) },
          groups: { company: g.pick(['acme', 7, '']) },
          $anon_distinct_id: g.rnd() < 0.2 ? 'anon-x' : undefined,
        });
        const makeBody = (): Buffer | string => {
          switch (g.int(9)) {
            case 0: return JSON.stringify(g.value());
            case 1: {
              const o: Record<string, unknown> = { token: g.rnd() < 0.7 ? t.project.token : g.string() };
              for (let i = g.int(6); i > 0; i--) o[g.pick(FIELDS)] = g.value();
              return JSON.stringify(o);
            }
            case 2: {
              const bytes = Buffer.from(JSON.stringify(validBody()));
              for (let i = 1 + g.int(4); i > 0; i--) bytes[g.int(bytes.length)] = g.int(256);
              return bytes;
            }
            case 3: return JSON.stringify(validBody()).slice(0, g.int(80));
            case 4: return gzipSync(JSON.stringify(g.rnd() < 0.5 ? validBody() : g.value()));
            case 5: {
              const gz = gzipSync(JSON.stringify(validBody()));
              return gz.subarray(0, g.int(gz.length));
            }
            case 6: return Buffer.from(JSON.stringify(validBody())).toString('base64').slice(g.int(3));
            case 7: return Buffer.from(Array.from({ length: g.int(200) }, () => g.int(256)));
            default: return `${'['.repeat(g.int(300))}${JSON.stringify(validBody())}`;
          }
        };
        const contentTypes = ['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream', 'application/json; charset=utf-8', '', 'multipart/form-data; boundary=x'];
        const flagUrls = ['/flags', '/flags/', '/decide', '/decide/'];
        const queries = ['', '?v=2', '?v=1&config=true', '?v=3', '?v=4', '?compression=gzip', '?compression=base64', '?compression=zz', '?v=%ff', '?config=maybe', '?only_evaluate_survey_feature_flags=1', `?token=${t.project.token}`];
        const authHeaders = [undefined, `Bearer ${t.personalKey}`, `Bearer ${t.project.secret}`, `Bearer ${t.project.token}`, 'Bearer', 'Basic x', `Bearer ${'x'.repeat(5000)}`];
        const otherUrls = () => [
          `/flags/definitions?token=${g.pick([t.project.token, '', enc(g.string()), 'phc_x'])}${g.pick(['', '&send_cohorts'])}`,
          `/api/feature_flag/local_evaluation?token=${enc(g.string())}`,
          `/api/projects/${g.pick([String(t.project.id), '0', '-1', 'abc', '99999999999999999999', '@current'])}/feature_flags/local_evaluation/`,
          '/_liveness', '/_readiness', '/', '/metrics', `/${enc(g.string())}`,
          `/api/projects/${t.project.id}/feature_flags/`, `/api/projects/${t.project.id}/cohorts/`, '/api/projects/',
        ];

        for (let i = 0; i < COUNT; i++) {
          const toFlags = g.rnd() < 0.7;
          const method = toFlags ? g.pick(['POST', 'POST', 'POST', 'GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'] as const) : g.pick(['GET', 'GET', 'POST', 'PATCH', 'HEAD', 'OPTIONS'] as const);
          const url = toFlags ? g.pick(flagUrls) + g.pick(queries) : g.pick(otherUrls());
          const headers: Record<string, string> = {};
          const ct = g.pick(contentTypes);
          if (ct) headers['content-type'] = ct;
          if (g.rnd() < 0.1) headers['content-encoding'] = 'gzip';
          const auth = g.pick(authHeaders);
          if (auth) headers.authorization = auth;
          if (g.rnd() < 0.1) headers['if-none-match'] = g.pick(['*', 'W/"x"', '""', g.string()]);
          const payload = method === 'GET' || method === 'HEAD' ? undefined : makeBody();
          const what = `#${i} ${method} ${url} ${ct}`;
          let timer: NodeJS.Timeout | undefined;
          const res = await Promise.race([
            t.app.server.inject({ method, url, headers, payload }),
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => reject(new Error(`${what}: no answer within ${DEADLINE_MS} ms`)), DEADLINE_MS);
            }),
          ]).finally(() => clearTimeout(timer));
          assert.ok(res.statusCode < 500, `${what} → ${res.statusCode} ${res.body.slice(0, 300)}`);
          if (res.body === '') continue;
          const type = String(res.headers['content-type'] ?? '');
          if (type.startsWith('application/json')) assert.doesNotThrow(() => JSON.parse(res.body), `${what}: invalid JSON body`);
          else assert.ok(type.startsWith('text/plain'), `${what}: content-type ${type}`);
        }
        const alive = await t.app.server.inject({ method: 'GET', url: '/_liveness' });
        assert.equal(alive.statusCode, 200);
      });
    });
  }
});
