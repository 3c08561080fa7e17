/**
 * @module cli/args
 * Command-line parsing for `vexil`: positional words, `--name value` / `--name=value` options,
 * switches that take no value (`--help`, `--json`, …) and options that may repeat (`--prop`).
 */

/** Thrown for a malformed command line; the CLI prints it with the usage text and exits 64. */
export class UsageError extends Error {}

/** Options that take no value. */
const SWITCHES = new Set(['help', 'json', 'dry-run', 'prune', 'active', 'inactive']);
/** Options that may be given more than once (values kept in order). */
const REPEATABLE = new Set(['prop', 'group', 'scope', 'project-scope']);

/** A parsed command line. */
export interface ParsedArgs {
  positional: string[];
  /** Last value of each single-valued option. */
  options: Map<string, string>;
  /** Every value of each repeatable option. */
  lists: Map<string, string[]>;
  /** Switches present (`help`, `json`, `dry-run`, `prune`, …). */
  switches: Set<string>;
}

/**
 * Parses argv (without the node and script names). `-h` is `--help`. A value option at the end
 * of the line, or followed by another option, is a UsageError naming it.
 */
export function parseArgs(args: readonly string[]): ParsedArgs {
  const out: ParsedArgs = { positional: [], options: new Map(), lists: new Map(), switches: new Set() };
  const set = (name: string, value: string) => {
    if (REPEATABLE.has(name)) out.lists.set(name, [...(out.lists.get(name) ?? []), value]);
    else out.options.set(name, value);
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-h') {
      out.switches.add('help');
      continue;
    }
    if (!a.startsWith('--') || a === '--') {
      out.positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq === -1 ? a.slice(2) : a.slice(2, eq);
    if (SWITCHES.has(name)) {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      out.switches.add(name);
      continue;
    }
    if (eq !== -1) {
      set(name, a.slice(eq + 1));
      continue;
    }
    const value = args[i + 1];
    if (value === undefined || (value.startsWith('--') && value.length > 2)) throw new UsageError(`--${name} needs a value`);
    set(name, value);
    i++;
  }
  return out;
}

/** Refuses options a command does not know, naming the first one. */
export function allowOnly(args: ParsedArgs, allowed: readonly string[]): void {
  const known = new Set([...allowed, 'url', 'key', 'json', 'help']);
  for (const name of [...args.options.keys(), ...args.lists.keys(), ...args.switches]) {
    if (!known.has(name)) throw new UsageError(`unknown option --${name}`);
  }
}

/** The value of a required option, or a UsageError naming it. */
export function required(args: ParsedArgs, name: string, what: string): string {
  const v = args.options.get(name);
  if (v === undefined || v === '') throw new UsageError(`--${name} is required (${what})`);
  return v;
}

/** `k=v` pairs of a repeatable option as an object; a pair without `=` is a UsageError. */
export function pairs(args: ParsedArgs, name: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of args.lists.get(name) ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--${name} takes NAME=VALUE, got '${item}'`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}
