/**
 * @module engine/select-flags
 * Which of a snapshot's flags a request evaluates (spec §4.1): active ones, narrowed by the
 * evaluation runtime, evaluation tags and `flag_keys` (with their transitive dependencies).
 */
import type { FlagSnapshot } from './compile/compile-snapshot.ts';
import type { EvaluationContext } from './types.ts';

/** Which flags the request asks for: active, runtime and tag filters, and flag_keys closure. */
export function selectFlags(snapshot: FlagSnapshot, ctx: EvaluationContext): Uint8Array {
  const flags = snapshot.flags;
  const runtime = ctx.runtime ?? 'all';
  const contexts = ctx.evaluationContexts && ctx.evaluationContexts.length > 0 ? ctx.evaluationContexts : null;
  // The common request filters nothing: share the precomputed mask instead of building one.
  if (runtime === 'all' && contexts === null && !ctx.flagKeys) return snapshot.activeMask;
  const selected = new Uint8Array(flags.length);
  for (let i = 0; i < flags.length; i++) {
    const f = flags[i]!;
    if (!f.active) continue;
    if (runtime !== 'all' && f.runtime !== 'all' && f.runtime !== runtime) continue;
    if (contexts !== null && f.tags.length > 0 && !f.tags.some((t) => contexts.includes(t))) continue;
    selected[i] = 1;
  }
  if (ctx.flagKeys) {
    // Requested keys plus their transitive dependencies (spec §4.1 step 2).
    const wanted = new Uint8Array(flags.length);
    const stack: number[] = [];
    for (const key of ctx.flagKeys) {
      const o = snapshot.ordinalByKey.get(key);
      if (o !== undefined && !wanted[o]) {
        wanted[o] = 1;
        stack.push(o);
      }
    }
    while (stack.length > 0) {
      for (const d of flags[stack.pop()!]!.dependencies) {
        if (d >= 0 && !wanted[d]) {
          wanted[d] = 1;
          stack.push(d);
        }
      }
    }
    for (let i = 0; i < flags.length; i++) selected[i] &= wanted[i]!;
  }
  return selected;
}
