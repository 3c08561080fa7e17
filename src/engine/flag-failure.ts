/**
 * @module engine/flag-failure
 * The signal that fails one flag from deep inside its evaluation (an unresolvable cohort, a
 * spent matching budget): thrown, rarely, and caught per flag by `evaluateFlags`.
 */
import type { FlagErrorCode } from './types.ts';

/** Thrown (rarely) when a reached filter fails the whole flag; caught per flag. */
export class FlagFailure {
  constructor(readonly code: FlagErrorCode) {}
}
