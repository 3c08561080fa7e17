/**
 * @module engine/match/value-text
 * How PostHog's Rust server turns JSON values into text and numbers before comparing them
 * (spec §5 definitions; PostHog/posthog rust/feature-flags/src/properties/property_matching.rs,
 * `to_string_representation`, `to_f64_representation`).
 */

/**
 * `str(x)`: a JSON string is itself; any other value is its compact JSON text.
 *
 * Known differences from serde_json, which JavaScript cannot see because `JSON.parse` has
 * already thrown the information away: an integral float such as `1.0` prints as "1.0" in Rust
 * and "1" here; exponents print as "1e21" in Rust and "1e+21" here; object keys keep insertion
 * order here. `undefined` (never produced by JSON) is treated as `null`. Never throws.
 */
export function str(x: unknown): string {
  if (typeof x === 'string') return x;
  if (x === null || x === undefined) return 'null';
  if (typeof x === 'boolean') return x ? 'true' : 'false';
  try {
    const text = JSON.stringify(x) as string | undefined;
    return text ?? 'null';
  } catch {
    return String(x);
  }
}

/** Lowercases A–Z only, like Rust's `to_ascii_lowercase` (used by icontains and friends). */
export function asciiLower(s: string): string {
  let upper = false;
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) upper = true;
    else if (c > 127) ascii = false;
  }
  if (!upper) return s;
  // On pure ASCII, full lowercasing is ASCII lowercasing.
  return ascii ? s.toLowerCase() : s.replace(/[A-Z]+/g, (run) => run.toLowerCase());
}

/**
 * Rust `f64::from_str`, lowercased: `[+-]? (inf | infinity | nan | digits[.digits][e[+-]digits])`
 * where the mantissa needs a digit on at least one side of the point. No whitespace, no `_`,
 * no hex, not empty.
 */
const RUST_F64 = /^[+-]?(?:inf|infinity|nan|(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)$/i;

/** Parses text the way Rust's `str::parse::<f64>` does; `null` when Rust would fail. */
export function parseRustF64(s: string): number | null {
  if (s.length === 0 || !RUST_F64.test(s)) return null;
  const c = s.charCodeAt(s[0] === '+' || s[0] === '-' ? 1 : 0) | 32;
  if (c === 0x6e /* n */) return Number.NaN;
  if (c === 0x69 /* i */) return s[0] === '-' ? -Infinity : Infinity;
  return Number(s);
}

/**
 * `num(x)`: a JSON number is its value; anything else is `str(x)` parsed as a Rust f64.
 * Booleans, null, arrays and objects never parse (their JSON text is not a float), so they
 * skip the serialisation. Returns `null` for "no number"; NaN is a number here, as in Rust.
 */
export function num(x: unknown): number | null {
  if (typeof x === 'number') return x;
  if (typeof x === 'string') return parseRustF64(x);
  return null;
}

/** Rust's `char::is_whitespace` (Unicode White_Space), which `str::trim` uses. */
const RUST_WS = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const RUST_TRIM = new RegExp(`^[${RUST_WS}]+|[${RUST_WS}]+$`, 'g');
const RUST_TRIM_START = new RegExp(`^[${RUST_WS}]+`);

/** Rust `str::trim` (differs from JS `trim` on U+0085 and U+FEFF). */
export function rustTrim(s: string): string {
  return s.replace(RUST_TRIM, '');
}

/** Rust `str::trim_start`. */
export function rustTrimStart(s: string): string {
  return s.replace(RUST_TRIM_START, '');
}

/** True when the UTF-16 code unit is Rust whitespace (all White_Space chars are in the BMP). */
export function isRustWhitespace(code: number): boolean {
  return (
    (code >= 0x09 && code <= 0x0d) ||
    code === 0x20 ||
    code === 0x85 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  );
}
