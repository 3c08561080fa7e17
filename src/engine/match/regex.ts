/**
 * @module engine/match/regex
 * User-supplied regular expressions with bounded cost (spec §5.3). PLACEHOLDER: being replaced
 * by a linear-time (re2js) + step-capped backtracking implementation.
 */

/** A compiled pattern. `test` never throws: `null` means the step budget was exceeded. */
export interface CompiledRegex {
  test(subject: string): boolean | null;
}

/** Compiles a PostHog (Rust fancy_regex syntax) pattern; `null` when the pattern is invalid. */
export function compileRegex(pattern: string): CompiledRegex | null {
  try {
    const re = new RegExp(pattern, 'u');
    return { test: (s) => re.test(s) };
  } catch {
    return null;
  }
}
