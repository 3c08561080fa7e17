/**
 * @module engine/match/semver
 * `semver_*` operators (spec §5.5), as PostHog's Rust server evaluates them (PostHog/posthog
 * rust/feature-flags/src/properties/property_matching.rs): comparisons use SemVer precedence,
 * range operators build a `semver::VersionReq` text from the filter value.
 */
import type { PropertyTest } from './operators.ts';
import { type Comparator, matchesRequirement, parseRequirement } from './semver-range.ts';
import { canonicalize, compareVersions, normalize, stripZeros, toVersion } from './semver-version.ts';
import { str } from './value-text.ts';

export type SemverOperator = 'semver_eq' | 'semver_neq' | 'semver_gt' | 'semver_gte' | 'semver_lt' | 'semver_lte' | 'semver_tilde' | 'semver_caret' | 'semver_wildcard';

const NEVER: PropertyTest = () => false;

/** The requirement text PostHog builds for a range operator (tilde/caret canonicalize; wildcard only strips zeros). */
function requirementText(op: 'semver_tilde' | 'semver_caret' | 'semver_wildcard', value: unknown): string {
  const normalized = normalize(str(value));
  if (op === 'semver_tilde') return `~${canonicalize(normalized)}`;
  if (op === 'semver_caret') return `^${canonicalize(normalized)}`;
  return normalized.split('.').map(stripZeros).join('.').replaceAll('*', 'x');
}

/**
 * Compiles a semver operator for a non-null filter value. An unparseable filter is a
 * validation error in Rust ⇒ false; an unparseable property is false.
 */
export function compileSemver(op: SemverOperator, value: unknown): PropertyTest {
  if (op === 'semver_tilde' || op === 'semver_caret' || op === 'semver_wildcard') {
    let req: Comparator[];
    try {
      req = parseRequirement(requirementText(op, value));
    } catch {
      return NEVER;
    }
    return (a) => {
      const v = toVersion(a);
      return v !== null && matchesRequirement(req, v);
    };
  }
  const target = toVersion(value);
  if (target === null) return NEVER;
  const accept = ACCEPT[op];
  return (a) => {
    const v = toVersion(a);
    return v !== null && accept(compareVersions(v, target));
  };
}

const ACCEPT: Record<Exclude<SemverOperator, 'semver_tilde' | 'semver_caret' | 'semver_wildcard'>, (c: number) => boolean> = {
  semver_eq: (c) => c === 0,
  semver_neq: (c) => c !== 0,
  semver_gt: (c) => c > 0,
  semver_gte: (c) => c >= 0,
  semver_lt: (c) => c < 0,
  semver_lte: (c) => c <= 0,
};
