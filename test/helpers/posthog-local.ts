/**
 * @module test/helpers/posthog-local
 * In-process harness around posthog-node's own local evaluator (its FeatureFlagsPoller): it is
 * served a local-evaluation definitions payload through a fake `fetch` (no network), evaluates
 * one flag for one user, and says whether the SDK's answer is conclusive.
 */
import type { FlagDef, ProjectDefs } from '../../src/engine/types.ts';
import type { GeneratedUser } from './flag-generator.ts';

/** The `/flags/definitions` body an SDK polls (spec §7.2). */
export interface LocalDefinitions {
  flags: unknown[];
  group_type_mapping: Record<string, string>;
  cohorts: Record<string, unknown>;
}

type Json = Record<string, unknown>;

function flagDependencyIds(flag: FlagDef): number[] {
  const ids: number[] = [];
  for (const condition of flag.filters.groups ?? []) {
    for (const p of condition.properties ?? []) if (p.type === 'flag') ids.push(/^\d+$/.test(p.key) ? Number(p.key) : NaN);
  }
  return ids;
}

/**
 * Flag keys in evaluation order, dependencies first and the target last, by DFS; `[]` when the
 * target or anything it needs is missing or on a cycle (spec §7.2).
 */
export function dependencyChain(targetId: number, byId: ReadonlyMap<number, FlagDef>): string[] {
  const chain: string[] = [];
  const state = new Map<number, 'visiting' | 'done'>();
  const visit = (id: number): boolean => {
    const flag = byId.get(id);
    if (!flag || state.get(id) === 'visiting') return false;
    if (state.get(id) === 'done') return true;
    state.set(id, 'visiting');
    for (const dep of flagDependencyIds(flag)) if (!visit(dep)) return false;
    state.set(id, 'done');
    chain.push(flag.key);
    return true;
  };
  return visit(targetId) ? chain : [];
}

/**
 * Rewrites Vexil's stored definitions into the payload PostHog serves to SDKs (spec §7.2):
 * deleted flags dropped, flag-dependency filters keyed by the dependency's flag KEY with a
 * `dependency_chain`, dynamic cohorts as `{id: filters.properties}`. Never mutates `defs`.
 */
export function toLocalEvaluationDefinitions(defs: ProjectDefs): LocalDefinitions {
  const live = defs.flags.filter((f) => !f.deleted);
  const byId = new Map(live.map((f) => [f.id, f]));
  const flags = live.map((stored) => {
    const flag = structuredClone(stored) as FlagDef;
    for (const condition of flag.filters.groups ?? []) {
      for (const p of condition.properties ?? []) {
        if (p.type !== 'flag') continue;
        const id = /^\d+$/.test(p.key) ? Number(p.key) : NaN;
        p.dependency_chain = dependencyChain(id, byId);
        p.key = byId.get(id)?.key ?? p.key;
      }
    }
    return { team_id: 1, has_encrypted_payloads: false, evaluation_runtime: 'all', ...flag };
  });
  const cohorts: Record<string, unknown> = {};
  for (const c of defs.cohorts) if (!c.is_static && !c.deleted) cohorts[String(c.id)] = (c.filters as Json).properties;
  const group_type_mapping: Record<string, string> = {};
  for (const [index, name] of Object.entries(defs.groupTypeMapping)) group_type_mapping[index] = name;
  return { flags, group_type_mapping, cohorts };
}

/** The SDK's answer: a value it stands by, or why it would ask the server instead. */
export type LocalOutcome =
  | { conclusive: true; value: boolean | string; payload: unknown }
  | { conclusive: false; reason: string; message: string };

export interface LocalEvaluator {
  /** Evaluates one flag with a fresh evaluation cache, exactly as `getFeatureFlag(…, {onlyEvaluateLocally: true})` would. */
  evaluate(flagKey: string, user: GeneratedUser): Promise<LocalOutcome>;
  close(): Promise<void>;
}

interface Poller {
  loadFeatureFlags(force?: boolean): Promise<void>;
  loadedSuccessfullyOnce: boolean;
  featureFlagsByKey: Record<string, unknown>;
  computeFlagAndPayloadLocally(flag: unknown, context: Json): Promise<{ value: unknown; payload: unknown }>;
  stopPoller(timeoutMs?: number): Promise<void>;
}
interface ReasonedError extends Error { reason?: string }
interface SdkModule {
  FeatureFlagsPoller: new (options: Json) => Poller;
  InconclusiveMatchError: new (message?: string) => ReasonedError;
  RequiresServerEvaluation: new (message?: string) => ReasonedError;
}

// The poller is not in posthog-node's public exports; load its dist module by file URL. It
// imports `@posthog/core` by name, so its error classes are the ones the client itself uses.
const sdk = (await import(new URL('../extensions/feature-flags/feature-flags.mjs', import.meta.resolve('posthog-node')).href)) as SdkModule;
const REGEX_MARK = Symbol.for('posthog.requiresServerRegexEvaluation');

/**
 * Counts every "can't decide" the SDK raises, including those it swallows. posthog-node catches
 * an inconclusive filter per condition and may still answer from a later condition; that answer
 * assumes the doubtful part did not match, which the server does not (an invalid value inside a
 * dependency makes `flag_evaluates_to: false` true there, a negated cohort filter likewise). So an
 * answer given after any doubt is not comparable. Both classes set `this.reason` by assignment in
 * their constructor, which a setter on the prototype observes; checked once below.
 */
let doubts = 0;
for (const ErrorClass of [sdk.InconclusiveMatchError, sdk.RequiresServerEvaluation]) {
  Object.defineProperty(ErrorClass.prototype, 'reason', {
    configurable: true,
    get: () => undefined,
    set(this: object, reason: unknown) {
      doubts++;
      Object.defineProperty(this, 'reason', { value: reason, writable: true, enumerable: true, configurable: true });
    },
  });
  const before = doubts;
  if (new ErrorClass().reason === undefined || doubts !== before + 1) throw new Error(`cannot observe posthog-node's ${ErrorClass.name} any more`);
}

/**
 * A property bag that records every lookup of a key it lacks. posthog-node treats a missing key as
 * "unknown" (spec §5.2) and may still answer from a later condition; the server treats it as
 * absent. Such answers are not comparable, so the harness reports them as not conclusive.
 */
function tracked<T extends object>(bag: T, where: string, misses: string[]): T {
  return new Proxy(bag, {
    getOwnPropertyDescriptor(target, key) {
      const d = Reflect.getOwnPropertyDescriptor(target, key);
      if (!d) misses.push(`${where}.${String(key)}`);
      return d;
    },
    has(target, key) {
      const found = Reflect.has(target, key);
      if (!found) misses.push(`${where}.${String(key)}`);
      return found;
    },
  });
}

/** Starts a poller on `definitions` (served once by a fake fetch) and waits until it has loaded them. */
export async function createLocalEvaluator(definitions: LocalDefinitions): Promise<LocalEvaluator> {
  const body = JSON.stringify(definitions);
  const errors: Error[] = [];
  const poller = new sdk.FeatureFlagsPoller({
    pollingInterval: null,
    personalApiKey: 'phx_differential',
    projectApiKey: 'phc_differential',
    host: 'http://posthog.invalid',
    fetch: async () => ({ status: 200, headers: new Headers({ ETag: 'W/"differential"' }), json: async () => JSON.parse(body), text: async () => body }),
    onError: (err: Error) => errors.push(err),
  });
  await poller.loadFeatureFlags();
  if (!poller.loadedSuccessfullyOnce) throw new Error(`posthog-node did not load the definitions: ${errors.join('; ')}`);

  return {
    async evaluate(flagKey, user) {
      const flag = poller.featureFlagsByKey[flagKey];
      if (flag === undefined) return { conclusive: false, reason: 'not_loaded', message: flagKey };
      const misses: string[] = [];
      const doubtsBefore = doubts;
      const groupProperties: Record<string, object> = {};
      for (const [name, bag] of Object.entries(user.groupProperties)) groupProperties[name] = tracked(bag, name, misses);
      const context = {
        distinctId: user.distinctId,
        groups: user.groups,
        personProperties: tracked(user.personProperties, 'person', misses),
        groupProperties: tracked(groupProperties, 'groups', misses),
        evaluationCache: {},
      };
      try {
        const { value, payload } = await poller.computeFlagAndPayloadLocally(flag, context);
        if (typeof value !== 'boolean' && typeof value !== 'string') return { conclusive: false, reason: 'undefined', message: String(value) };
        if (misses.length > 0) return { conclusive: false, reason: 'missing_property', message: misses.join(', ') };
        if (doubts !== doubtsBefore) return { conclusive: false, reason: 'swallowed_inconclusive', message: 'the SDK answered after an inconclusive part' };
        return { conclusive: true, value, payload: payload ?? null };
      } catch (e: unknown) {
        if (e instanceof sdk.RequiresServerEvaluation) return { conclusive: false, reason: `requires_server:${e.reason}`, message: e.message };
        if (e instanceof sdk.InconclusiveMatchError) {
          const kind = REGEX_MARK in e ? 'regex' : e.reason;
          return { conclusive: false, reason: `inconclusive:${kind}`, message: e.message };
        }
        return { conclusive: false, reason: 'sdk_error', message: String(e) };
      }
    },
    close: () => poller.stopPoller(),
  };
}
