/**
 * @module engine/failed-dependency
 * A flag whose `flag_evaluates_to` filters name a flag that failed earlier in the same request
 * (PostHog's `failed_dependency` / `AnswerIfDependencyMatched`, spec posthog-newer.md §13):
 * the failed flag's filters pass provisionally, and the answer stands only when no value the
 * failed flag could have had would change it; otherwise the dependent flag fails too.
 * Only reached on the error path, so it may cost a few extra evaluations of one flag.
 */
import type { CompiledFlag } from './compile/compiled-types.ts';
import { type EvaluationRun, NOT_EVALUATED } from './evaluation-run.ts';
import { failed } from './results.ts';
import type { FlagResult } from './types.ts';

/** Beyond this many value combinations of failed dependencies the flag fails without trying them. */
const MAX_COMBINATIONS = 256;

/** Whether one of the flag's direct dependencies failed in this run. */
export function dependsOnFailedFlag(run: EvaluationRun, flag: CompiledFlag): boolean {
  const deps = flag.dependencies;
  for (let i = 0; i < deps.length; i++) if (deps[i]! >= 0 && run.values[deps[i]!] === NOT_EVALUATED) return true;
  return false;
}

/** Every value a flag can evaluate to: false, true, each variant and its holdout variant. */
function possibleValues(flag: CompiledFlag): (boolean | string)[] {
  const values: (boolean | string)[] = [false, true];
  for (const v of flag.variants) values.push(v.key);
  if (flag.holdout !== null) values.push(flag.holdout.variant);
  return values;
}

/**
 * Decides `flag` given that some of its dependencies failed: `match` is evaluated once with
 * their filters passing provisionally (the answer), then once per combination of their possible
 * values; any combination giving another value fails the flag with `dependency_failed`.
 */
export function decideWithFailedDependencies(
  run: EvaluationRun,
  flag: CompiledFlag,
  match: (run: EvaluationRun, flag: CompiledFlag) => FlagResult,
): FlagResult {
  const failedDeps = [...new Set(flag.dependencies.filter((d) => d >= 0 && run.values[d] === NOT_EVALUATED))];
  const batching = run.batchingBuckets;
  // Every bucket is needed now: this flag is decided in place, never waits for the batch.
  run.batchingBuckets = false;
  try {
    run.provisionalDependencies = true;
    const answer = match(run, flag);
    run.provisionalDependencies = false;
    // (A flag that cannot compile has no dependencies, so the answer itself never fails here.)
    if (answer.inconclusive) return answer;
    const choices = failedDeps.map((d) => possibleValues(run.snapshot.flags[d]!));
    let combinations = 1;
    for (const c of choices) combinations *= c.length;
    if (combinations > MAX_COMBINATIONS) return failed(flag, 'dependency_failed');
    const at = new Array<number>(choices.length).fill(0);
    for (let n = 0; n < combinations; n++) {
      for (let k = 0; k < failedDeps.length; k++) run.values[failedDeps[k]!] = choices[k]![at[k]!]!;
      const r = match(run, flag);
      if (r.inconclusive) return r;
      if (r.enabled !== answer.enabled || r.variant !== answer.variant) return failed(flag, 'dependency_failed');
      // Next combination (an odometer over the choices).
      for (let k = 0; k < at.length && ++at[k]! === choices[k]!.length; k++) at[k] = 0;
    }
    return answer;
  } finally {
    run.provisionalDependencies = false;
    run.batchingBuckets = batching;
    for (const d of failedDeps) run.values[d] = NOT_EVALUATED;
  }
}
