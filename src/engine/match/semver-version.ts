/**
 * @module engine/match/semver-version
 * SemVer versions as PostHog's Rust server reads them: its normalisation (PostHog/posthog
 * rust/feature-flags/src/properties/property_matching.rs, `to_semver_representation`) in front
 * of a port of the Rust `semver` crate's `Version` parser and ordering (dtolnay/semver
 * src/parse.rs, src/impls.rs).
 */
import { rustTrim, str } from './value-text.ts';

/** A u64 component: a number up to 15 digits, a bigint beyond (so equal values share a type). */
export type Num = number | bigint;

export interface Version {
  major: Num;
  minor: Num;
  patch: Num;
  /** "" when absent. */
  pre: string;
  build: string;
}

const U64_MAX = 18_446_744_073_709_551_615n;

/** Thrown by the version and requirement parsers; `toVersion` and `compileSemver` catch it. */
class SemverSyntax extends Error {}

export function fail(): never {
  throw new SemverSyntax();
}

/** The crate's `numeric_identifier`: ASCII digits, no leading zero, fits in u64. */
export function numeric(s: string, i: number): [Num, number] {
  let j = i;
  while (j < s.length && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
  if (j === i || (s[i] === '0' && j - i > 1)) fail();
  const digits = s.slice(i, j);
  if (digits.length <= 15) return [Number(digits), j];
  const big = BigInt(digits);
  if (big > U64_MAX) fail();
  return [big, j];
}

/** The crate's `identifier`: dot-separated `[0-9A-Za-z-]+` segments; pre-release numbers have no leading zero. */
export function identifier(s: string, i: number, pre: boolean): [string, number] {
  let start = i;
  let j = i;
  for (;;) {
    const c = j < s.length ? s.charCodeAt(j) : -1;
    const digit = c >= 48 && c <= 57;
    if (digit || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45) {
      j++;
      continue;
    }
    if (j === start) {
      if (start === i && c !== 46) return ['', i];
      fail();
    }
    if (pre && j - start > 1 && s[start] === '0' && /^\d+$/.test(s.slice(start, j))) fail();
    if (c !== 46) return [s.slice(i, j), j];
    start = ++j;
  }
}

/** Strict SemVer 2.0 (`Version::from_str`). */
function parseVersion(s: string): Version {
  if (s.length === 0) fail();
  let i: number;
  let major: Num, minor: Num, patch: Num;
  [major, i] = numeric(s, 0);
  if (s[i++] !== '.') fail();
  [minor, i] = numeric(s, i);
  if (s[i++] !== '.') fail();
  [patch, i] = numeric(s, i);
  let pre = '';
  let build = '';
  if (s[i] === '-') {
    [pre, i] = identifier(s, i + 1, true);
    if (pre === '') fail();
  }
  if (s[i] === '+') {
    [build, i] = identifier(s, i + 1, false);
    if (build === '') fail();
  }
  if (i !== s.length) fail();
  return { major, minor, patch, pre, build };
}

/** `normalize_version_string`: strip one lowercase `v`, then Rust-trim. */
export function normalize(s: string): string {
  return rustTrim(s.startsWith('v') ? s.slice(1) : s);
}

/** Strips leading zeros from an all-digit component ("08" → "8", "000" → "0"). */
export function stripZeros(part: string): string {
  if (part === '' || !/^\d+$/.test(part)) return part;
  return part.replace(/^0+/, '') || '0';
}

/** `canonicalize_version_string`: on the core before the first `-`/`+`, strip zeros and pad to three parts. */
export function canonicalize(s: string): string {
  const cut = s.search(/[-+]/);
  const core = cut < 0 ? s : s.slice(0, cut);
  const parts = core.split('.').map(stripZeros);
  while (parts.length < 3) parts.push('0');
  return parts.join('.') + (cut < 0 ? '' : s.slice(cut));
}

/**
 * The common shape — optional `v`, one to three all-digit parts, nothing else — read in one pass
 * (same result as the general path: zeros stripped, missing parts 0). `undefined` when the text
 * needs the general path.
 */
function plainVersion(s: string): Version | undefined {
  const parts = [0, 0, 0];
  let k = 0;
  let v = 0;
  let digits = 0;
  for (let i = s.charCodeAt(0) === 118 ? 1 : 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 46;
    if (c >= 48 && c <= 57) {
      if (++digits > 15) return undefined;
      v = v * 10 + c - 48;
    } else if (c === 46 && digits > 0 && k < 3) {
      parts[k++] = v;
      v = 0;
      digits = 0;
    } else {
      return undefined;
    }
  }
  return { major: parts[0], minor: parts[1], patch: parts[2], pre: '', build: '' };
}

/** `to_semver_representation`; `null` when the text is not a version. */
export function toVersion(x: unknown): Version | null {
  if (typeof x === 'string') {
    const plain = plainVersion(x);
    if (plain !== undefined) return plain;
  }
  try {
    return parseVersion(canonicalize(normalize(typeof x === 'string' ? x : str(x))));
  } catch {
    return null;
  }
}

function cmpNum(a: Num, b: Num): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Identifier-list ordering shared by pre-release and build metadata (`impls.rs`). */
function cmpIdentifiers(a: string, b: string, build: boolean): number {
  const as = a.split('.');
  const bs = b.split('.');
  for (let k = 0; k < as.length; k++) {
    if (k >= bs.length) return 1;
    const [x, y] = [as[k], bs[k]];
    const xd = /^\d*$/.test(x);
    const yd = /^\d*$/.test(y);
    if (xd !== yd) return xd ? -1 : 1;
    let c: number;
    if (xd && build) {
      const [xv, yv] = [x.replace(/^0+/, ''), y.replace(/^0+/, '')];
      c = xv.length - yv.length || (xv < yv ? -1 : xv > yv ? 1 : 0) || x.length - y.length;
    } else if (xd) {
      c = x.length - y.length || (x < y ? -1 : x > y ? 1 : 0);
    } else {
      c = x < y ? -1 : x > y ? 1 : 0;
    }
    if (c !== 0) return Math.sign(c);
  }
  return as.length < bs.length ? -1 : 0;
}

/** Pre-release precedence: a release ("") is greater than any pre-release. */
export function cmpPre(a: string, b: string): number {
  if (a === b) return 0;
  if (a === '') return 1;
  if (b === '') return -1;
  return cmpIdentifiers(a, b, false);
}

/**
 * The crate's `Ord for Version`: major, minor, patch, pre-release, then build metadata (the
 * crate keeps build metadata as a final tie-break, so "1.0.0+b" > "1.0.0", and != for eq).
 * posthog-flags.md §5.5 says build metadata is ignored; posthog-newer.md §9 corrects it from
 * PostHog's `property_matching.rs`, which is what this follows.
 */
export function compareVersions(a: Version, b: Version): number {
  return (
    cmpNum(a.major, b.major) ||
    cmpNum(a.minor, b.minor) ||
    cmpNum(a.patch, b.patch) ||
    cmpPre(a.pre, b.pre) ||
    (a.build === b.build ? 0 : a.build === '' ? -1 : b.build === '' ? 1 : cmpIdentifiers(a.build, b.build, true))
  );
}
