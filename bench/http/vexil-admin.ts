/**
 * @module bench/http/vexil-admin
 * Sets Vexil up for the HTTP benchmark through its public admin API, as an operator would:
 * a project, the fixture's cohorts and flags (cohort ids remapped to the ones the API assigns),
 * and a bulk person import.
 */
import type { FlagDef, ProjectDefs, PropertyFilterDef } from '../../src/engine/index.ts';
import type { BenchUser } from '../fixtures/fifty-flag-project.ts';

/** A JSON request to a local HTTP API; throws with the answer on a non-2xx status. */
export async function requestJson(url: string, init: { method: string; headers?: Record<string, string>; body?: unknown; rawBody?: string }): Promise<unknown> {
  const body = init.rawBody ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
  const res = await fetch(url, {
    method: init.method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
    body,
    signal: AbortSignal.timeout(120_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method} ${url} → ${res.status}: ${text.slice(0, 500)}`);
  return text === '' ? null : (JSON.parse(text) as unknown);
}

/** Runs `work` over `items` with at most `limit` in flight. */
export async function pool<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

/**
 * Runs `check` until it resolves, at most `attempts` times, `everyMs` apart; rethrows the last
 * failure. For answers that become right once every worker has heard of a change.
 */
export async function retry(check: () => Promise<unknown>, attempts: number, everyMs = 500): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await check();
      return;
    } catch (err) {
      if (attempt >= attempts) throw err;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }
}

/** Operators whose value PostHog's admin API (and so Vexil's) accepts only as a string. */
const STRING_VALUED = new Set(['gt', 'gte', 'lt', 'lte', 'regex', 'not_regex', 'icontains', 'not_icontains']);

/**
 * A flag's filters as the admin API takes them: cohort references rewritten through `cohortIds`,
 * numeric comparison values as strings (`"30"`, as PostHog's UI sends them; evaluation compares
 * them as numbers either way).
 */
export function remapCohorts(flag: FlagDef, cohortIds: Map<number, number>): FlagDef['filters'] {
  const remap = (p: PropertyFilterDef): PropertyFilterDef => {
    if (p.type === 'cohort') return { ...p, value: cohortIds.get(Number(p.value)) ?? p.value };
    if (STRING_VALUED.has(p.operator ?? '') && typeof p.value === 'number') return { ...p, value: String(p.value) };
    return p;
  };
  return {
    ...flag.filters,
    groups: (flag.filters.groups ?? []).map((g) => ({ ...g, properties: (g.properties ?? []).map(remap) })),
  };
}

export interface CreatedProject {
  id: number;
  token: string;
}

/**
 * Creates a project named `name` holding `defs` (cohorts first, then flags; `copies` > 1 repeats
 * the flag set with `-cN` key suffixes, e.g. 4 × 50 = 200 flags).
 */
export async function createProject(base: string, key: string, name: string, defs: ProjectDefs, copies = 1): Promise<CreatedProject> {
  const auth = { authorization: `Bearer ${key}` };
  const project = (await requestJson(`${base}/api/projects/`, { method: 'POST', headers: auth, body: { name } })) as { id: number; api_token: string };
  const cohortIds = new Map<number, number>();
  for (const c of defs.cohorts) {
    const created = (await requestJson(`${base}/api/projects/${project.id}/cohorts/`, {
      method: 'POST',
      headers: auth,
      body: { name: c.name ?? `cohort ${c.id}`, is_static: false, filters: c.filters },
    })) as { id: number };
    cohortIds.set(c.id, created.id);
  }
  const flags = Array.from({ length: copies }, (_, copy) => defs.flags.map((f) => ({ f, key: copies === 1 ? f.key : `${f.key}-c${copy}` }))).flat();
  await pool(flags, 6, ({ f, key: flagKey }) =>
    requestJson(`${base}/api/projects/${project.id}/feature_flags/`, {
      method: 'POST',
      headers: auth,
      body: {
        key: flagKey,
        name: f.name ?? flagKey,
        filters: remapCohorts(f, cohortIds),
        active: f.active,
        ensure_experience_continuity: f.ensure_experience_continuity ?? false,
        evaluation_runtime: f.evaluation_runtime ?? 'all',
      },
    }),
  );
  return { id: project.id, token: project.api_token };
}

/**
 * Imports `users` as stored persons with `POST /api/projects/:id/persons/bulk/` (JSON lines, in
 * chunks). The stored properties are the user's without `distinct_id`, which Vexil injects itself.
 */
export async function importPersons(base: string, key: string, projectId: number, users: readonly BenchUser[], chunk = 25_000): Promise<number> {
  const chunks: BenchUser[][] = [];
  for (let i = 0; i < users.length; i += chunk) chunks.push(users.slice(i, i + chunk));
  const counts = await pool(chunks, 2, async (part) => {
    const lines = part.map((u) => {
      const { distinct_id: _omit, ...properties } = u.properties;
      return JSON.stringify({ distinct_id: u.distinctId, properties });
    });
    const res = (await requestJson(`${base}/api/projects/${projectId}/persons/bulk/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-ndjson' },
      rawBody: lines.join('\n'),
    })) as { imported: number };
    return res.imported;
  });
  return counts.reduce((a, b) => a + b, 0);
}

/**
 * posthog-node's remote-evaluation body for `/flags?v=2`, every property included (posthog-node
 * sends `geoip_disable: true` unless told otherwise; `geoipDisable: false` leaves it out, as
 * posthog-js does). `extraProperties` join the person properties.
 */
export function flagsBodyWithProperties(token: string, u: BenchUser, o: { geoipDisable?: boolean; extraProperties?: Record<string, string> } = {}): string {
  const personProperties = o.extraProperties ? { ...u.properties, ...o.extraProperties } : u.properties;
  const geoip = o.geoipDisable === false ? {} : { geoip_disable: true };
  return JSON.stringify({ token, distinct_id: u.distinctId, groups: {}, person_properties: personProperties, group_properties: {}, ...geoip });
}

/** A body carrying only the distinct id: Vexil looks the person's properties up in the store. */
export function flagsBodyIdOnly(token: string, u: BenchUser): string {
  return JSON.stringify({ token, distinct_id: u.distinctId });
}

/** The flag values of a `/flags?v=2` answer (variant, else enabled), and whether it reported errors. */
export function flagValues(answer: unknown): { values: Record<string, string | boolean>; errors: boolean } {
  const a = answer as { flags: Record<string, { enabled: boolean; variant: string | null }>; errorsWhileComputingFlags: boolean };
  const values: Record<string, string | boolean> = {};
  for (const [k, f] of Object.entries(a.flags)) values[k] = f.variant ?? f.enabled;
  return { values, errors: a.errorsWhileComputingFlags };
}
