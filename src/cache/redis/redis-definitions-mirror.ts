/**
 * @module cache/redis/redis-definitions-mirror
 * DefinitionsMirror in Redis: `<prefix>:defs:<projectId>` holds the definitions as JSON and
 * `<prefix>:token:<token>` the project id. Writes are revision-guarded in one Lua script, so two
 * nodes racing never leave an older revision in place of a newer one. Keys do not expire: like
 * PostHog's flag cache, the mirror is what a node falls back on while PostgreSQL is away.
 * A write Redis cannot take (down, reconnecting, timed out) is kept, newest revision per project,
 * and written when the connection is ready again: otherwise a change made during a Redis outage
 * would leave the mirror behind for good, and a node meeting that project during a later
 * PostgreSQL outage would answer 503 (or serve the older revision).
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ProjectDefinitionsRow } from '../../store/store.ts';
import { parseDefinitions, serializeDefinitions, type DefinitionsMirror } from '../definitions-mirror.ts';

/** Connection and key prefix of a RedisDefinitionsMirror. */
export interface RedisDefinitionsMirrorOptions {
  url: string;
  /** Key prefix; tests use their own. Default `vexil`. */
  prefix?: string;
  log: Logger;
  /** Per-command deadline, ms: a slow Redis must not hold up a rebuild. Default 500. */
  commandTimeoutMs?: number;
}

/** KEYS[1] revision key, KEYS[2] defs key, KEYS[3] token key; ARGV revision, JSON, project id. */
const PUT_IF_NEWER = `
local current = tonumber(redis.call('GET', KEYS[1]) or '-1')
if current > tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('SET', KEYS[3], ARGV[3])
return 1`;

/** The mirror on one Redis connection (fails fast while Redis is down; callers fall back). */
export class RedisDefinitionsMirror implements DefinitionsMirror {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #log: Logger;
  #warned = false;
  /** Writes Redis could not take, newest revision per project, replayed on the next `ready`. */
  readonly #unwritten = new Map<number, ProjectDefinitionsRow>();
  #replaying = false;
  /** Resolves true once the first connection is ready; false at its first failure or after the connect deadline. */
  readonly #firstReady: Promise<boolean>;

  constructor(options: RedisDefinitionsMirrorOptions) {
    this.#prefix = options.prefix ?? 'vexil';
    this.#log = options.log;
    this.#redis = new Redis(options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: options.commandTimeoutMs ?? 500,
      // `<prefix>:mirror` in CLIENT LIST, beside the change bus's `<prefix>:bus-pub`/`bus-sub`.
      connectionName: `${this.#prefix.replace(/\s/g, '_')}:mirror`,
    });
    // Outages are reported by the change bus; here one line per outage is enough.
    this.#redis.on('error', (err: Error) => this.#warn(err));
    this.#redis.on('ready', () => {
      this.#warned = false;
      void this.#replayUnwritten();
    });
    // The first connection may take longer than one command (TLS, a busy server); but once it
    // failed (refused, reset), waiting longer would only delay every rebuild until the deadline.
    const deadlineMs = 3000;
    this.#firstReady = new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), deadlineMs);
      timer.unref();
      this.#redis.once('ready', () => {
        clearTimeout(timer);
        resolve(true);
      });
      this.#redis.once('error', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
  }

  /**
   * Whether to ask Redis now: yes when connected; right after start, once the first connection
   * is up (bounded); never while it is down, so a Redis outage adds no wait to a rebuild.
   */
  async #usable(): Promise<boolean> {
    if (this.#redis.status === 'ready') return true;
    return (await this.#firstReady) && (this.#redis.status as string) === 'ready';
  }

  #warn(err: unknown): void {
    if (this.#warned) return;
    this.#warned = true;
    this.#log.warn({ err }, 'definitions mirror (redis) unreachable');
  }

  async put(definitions: ProjectDefinitionsRow): Promise<void> {
    if (!(await this.#usable())) {
      this.#keepUnwritten(definitions);
      return;
    }
    try {
      await this.#write(definitions);
      this.#forgetUnwritten(definitions);
      // A write that timed out while the connection stayed up is retried now, not at the next reconnect.
      if (this.#unwritten.size > 0) void this.#replayUnwritten();
    } catch (err) {
      this.#keepUnwritten(definitions);
      this.#warn(err);
    }
  }

  #write(definitions: ProjectDefinitionsRow): Promise<unknown> {
    const { id, revision, apiToken } = definitions.project;
    return this.#redis.eval(
      PUT_IF_NEWER,
      3,
      `${this.#prefix}:rev:${id}`,
      `${this.#prefix}:defs:${id}`,
      `${this.#prefix}:token:${apiToken}`,
      String(revision),
      serializeDefinitions(definitions),
      String(id),
    );
  }

  #keepUnwritten(definitions: ProjectDefinitionsRow): void {
    const held = this.#unwritten.get(definitions.project.id);
    if (!held || held.project.revision <= definitions.project.revision) this.#unwritten.set(definitions.project.id, definitions);
  }

  #forgetUnwritten(definitions: ProjectDefinitionsRow): void {
    const held = this.#unwritten.get(definitions.project.id);
    if (held && held.project.revision <= definitions.project.revision) this.#unwritten.delete(definitions.project.id);
  }

  /**
   * Writes what Redis missed, once per reconnect. Each write is revision-guarded, so a replayed
   * revision never replaces a newer one another node (or a later put) wrote meanwhile.
   */
  async #replayUnwritten(): Promise<void> {
    if (this.#replaying || this.#unwritten.size === 0) return;
    this.#replaying = true;
    try {
      for (const definitions of [...this.#unwritten.values()]) {
        if (this.#redis.status !== 'ready') return; // the next `ready` carries on
        await this.#write(definitions);
        this.#forgetUnwritten(definitions);
      }
      this.#log.info('definitions mirror (redis) caught up after an outage');
    } catch (err) {
      this.#warn(err);
    } finally {
      this.#replaying = false;
    }
  }

  async get(projectId: number): Promise<ProjectDefinitionsRow | null> {
    if (!(await this.#usable())) return null;
    try {
      return parseDefinitions(await this.#redis.get(`${this.#prefix}:defs:${projectId}`));
    } catch (err) {
      this.#warn(err);
      return null;
    }
  }

  async getByToken(token: string): Promise<ProjectDefinitionsRow | null> {
    if (!(await this.#usable())) return null;
    try {
      const id = Number(await this.#redis.get(`${this.#prefix}:token:${token}`));
      if (!Number.isSafeInteger(id) || id <= 0) return null;
      const defs = await this.get(id);
      // A rotated token still points at its old project: only the current token counts.
      return defs && defs.project.apiToken === token ? defs : null;
    } catch (err) {
      this.#warn(err);
      return null;
    }
  }

  async close(): Promise<void> {
    try {
      if (this.#redis.status === 'ready') await this.#redis.quit();
      else this.#redis.disconnect();
    } catch {
      this.#redis.disconnect();
    }
  }
}
