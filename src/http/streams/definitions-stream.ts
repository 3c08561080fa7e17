/**
 * @module http/streams/definitions-stream
 * Vexil's `GET /flags/definitions/stream?token=<phc>`: the local-evaluation definitions as
 * Server-Sent Events, authorised exactly like `/flags/definitions` (secret or personal key).
 *
 * Protocol (README "Streams"): every event is a full payload,
 * `id: <project revision>` / `event: definitions` /
 * `data: {"revision":N,"etag":"<same ETag as /flags/definitions>","timezone":"<project zone>","definitions":{…}}`.
 * The first event is the current state; then one per revision this node starts serving,
 * whichever node made the change. Revisions are the store's, so ids mean the same on every
 * node: a client reconnecting with `Last-Event-ID` equal to the current revision gets no
 * initial event (it missed nothing); any other id gets the current full payload, which is
 * exactly what it missed. Heartbeats are `: heartbeat` comments.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ProjectEntry, SnapshotCache } from '../../cache/snapshot-cache.ts';
import { VexilError } from '../../errors.ts';
import type { Store } from '../../store/store.ts';
import { createDefinitionsAuthorizer } from '../definitions/definitions-auth.ts';
import type { KeyRevocations } from '../../auth/key-revocations.ts';
import { buildDefinitionsBody } from '../definitions/definitions-body.ts';
import type { RateLimiter } from '../rate-limit.ts';
import { projectByToken } from '../routes/definitions.ts';
import { limitStreamOpen, sseFrame, type SseHub } from './sse-hub.ts';

/** What the definitions stream needs. */
export interface DefinitionsStreamDeps {
  store: Store;
  snapshots: SnapshotCache;
  hub: SseHub;
  rateLimiter: RateLimiter | null;
  /** Revoked personal API keys: remembered authorizations are dropped at once. */
  keyRevocations?: KeyRevocations;
}

/** The full-payload event of a revision, built once and shared by every reader. */
export function definitionsFrame(entry: ProjectEntry): Buffer {
  return entry.derive('stream:definitions', (e) => {
    const defs = e.derive('definitions:true', (x) => buildDefinitionsBody(x.definitions, true));
    // The project's zone travels with the definitions: naive dates in date filters are read in it.
    const timezone = JSON.stringify(e.project.timezone);
    return sseFrame('definitions', `{"revision":${e.revision},"etag":"${defs.etag}","timezone":${timezone},"definitions":${defs.body}}`, e.revision);
  });
}

/** The `Last-Event-ID` header, or `last_event_id` in the query for clients that cannot set headers. */
function lastEventId(request: FastifyRequest): string | undefined {
  const header = request.headers['last-event-id'];
  if (typeof header === 'string' && header !== '') return header.trim();
  const q = (request.query as Record<string, unknown>).last_event_id;
  return typeof q === 'string' && q !== '' ? q : undefined;
}

/** Registers `/flags/definitions/stream` (and the trailing-slash form). */
export function registerDefinitionsStream(app: FastifyInstance, deps: DefinitionsStreamDeps): void {
  const authorize = createDefinitionsAuthorizer(deps.store, Date.now, deps.keyRevocations);
  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const entry = await projectByToken(deps.snapshots, request.query as Record<string, string | undefined>);
    await authorize(request.headers.authorization, entry.project.id);
    limitStreamOpen(deps.rateLimiter, entry.project.id, reply);
    // The entry may have moved on while authorising; start from what is served now.
    const current = deps.snapshots.peekToken(entry.project.apiToken) ?? entry;
    const client = deps.hub.open(request.raw, reply, current.project.id, (next) => {
      deps.hub.send(client!, definitionsFrame(next));
    });
    if (!client) throw new VexilError('VXL_SHUTTING_DOWN');
    if (lastEventId(request) !== String(current.revision)) deps.hub.send(client, definitionsFrame(current));
    return reply;
  };
  for (const url of ['/flags/definitions/stream', '/flags/definitions/stream/']) app.get(url, { exposeHeadRoute: false }, handler);
}
