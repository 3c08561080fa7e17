/**
 * @module http/decode/lenient-json
 * JSON parsing for SDK bodies: PostHog's lenient dialect (bare NaN/Infinity become null, spec §1.3)
 * with hard caps on nesting depth and member count, checked before anything is allocated.
 */

/** Caps on untrusted JSON. */
export interface JsonLimits {
  /** Deepest nesting of objects and arrays. */
  maxDepth: number;
  /** Most object members (`"key":` pairs) in the whole document. */
  maxProperties: number;
}

/** A parsed value, or why parsing stopped (syntax, or which cap with its limit). */
export type JsonOutcome =
  | { ok: true; value: unknown }
  | { ok: false; reason: 'syntax' }
  | { ok: false; reason: 'depth' | 'properties'; limit: number };

const QUOTE = 34, BACKSLASH = 92, COLON = 58;
const OPEN_BRACE = 123, OPEN_BRACKET = 91, CLOSE_BRACE = 125, CLOSE_BRACKET = 93;
const N = 78, I = 73;

/**
 * Parses `text`. One linear scan measures depth and members and spots NaN/Infinity outside
 * strings; only when the caps hold is the text handed to JSON.parse (rewritten if needed).
 * Never throws.
 */
export function parseLenientJson(text: string, limits: JsonLimits): JsonOutcome {
  // A member takes at least 4 characters (`"":0`), so a text this short cannot exceed the member
  // cap: valid JSON is parsed first and only its depth is checked. Anything else (bare NaN, bad
  // syntax) takes the scan below, which reports it as before.
  if (text.length < 4 * limits.maxProperties) {
    let value: unknown;
    let parsed = true;
    try {
      value = JSON.parse(text);
    } catch {
      parsed = false;
    }
    if (parsed) return deeperThan(value, limits.maxDepth) ? { ok: false, reason: 'depth', limit: limits.maxDepth } : { ok: true, value };
  }
  let depth = 0;
  let members = 0;
  let nonFinite = false;
  const len = text.length;
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = endOfString(text, i);
      if (i === -1) return { ok: false, reason: 'syntax' };
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limits.maxDepth) return { ok: false, reason: 'depth', limit: limits.maxDepth };
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    } else if (c === COLON) {
      if (++members > limits.maxProperties) return { ok: false, reason: 'properties', limit: limits.maxProperties };
    } else if (c === N || c === I) {
      nonFinite = true;
    }
  }
  try {
    return { ok: true, value: JSON.parse(nonFinite ? replaceNonFinite(text) : text) };
  } catch {
    return { ok: false, reason: 'syntax' };
  }
}

/** Whether objects and arrays nest more than `max` levels in `value`; recursion stops at max + 1. */
function deeperThan(value: unknown, max: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (max === 0) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (deeperThan(value[i], max - 1)) return true;
    return false;
  }
  for (const key in value) if (deeperThan((value as Record<string, unknown>)[key], max - 1)) return true;
  return false;
}

/** Index of the quote closing the string opened at `start`, or -1 when it is unterminated. */
function endOfString(text: string, start: number): number {
  let j = start;
  for (;;) {
    j = text.indexOf('"', j + 1);
    if (j === -1) return -1;
    let backslashes = 0;
    for (let k = j - 1; k > start && text.charCodeAt(k) === BACKSLASH; k--) backslashes++;
    if (backslashes % 2 === 0) return j;
  }
}

/** Replaces bare `NaN`, `Infinity`, `+Infinity`, `-Infinity` outside strings with `null`. */
function replaceNonFinite(text: string): string {
  let out = '';
  let from = 0;
  const len = text.length;
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = endOfString(text, i);
      if (i === -1) return text;
      continue;
    }
    const start = i;
    let end = -1;
    if (text.startsWith('NaN', i)) end = i + 3;
    else if (text.startsWith('Infinity', i)) end = i + 8;
    else if ((c === 45 || c === 43) && text.startsWith('Infinity', i + 1)) end = i + 9;
    if (end === -1) continue;
    out += text.slice(from, start) + 'null';
    from = end;
    i = end - 1;
  }
  return out + text.slice(from);
}
