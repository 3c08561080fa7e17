/**
 * @module cli/output
 * What the CLI prints: aligned tables for people, JSON (`--json`) for scripts.
 */

/** Where a command writes; stdout lines, one per call. */
export interface Out {
  stdout(line: string): void;
  stderr(line: string): void;
}

/** A cell as text: null/undefined empty, objects as compact JSON. */
function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v).replace(/[\r\n\t]+/g, ' ');
}

/**
 * Prints rows as a table with a header line; columns are `[header, value-of-row]` pairs. An
 * empty list prints `(none)` so a person sees the command worked.
 */
export function printTable<T>(out: Out, rows: readonly T[], columns: ReadonlyArray<[string, (row: T) => unknown]>): void {
  if (rows.length === 0) {
    out.stdout('(none)');
    return;
  }
  const texts = rows.map((r) => columns.map(([, f]) => cell(f(r))));
  const widths = columns.map(([h], i) => Math.max(h.length, ...texts.map((t) => t[i]!.length)));
  const line = (parts: string[]) => parts.map((p, i) => (i === parts.length - 1 ? p : p.padEnd(widths[i]!))).join('  ').trimEnd();
  out.stdout(line(columns.map(([h]) => h)));
  for (const t of texts) out.stdout(line(t));
}

/** Prints `label: value` lines for one object. */
export function printFields(out: Out, fields: ReadonlyArray<[string, unknown]>): void {
  const width = Math.max(...fields.map(([k]) => k.length));
  for (const [k, v] of fields) out.stdout(`${`${k}:`.padEnd(width + 2)}${cell(v)}`);
}

/** Pretty JSON for `--json`. */
export function printJson(out: Out, value: unknown): void {
  out.stdout(JSON.stringify(value, null, 2));
}
