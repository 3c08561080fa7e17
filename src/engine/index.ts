/**
 * @module engine
 * Public face of the pure evaluation engine: compile a project's definitions once, evaluate many times.
 */
export type * from './types.ts';
export { compileSnapshot, type FlagSnapshot } from './compile/compile-snapshot.ts';
export { evaluateFlags } from './evaluate.ts';
export { buildPersonProperties } from './person-properties.ts';
export { hashBucket } from './hash.ts';
export { explainFlags, type ConditionExplanation, type PropertyExplanation } from './explain.ts';
export { DEFAULT_MATCH_BUDGET } from './match/match-budget.ts';
export { resolveTimeZone, wallFromInstant, instantFromWall, offsetAt, civilFromDays, daysFromCivil, daysInMonth, MS_PER_DAY, type TimeZone } from './match/time-zone.ts';
