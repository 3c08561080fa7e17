/**
 * @module http/streams/flags-stream
 * PostHog's `GET /flags/stream` (posthog-newer.md §5): Server-Sent Events for one project,
 * authenticated by its public token (`Authorization: Bearer phc_…`, or `?token=` / `api_key` /
 * `$token` as earlier versions took it). First `event: connected` with `{"team_id": N}`; then,
 * each time this node starts serving a new revision, one `event: message` per changed flag whose
 * data is the flag's definition as `/flags/definitions` serves it (a removed flag is sent once
 * more with `deleted: true, active: false`).
 *
 * The older evaluation mode (`?evaluations=true&distinct_id=…[&groups=<json>]
 * [&person_properties=<json>][&group_properties=<json>]`) instead sends that user's evaluated
 * flags, `{"flags":{key: value},"errors_while_computing_flags":bool}`, once on connect and after
 * each change, through the same code path as `/flags` (stored persons included).
 */
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken } from '../../auth/keys.ts';
import type { ProjectEntry, SnapshotCache } from '../../cache/snapshot-cache.ts';
import type { Properties } from '../../engine/index.ts';
import { VexilError } from '../../errors.ts';
import { buildDefinitionsBody } from '../definitions/definitions-body.ts';
import { evaluateRequest, type EvaluateDeps } from '../flags/evaluate-request.ts';
import type { FlagsBody } from '../flags/flags-body.ts';
import type { RateLimiter } from '../rate-limit.ts';
import { limitStreamOpen, sseFrame, type SseClient, type SseHub } from './sse-hub.ts';

/** What `/flags/stream` needs. */
export interface FlagsStreamDeps {
  snapshots: SnapshotCache;
  hub: SseHub;
  evaluate: EvaluateDeps;
  now: () => number;
  log: FastifyBaseLogger;
  /** Stream opens per project (VEXIL_RATE_LIMIT_PER_SECOND); null = unlimited. */
  rateLimiter: RateLimiter | null;
}

type Query = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Each flag's definition JSON by key, once per revision. */
function flagJsonByKey(entry: ProjectEntry): Map<string, string> {
  return entry.derive('stream:flagJson', (e) => {
    const body = e.derive('definitions:true', (x) => buildDefinitionsBody(x.definitions, true));
    const flags = (JSON.parse(body.body) as { flags: { key: string }[] }).flags;
    return new Map(flags.map((f) => [f.key, JSON.stringify(f)]));
  });
}

/** `event: message` frames for the flags that differ between two revisions, shared by all readers. */
export function changedFlagFrames(entry: ProjectEntry, previous: ProjectEntry | undefined): Buffer[] {
  const prevKey = `stream:changes:${previous?.revision ?? 'none'}`;
  return entry.derive(prevKey, (e) => {
    const next = flagJsonByKey(e);
    const prev = previous ? flagJsonByKey(previous) : new Map<string, string>();
    const frames: Buffer[] = [];
    for (const [key, json] of next) if (prev.get(key) !== json) frames.push(sseFrame('message', json));
    for (const [key, json] of prev) {
      if (!next.has(key)) frames.push(sseFrame('message', JSON.stringify({ ...JSON.parse(json), deleted: true, active: false })));
    }
    return frames;
  });
}

/** A JSON object query parameter; anything else is a 400. */
function jsonObject(query: Query, name: string): Record<string, unknown> {
  const raw = str(query[name]);
  if (raw === undefined) return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // falls through to the 400
  }
  throw new VexilError('VXL_REQUEST_INVALID', { message: `Query parameter \`${name}\` must be a JSON object.` });
}

/** The evaluation-mode request, decoded from the query like a /flags body. */
function evaluationBody(query: Query, token: string): FlagsBody {
  const distinctId = str(query.distinct_id);
  if (distinctId === undefined) throw new VexilError('VXL_DISTINCT_ID_MISSING');
  return {
    token,
    distinctId: distinctId.slice(0, 200),
    personProperties: jsonObject(query, 'person_properties') as Properties,
    groups: jsonObject(query, 'groups'),
    groupProperties: jsonObject(query, 'group_properties') as Record<string, Properties>,
    anonDistinctId: undefined,
    deviceId: undefined,
    flagKeys: null,
    evaluationContexts: null,
    evaluationRuntime: undefined,
    disableFlags: false,
    // Evaluations are pushed on change events, not on the user's own request: no client IP to locate.
    geoipDisable: true,
  };
}

/** Registers `/flags/stream` (and the trailing-slash form). */
export function registerFlagsStream(app: FastifyInstance, deps: FlagsStreamDeps): void {
  const evaluationFrame = async (entry: ProjectEntry, body: FlagsBody): Promise<Buffer> => {
    const result = await evaluateRequest(deps.evaluate, entry, body, body.distinctId!, {
      runtime: 'server',
      onlySurveyFlags: false,
      onlyOverridePersonProperties: false,
      now: deps.now(),
      log: deps.log,
    });
    const flags: Record<string, string | boolean> = {};
    for (const f of result.flags) flags[f.key] = f.enabled ? (f.variant ?? true) : false;
    return sseFrame('message', JSON.stringify({ flags, errors_while_computing_flags: result.errors }));
  };

  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const query = request.query as Query;
    const token = bearerToken(request.headers.authorization) ?? str(query.token) ?? str(query.api_key) ?? str(query.$token);
    if (token === undefined) throw new VexilError('VXL_TOKEN_MISSING');
    let entry: ProjectEntry | null;
    try {
      entry = await deps.snapshots.resolveToken(token);
    } catch (err) {
      throw new VexilError('VXL_STORE_UNAVAILABLE', { cause: err });
    }
    if (!entry) throw new VexilError('VXL_TOKEN_INVALID');
    limitStreamOpen(deps.rateLimiter, entry.project.id, reply);
    const body = query.evaluations === 'true' ? evaluationBody(query, token) : null;
    const hub = deps.hub;
    let client: SseClient | null = null;
    // Evaluations are pushed in order, one at a time; a change during one is evaluated after it.
    let pending: Promise<void> = Promise.resolve();
    const push = (e: ProjectEntry) => {
      pending = pending.then(async () => {
        if (client) hub.send(client, await evaluationFrame(e, body!));
      }).catch((err: unknown) => deps.log.warn({ err }, 'flags stream evaluation failed'));
    };
    client = hub.open(request.raw, reply, entry.project.id, (next, previous) => {
      if (body) return push(next);
      for (const frame of changedFlagFrames(next, previous)) if (!hub.send(client!, frame)) return;
    });
    if (!client) throw new VexilError('VXL_SHUTTING_DOWN');
    hub.send(client, sseFrame('connected', JSON.stringify({ team_id: entry.project.id })));
    if (body) push(entry);
    return reply;
  };
  for (const url of ['/flags/stream', '/flags/stream/']) app.get(url, { exposeHeadRoute: false }, handler);
}
