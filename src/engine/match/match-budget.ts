/**
 * @module engine/match/match-budget
 * The per-evaluation matching budget: how many characters of property text the text operators
 * (regex, icontains, starts_with, ends_with and their negations) may scan for one evaluation,
 * so that one request's oversized property values cannot take everyone's CPU (issue 13 §5).
 *
 * Why a budget: matching cost grows with the subject. re2js scans 15–100 ns per character, so a
 * 1 MB property tested by four regex flags cost ~0.5 s of CPU, and a request carries as many
 * such values as its body holds. A budget bounds the sum, however many filters and values a
 * request reaches, and it is checked BEFORE a scan: a value that does not fit is never scanned.
 *
 * PostHog has no equivalent. Its Rust server bounds only backtracking (`REGEX_BACKTRACK_LIMIT`
 * = 10 000 per search, in rust/feature-flags/src/properties/property_matching.rs; past it the
 * search is an error) and never truncates or limits property values in matching; its regex
 * crate scans a megabyte in about a millisecond, and its router (rust/feature-flags/src/router.rs)
 * sets no body limit of its own, leaving axum's 2 MB default. posthog-node's local evaluation (`matchFeatureFlagRegex` in @posthog/core) runs
 * JavaScript's RegExp with no bound: it only ever evaluates its own process's data. Vexil's
 * linear engine (re2js) is one to two orders of magnitude slower per character, hence the budget.
 *
 * Semantics: a filter whose subject does not fit the remaining budget fails its flag with
 * `match_budget_exceeded` (the flag is `failed`, the response says errorsWhileComputingFlags),
 * and nothing is taken from the budget, so short values elsewhere in the request still match.
 *
 * The budget is module state, reset by each `evaluateFlags` (evaluation is synchronous and one
 * at a time, like the other per-run scratch in engine/evaluation-run.ts). Outside an
 * evaluation it is unlimited, so operators called directly (tests, tools) are unaffected.
 */
import { FlagFailure } from '../flag-failure.ts';

/**
 * Default budget per evaluation, in character units: 1 Mi. Plain scans (icontains, starts_with,
 * ends_with, literal-only regexes) cost 1 per character, so 1 MiB of text; re2js and
 * backtracking searches cost {@link SCAN_WEIGHT} per character, so 64 Ki characters, a few
 * milliseconds at worst. Ordinary requests use a tiny part of it: 50 regex filters on a
 * 500-character URL take 400 Ki.
 */
export const DEFAULT_MATCH_BUDGET = 1 << 20;

/**
 * Units per character for a search by re2js or the backtracker: they cost 15–100 ns per
 * character where V8's built-in string scans cost about 1.
 */
export const SCAN_WEIGHT = 16;

/** One shared instance: failing is rare, and allocating for it would be wasted. */
const EXCEEDED = new FlagFailure('match_budget_exceeded');

let remaining = Number.POSITIVE_INFINITY;
let initial = Number.POSITIVE_INFINITY;
let lastSpent = 0;

/** Starts an evaluation's budget (units, ≥ 0; Infinity = unlimited). */
export function beginMatchBudget(units: number): void {
  remaining = initial = units;
}

/** Ends the evaluation's budget: unlimited again until the next `beginMatchBudget`. */
export function endMatchBudget(): void {
  lastSpent = initial === Number.POSITIVE_INFINITY ? 0 : initial - remaining;
  remaining = initial = Number.POSITIVE_INFINITY;
}

/**
 * Takes `units` from the budget before a scan. Throws FlagFailure(`match_budget_exceeded`)
 * when they do not fit; nothing is taken then.
 */
export function spendMatchBudget(units: number): void {
  if (units > remaining) throw EXCEEDED;
  remaining -= units;
}

/** What is left of the current budget (Infinity outside an evaluation). */
export function remainingMatchBudget(): number {
  return remaining;
}

/**
 * Units the last finished evaluation spent (0 when it was unlimited): the work it paid for,
 * which tests and benchmarks read to show a request's matching work is bounded.
 */
export function lastMatchBudgetSpent(): number {
  return lastSpent;
}
