/**
 * @module bench/peers/vexil
 * Vexil's engine driven like the other evaluators: compile once, evaluate per user.
 */
import { compileSnapshot, evaluateFlags, type EvaluationContext, type ProjectDefs } from '../../src/engine/index.ts';
import type { BenchUser } from '../fixtures/fifty-flag-project.ts';
import type { FlagValue, Peer } from './peer.ts';

const NO_GROUPS: Readonly<Record<string, never>> = Object.freeze({});

/**
 * Timed path: `evaluateFlags(snapshot, ctx)` with a fresh context per user
 * (`storedDataLoaded: true`, no groups); `compileSnapshot` runs once, before timing.
 * The person properties already hold `distinct_id`, which is what `buildPersonProperties` adds
 * for a request without stored data (spec §6.1).
 */
export function createVexilPeer(defs: ProjectDefs, now: number): Peer {
  const snapshot = compileSnapshot(defs);
  const context = (user: BenchUser): EvaluationContext => ({
    distinctId: user.distinctId,
    personProperties: user.properties,
    groups: NO_GROUPS,
    groupProperties: NO_GROUPS,
    storedDataLoaded: true,
    now,
  });
  return {
    name: 'vexil engine',
    path: 'evaluateFlags(snapshot, ctx)',
    async: false,
    evaluate: (user) => evaluateFlags(snapshot, context(user)),
    async values(user) {
      const out: Record<string, FlagValue> = {};
      for (const r of evaluateFlags(snapshot, context(user)).flags) {
        out[r.key] = r.failed || r.inconclusive ? `<${r.reason}>` : r.enabled ? (r.variant ?? true) : false;
      }
      return out;
    },
    close: async () => {},
  };
}
