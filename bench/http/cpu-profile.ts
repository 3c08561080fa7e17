/**
 * @module bench/http/cpu-profile
 * The parts of a V8 CPU profile (`node --cpu-prof`) the profile readers use, and a short name
 * for where a function lives.
 */
import { readFileSync } from 'node:fs';

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface Profile {
  nodes: ProfileNode[];
  /** V8's monotonic clock, µs. */
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export function readProfile(file: string): Profile {
  return JSON.parse(readFileSync(file, 'utf8')) as Profile;
}

/** A short place for a script URL: `pkg` for node_modules, `src/…` for the project, `node:…` for core. */
export function place(url: string): string {
  if (url === '') return '(native/VM)';
  if (url.startsWith('node:')) return url;
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 13).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const src = url.indexOf('/dist/');
  return src >= 0 ? url.slice(src + 6) : url;
}
