/**
 * @module http/flags/runtime
 * Which kind of SDK a /flags request comes from, for `evaluation_runtime` filtering (spec §2;
 * PostHog/posthog rust/feature-flags/src/utils/user_agent.rs).
 */
import type { EvaluationRuntime } from '../../engine/index.ts';

const SERVER_SDKS = new Set(['python', 'ruby', 'php', 'java', 'go', 'node', 'dotnet', 'elixir', 'rs', 'server']);
const CLIENT_SDKS = new Set(['js', 'android', 'ios', 'react-native', 'flutter']);
const BROWSER_MARKERS = ['Mozilla/', 'Chrome/', 'Safari/', 'Firefox/', 'Edge/'];
const SERVER_MARKERS = ['python-requests/', 'curl/'];

type Headers = Record<string, string | string[] | undefined>;

/**
 * The request's runtime: an explicit body value wins (`all` or anything unrecognised ⇒ `all`);
 * else the User-Agent; else browser-only headers ⇒ client; else `unknown`, which PostHog treats
 * as "evaluate only flags without a runtime restriction".
 */
export function detectRuntime(explicit: string | undefined, headers: Headers): EvaluationRuntime {
  if (explicit !== undefined) {
    const v = explicit.toLowerCase();
    return v === 'client' || v === 'server' ? v : 'all';
  }
  const ua = typeof headers['user-agent'] === 'string' ? headers['user-agent'] : '';
  const sdk = /^posthog-([a-z-]+)\//i.exec(ua);
  if (sdk) {
    const name = sdk[1]!.toLowerCase();
    if (SERVER_SDKS.has(name)) return 'server';
    if (CLIENT_SDKS.has(name)) return 'client';
    // Another posthog-… SDK: PostHog does not look at browser markers for it.
  } else if (ua !== '') {
    if (BROWSER_MARKERS.some((m) => ua.includes(m))) return 'client';
    if (SERVER_MARKERS.some((m) => ua.includes(m))) return 'server';
  }
  if (headers.origin !== undefined || headers.referer !== undefined || headers['sec-fetch-mode'] !== undefined || headers['sec-fetch-site'] !== undefined) {
    return 'client';
  }
  return 'unknown';
}
