/**
 * @module bench/peers/peer
 * The shape every evaluator in the engine benchmark is driven through: Vexil and its peers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchUser } from '../fixtures/fifty-flag-project.ts';

/** A flag's value as PostHog SDKs report it: `false`, `true`, or the variant key. */
export type FlagValue = boolean | string;

export interface Peer {
  /** Table label, e.g. "posthog-node 5.70.0". */
  readonly name: string;
  /** Which API is timed, for the report. */
  readonly path: string;
  /** true ⇒ `evaluate` returns a Promise and the harness awaits each call (inside the timing). */
  readonly async: boolean;
  /**
   * Evaluates all 50 flags for one user, doing the work a caller would do to read every
   * value. Returns something derived from the results so the work cannot be optimised away.
   */
  evaluate(user: BenchUser): unknown;
  /** The 50 values for one user, normalised to `FlagValue` (for sanity and agreement checks; untimed). */
  values(user: BenchUser): Promise<Record<string, FlagValue>>;
  /** Releases timers and sockets. */
  close(): Promise<void>;
}

/** Escapes a literal for use inside a regular expression (icontains → case-insensitive regex). */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The installed version of a dependency, read from its package.json (some packages do not export it). */
export function packageVersion(name: string): string {
  // Resolved from the working directory, so it works from bench/ (tsx) and dist/bench/ (compiled) alike.
  const path = join(process.cwd(), 'node_modules', name, 'package.json');
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
}
