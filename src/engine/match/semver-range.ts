/**
 * @module engine/match/semver-range
 * Version requirements (`~1.2.3`, `^1.2`, `1.*`, `>=1, <2`): a port of the Rust `semver`
 * crate's `VersionReq` parser and matching rules (dtolnay/semver src/parse.rs, src/eval.rs).
 */
import { type Num, type Version, cmpPre, fail, identifier, numeric } from './semver-version.ts';

type Op = '=' | '>' | '>=' | '<' | '<=' | '~' | '^' | '*';

export interface Comparator {
  op: Op;
  major: Num;
  minor: Num | null;
  patch: Num | null;
  pre: string;
}

function skipSpaces(s: string, i: number): number {
  while (s[i] === ' ') i++;
  return i;
}

/**
 * `VersionReq::from_str`: up to 32 comma-separated comparators; a lone `*`/`x`/`X` is "any"
 * (no comparators). Throws `SemverSyntax` on invalid text.
 */
export function parseRequirement(text: string): Comparator[] {
  let i = skipSpaces(text, 0);
  if (text[i] === '*' || text[i] === 'x' || text[i] === 'X') {
    if (skipSpaces(text, i + 1) === text.length) return [];
    fail();
  }
  const out: Comparator[] = [];
  for (;;) {
    let op: Op = '^';
    let explicit = true;
    const two = text.slice(i, i + 2);
    if (two === '>=' || two === '<=') (op = two), (i += 2);
    else if ('=><~^'.includes(text[i] ?? '#')) (op = text[i] as Op), (i += 1);
    else explicit = false;
    i = skipSpaces(text, i);
    let major: Num;
    let minor: Num | null = null;
    let patch: Num | null = null;
    let pre = '';
    let wildcard = false;
    [major, i] = numeric(text, i);
    if (text[i] === '.') {
      if ('*xX'.includes(text[i + 1] ?? '#')) (wildcard = true), (i += 2);
      else [minor, i] = numeric(text, i + 1);
      if (text[i] === '.') {
        if ('*xX'.includes(text[i + 1] ?? '#')) (wildcard = true), (i += 2);
        else if (wildcard) fail();
        else [patch, i] = numeric(text, i + 1);
      }
    }
    if (wildcard && !explicit) op = '*';
    if (patch !== null && text[i] === '-') {
      [pre, i] = identifier(text, i + 1, true);
      if (pre === '') fail();
    }
    if (patch !== null && text[i] === '+') {
      let build: string;
      [build, i] = identifier(text, i + 1, false);
      if (build === '') fail();
    }
    i = skipSpaces(text, i);
    out.push({ op, major, minor, patch, pre });
    if (i === text.length) return out;
    if (text[i] !== ',' || out.length === 32) fail();
    i = skipSpaces(text, i + 1);
  }
}

function matchesExact(c: Comparator, v: Version): boolean {
  return v.major === c.major && (c.minor === null || v.minor === c.minor) && (c.patch === null || v.patch === c.patch) && v.pre === c.pre;
}

function matchesGreater(c: Comparator, v: Version): boolean {
  if (v.major !== c.major) return v.major > c.major;
  if (c.minor === null) return false;
  if (v.minor !== c.minor) return v.minor > c.minor;
  if (c.patch === null) return false;
  if (v.patch !== c.patch) return v.patch > c.patch;
  return cmpPre(v.pre, c.pre) > 0;
}

function matchesLess(c: Comparator, v: Version): boolean {
  if (v.major !== c.major) return v.major < c.major;
  if (c.minor === null) return false;
  if (v.minor !== c.minor) return v.minor < c.minor;
  if (c.patch === null) return false;
  if (v.patch !== c.patch) return v.patch < c.patch;
  return cmpPre(v.pre, c.pre) < 0;
}

function matchesTilde(c: Comparator, v: Version): boolean {
  if (v.major !== c.major) return false;
  if (c.minor !== null && v.minor !== c.minor) return false;
  if (c.patch !== null && v.patch !== c.patch) return v.patch > c.patch;
  return cmpPre(v.pre, c.pre) >= 0;
}

function matchesCaret(c: Comparator, v: Version): boolean {
  if (v.major !== c.major) return false;
  if (c.minor === null) return true;
  if (c.patch === null) return c.major > 0 ? v.minor >= c.minor : v.minor === c.minor;
  if (c.major > 0) {
    if (v.minor !== c.minor) return v.minor > c.minor;
    if (v.patch !== c.patch) return v.patch > c.patch;
  } else if (c.minor > 0) {
    if (v.minor !== c.minor) return false;
    if (v.patch !== c.patch) return v.patch > c.patch;
  } else if (v.minor !== c.minor || v.patch !== c.patch) {
    return false;
  }
  return cmpPre(v.pre, c.pre) >= 0;
}

function matchesComparator(c: Comparator, v: Version): boolean {
  switch (c.op) {
    case '=': case '*': return matchesExact(c, v);
    case '>': return matchesGreater(c, v);
    case '>=': return matchesExact(c, v) || matchesGreater(c, v);
    case '<': return matchesLess(c, v);
    case '<=': return matchesExact(c, v) || matchesLess(c, v);
    case '~': return matchesTilde(c, v);
    case '^': return matchesCaret(c, v);
  }
}

/**
 * `VersionReq::matches`: every comparator matches, and a pre-release version only matches when
 * some comparator names the same major.minor.patch with a pre-release (so `*` excludes them).
 */
export function matchesRequirement(req: readonly Comparator[], v: Version): boolean {
  for (const c of req) if (!matchesComparator(c, v)) return false;
  if (v.pre === '') return true;
  return req.some((c) => c.major === v.major && c.minor === v.minor && c.patch === v.patch && c.pre !== '');
}

