/**
 * @module cache/snapshot-cache
 * Compiled flag snapshots per project, held in memory and swapped when the project's revision
 * changes (change notices first, a periodic revision poll as the safety net). The hot path reads
 * it synchronously: a cached token costs no I/O.
 */
import type { Logger } from 'pino';
import { compileSnapshot, type FlagSnapshot, type ProjectDefs } from '../engine/index.ts';
import type { ProjectDefinitionsRow, ProjectRow, Store } from '../store/store.ts';
import type { ChangeBus, ChangeNotice } from './change-bus.ts';
import type { DefinitionsMirror } from './definitions-mirror.ts';

/** One project at one revision: its definitions, compiled snapshot and anything derived from them. */
export interface ProjectEntry {
  readonly project: ProjectRow;
  readonly revision: number;
  readonly definitions: ProjectDefinitionsRow;
  readonly snapshot: FlagSnapshot;
  /**
   * Memoizes a value derived only from this revision (serialized bodies, key lists), so it is
   * computed once per snapshot instead of once per request. `key` names the derivation.
   */
  derive<T>(key: string, build: (entry: ProjectEntry) => T): T;
}

/** Dependencies and timing of a SnapshotCache. */
export interface SnapshotCacheOptions {
  store: Store;
  bus: ChangeBus;
  log: Logger;
  /** Revision poll interval, ms; 0 disables the poll (tests drive it with pollOnce()). */
  pollIntervalMs: number;
  /**
   * Shared copy of the definitions (Redis). Receivers of a change notice read the new revision
   * from it instead of rebuilding from the database, and a project met while the database is
   * unreachable is loaded from it. Optional: without it every load reads the store.
   */
  mirror?: DefinitionsMirror;
  /** Called after each rebuild attempt (metrics). */
  onRebuild?: (result: 'ok' | 'error', cachedProjects: number) => void;
}

/** How long an unknown token is remembered as unknown, so junk tokens cost one query, not one per request. */
const UNKNOWN_TOKEN_TTL_MS = 2000;
const UNKNOWN_TOKEN_MAX = 10_000;
/** Back-off of retries of an announced revision nobody could give yet (see #retryAnnounced). */
const ANNOUNCED_RETRY_MIN_MS = 250;
const ANNOUNCED_RETRY_MAX_MS = 5000;

/**
 * Shape every stored token has: printable ASCII, bounded length. Anything else (NUL bytes,
 * which PostgreSQL rejects outright; megabyte strings) cannot match, so it is not looked up.
 */
const PLAUSIBLE_TOKEN = /^[\x21-\x7e]{1,200}$/;

/**
 * Maps a store row set to the engine's input (PostHog wire names). Remote-configuration flags
 * with encrypted payloads are left out: PostHog's flag service skips them (rust feature-flags
 * `feature_flag_list.rs` from_pg: "can only be accessed via the dedicated /remote_config
 * endpoint"), so /flags neither evaluates nor returns them.
 */
export function toProjectDefs(defs: ProjectDefinitionsRow): ProjectDefs {
  return {
    flags: defs.flags.filter((f) => !(f.isRemoteConfiguration && f.hasEncryptedPayloads)).map((f) => ({
      id: f.id,
      key: f.key,
      name: f.name,
      filters: f.filters,
      active: f.active,
      deleted: f.deleted,
      ensure_experience_continuity: f.ensureExperienceContinuity,
      version: f.version,
      evaluation_runtime: f.evaluationRuntime,
      evaluation_tags: f.evaluationTags,
      bucketing_identifier: f.bucketingIdentifier,
    })),
    cohorts: defs.cohorts.map((c) => ({ id: c.id, name: c.name, is_static: c.isStatic, deleted: c.deleted, filters: c.filters })),
    groupTypeMapping: defs.groupTypeMapping,
    timezone: defs.project.timezone,
  };
}

function makeEntry(definitions: ProjectDefinitionsRow, snapshot: FlagSnapshot): ProjectEntry {
  const memo = new Map<string, unknown>();
  const entry: ProjectEntry = {
    project: definitions.project,
    revision: definitions.project.revision,
    definitions,
    snapshot,
    derive<T>(key: string, build: (e: ProjectEntry) => T): T {
      if (memo.has(key)) return memo.get(key) as T;
      const value = build(entry);
      memo.set(key, value);
      return value;
    },
  };
  return entry;
}

/** Snapshots of every project this node has served, kept current. */
export class SnapshotCache {
  readonly #opts: SnapshotCacheOptions;
  readonly #byId = new Map<number, ProjectEntry>();
  readonly #idByToken = new Map<string, number>();
  readonly #unknownTokens = new Map<string, number>();
  readonly #inflight = new Map<number, Promise<ProjectEntry | null>>();
  readonly #stale = new Set<number>();
  /** The last mirror write a store load started, per project: refresh() waits for it instead of writing twice. */
  readonly #mirroring = new Map<number, { revision: number; done: Promise<void> }>();
  /** Highest revision a notice announced per project, not yet served: the mirror may hold it. */
  readonly #announced = new Map<number, number>();
  /** Back-off retries of announced revisions that neither the mirror nor the store could give yet. */
  readonly #retries = new Map<number, { timer: NodeJS.Timeout | null; delayMs: number }>();
  readonly #swapListeners = new Set<(entry: ProjectEntry, previous: ProjectEntry | undefined) => void>();
  #unsubscribe: (() => void) | null = null;
  #unsubscribeResumed: (() => void) | null = null;
  #timer: NodeJS.Timeout | null = null;
  #polling = false;

  constructor(options: SnapshotCacheOptions) {
    this.#opts = options;
  }

  /** Subscribes to change notices and starts the revision poll. */
  start(): void {
    this.#unsubscribe = this.#opts.bus.subscribe((n) => this.#onNotice(n));
    // Back on the bus after a cut: notices sent meanwhile are lost, so compare revisions now
    // rather than at the next poll.
    this.#unsubscribeResumed = this.#opts.bus.onResumed(() => {
      this.#opts.log.info('change notices resumed; checking revisions');
      void this.pollOnce();
    });
    if (this.#opts.pollIntervalMs > 0) {
      this.#timer = setInterval(() => void this.pollOnce(), this.#opts.pollIntervalMs);
      this.#timer.unref();
    }
  }

  /** Stops listening and polling; in-flight loads finish on their own. */
  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.#unsubscribeResumed?.();
    this.#unsubscribeResumed = null;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    for (const r of this.#retries.values()) if (r.timer) clearTimeout(r.timer);
    this.#retries.clear();
  }

  /** Projects whose compiled snapshot this node holds (it can serve their flags without the store). */
  get loadedProjects(): number {
    return this.#byId.size;
  }

  /**
   * Calls `listener` each time this node starts serving a new revision of a project (whichever
   * node made the change): streams push from here. Returns a function that removes it.
   */
  onSwap(listener: (entry: ProjectEntry, previous: ProjectEntry | undefined) => void): () => void {
    this.#swapListeners.add(listener);
    return () => this.#swapListeners.delete(listener);
  }

  /** The change bus's paths and whether this node is subscribed on each (readiness shows them). */
  get changeNotices(): Readonly<Record<string, boolean>> {
    return this.#opts.bus.subscribed;
  }

  /** Whether projects can be loaded without the store (a definitions mirror is configured). */
  get hasMirror(): boolean {
    return this.#opts.mirror !== undefined;
  }

  /** The cached entry for a project token, without I/O; undefined when not cached. */
  peekToken(token: string): ProjectEntry | undefined {
    const id = this.#idByToken.get(token);
    return id === undefined ? undefined : this.#byId.get(id);
  }

  /** The entry for a project token, loading it on a miss; null when no project has the token. */
  async resolveToken(token: string): Promise<ProjectEntry | null> {
    const cached = this.peekToken(token);
    if (cached) return cached;
    if (!PLAUSIBLE_TOKEN.test(token)) return null;
    const unknownUntil = this.#unknownTokens.get(token);
    if (unknownUntil !== undefined && unknownUntil > Date.now()) return null;
    let project: ProjectRow | null;
    try {
      project = await this.#opts.store.getProjectByApiToken(token);
    } catch (err) {
      // The database is unreachable: a project this node never served may still be mirrored.
      const mirrored = await this.#opts.mirror?.getByToken(token);
      if (!mirrored) throw err;
      return this.#install(mirrored.project.id, mirrored, 'mirror');
    }
    if (!project) {
      if (this.#unknownTokens.size >= UNKNOWN_TOKEN_MAX) this.#unknownTokens.clear();
      this.#unknownTokens.set(token, Date.now() + UNKNOWN_TOKEN_TTL_MS);
      return null;
    }
    return this.#byId.get(project.id) ?? this.#load(project.id);
  }

  /** The entry for a project id, loading it on a miss; null when the project does not exist. */
  async get(projectId: number): Promise<ProjectEntry | null> {
    return this.#byId.get(projectId) ?? this.#load(projectId);
  }

  /**
   * Rebuilds a project's snapshot now (after a local write) and tells the other nodes. Resolves
   * once this node serves the new revision.
   */
  async refresh(projectId: number): Promise<void> {
    this.#unknownTokens.clear();
    const entry = await this.#load(projectId);
    // The mirror first, so a node that hears the notice finds the new revision there. The load
    // from the store has already started that write: one mirror write per change.
    if (entry && this.#opts.mirror) {
      const started = this.#mirroring.get(projectId);
      await (started && started.revision >= entry.revision ? started.done : this.#opts.mirror.put(entry.definitions));
    }
    await this.#opts.bus.publish({ projectId, revision: entry?.revision ?? null });
  }

  /** Compares every cached revision with the store's and rebuilds the ones that moved. */
  async pollOnce(): Promise<void> {
    if (this.#polling || this.#byId.size === 0) return;
    this.#polling = true;
    try {
      const revisions = await this.#opts.store.listProjectRevisions();
      const loads: Promise<unknown>[] = [];
      for (const [id, entry] of this.#byId) {
        const revision = revisions.get(id);
        if (revision === undefined) this.#drop(id);
        else if (revision !== entry.revision) loads.push(this.#load(id));
      }
      await Promise.all(loads);
    } catch (err) {
      this.#opts.log.warn({ err }, 'snapshot revision poll failed');
    } finally {
      this.#polling = false;
    }
  }

  #onNotice(notice: ChangeNotice): void {
    // Person-data and key notices leave the definitions alone.
    if (notice.persons || notice.keysRevoked) return;
    this.#unknownTokens.clear();
    const entry = this.#byId.get(notice.projectId);
    // Uncached projects load on first use; a notice about a revision we already serve is our own echo.
    if (!entry || (notice.revision !== null && entry.revision >= notice.revision)) return;
    // The same notice arriving on a second bus (Redis and PostgreSQL both carry definitions notices).
    if (notice.revision !== null && (this.#announced.get(notice.projectId) ?? -1) >= notice.revision) return;
    if (notice.revision !== null) this.#announced.set(notice.projectId, Math.max(notice.revision, this.#announced.get(notice.projectId) ?? 0));
    void this.#load(notice.projectId).catch(() => undefined);
  }

  /** One load per project at a time; a change noticed during a load triggers one more pass. */
  #load(projectId: number): Promise<ProjectEntry | null> {
    const inflight = this.#inflight.get(projectId);
    if (inflight) {
      this.#stale.add(projectId);
      return inflight;
    }
    const run = (async () => {
      try {
        let entry: ProjectEntry | null;
        do {
          this.#stale.delete(projectId);
          entry = await this.#build(projectId);
        } while (this.#stale.has(projectId));
        return entry;
      } finally {
        this.#inflight.delete(projectId);
      }
    })();
    this.#inflight.set(projectId, run);
    return run;
  }

  async #build(projectId: number): Promise<ProjectEntry | null> {
    const { store, log, onRebuild, mirror } = this.#opts;
    const current = this.#byId.get(projectId);
    // A notice named a revision: the publisher mirrored it before publishing, so one Redis
    // round trip replaces the database rebuild (the propagation fast path).
    const announced = this.#announced.get(projectId);
    if (mirror && announced !== undefined) {
      const mirrored = await mirror.get(projectId);
      if (mirrored && mirrored.project.revision >= announced) return this.#install(projectId, mirrored, 'mirror');
    }
    let defs: ProjectDefinitionsRow | null;
    try {
      defs = await store.loadProjectDefinitions(projectId);
    } catch (err) {
      // The database is unreachable: the mirror still knows projects this node never served.
      const mirrored = current ? null : await mirror?.get(projectId);
      if (mirrored) return this.#install(projectId, mirrored, 'mirror');
      onRebuild?.('error', this.#byId.size);
      // Keep serving the previous snapshot; without one the caller sees the error.
      log.error({ err, projectId }, 'snapshot rebuild failed');
      if (announced !== undefined && mirror) this.#retryAnnounced(projectId);
      if (current) return current;
      throw err;
    }
    if (!defs) {
      this.#drop(projectId);
      return null;
    }
    // Keeps the mirror filled for projects that have not changed since it was (re)started.
    if (mirror) this.#mirror(projectId, defs, mirror);
    try {
      return this.#install(projectId, defs, 'store');
    } catch (err) {
      onRebuild?.('error', this.#byId.size);
      log.error({ err, projectId }, 'snapshot compile failed');
      if (current) return current;
      throw err;
    }
  }

  /**
   * A notice announced a revision that neither the mirror (its writer had not caught up: Redis
   * had just come back) nor the database (unreachable) could give. No other notice may come, and
   * the revision poll needs the database too, so try again with back-off (250 ms doubling to
   * 5 s) until one of them can: the mirror catches up as soon as the writer's Redis is back.
   */
  #retryAnnounced(projectId: number): void {
    const retry = this.#retries.get(projectId) ?? { timer: null, delayMs: ANNOUNCED_RETRY_MIN_MS };
    if (retry.timer || this.#unsubscribe === null) return;
    retry.timer = setTimeout(() => {
      retry.timer = null;
      retry.delayMs = Math.min(retry.delayMs * 2, ANNOUNCED_RETRY_MAX_MS);
      if (this.#announced.has(projectId)) void this.#load(projectId).catch(() => undefined);
    }, retry.delayMs);
    retry.timer.unref();
    this.#retries.set(projectId, retry);
  }

  /** Starts writing `defs` to the mirror (never throws: the mirror swallows its failures). */
  #mirror(projectId: number, defs: ProjectDefinitionsRow, mirror: DefinitionsMirror): void {
    // Kept after it settles (one entry per project): refresh() may ask once the write is done.
    this.#mirroring.set(projectId, { revision: defs.project.revision, done: mirror.put(defs) });
  }

  /** Compiles and serves `defs` unless this node already serves that revision or a newer one. */
  #install(projectId: number, defs: ProjectDefinitionsRow, source: 'store' | 'mirror'): ProjectEntry {
    const { log, onRebuild } = this.#opts;
    const current = this.#byId.get(projectId);
    const announced = this.#announced.get(projectId);
    if (announced !== undefined && defs.project.revision >= announced) {
      this.#announced.delete(projectId);
      const retry = this.#retries.get(projectId);
      if (retry?.timer) clearTimeout(retry.timer);
      this.#retries.delete(projectId);
    }
    // Same revision (or an older read racing a newer one): keep what is served.
    if (current && defs.project.revision <= current.revision && defs.project.apiToken === current.project.apiToken) return current;
    const entry = makeEntry(defs, compileSnapshot(toProjectDefs(defs)));
    if (current && current.project.apiToken !== entry.project.apiToken) this.#idByToken.delete(current.project.apiToken);
    this.#byId.set(projectId, entry);
    this.#idByToken.set(entry.project.apiToken, projectId);
    onRebuild?.('ok', this.#byId.size);
    log.info({ projectId, revision: entry.revision, flags: defs.flags.length, source }, 'snapshot reloaded');
    for (const listener of this.#swapListeners) {
      try {
        listener(entry, current);
      } catch (err) {
        log.error({ err, projectId }, 'snapshot swap listener failed');
      }
    }
    return entry;
  }

  #drop(projectId: number): void {
    this.#mirroring.delete(projectId);
    const entry = this.#byId.get(projectId);
    if (!entry) return;
    this.#byId.delete(projectId);
    this.#idByToken.delete(entry.project.apiToken);
  }
}
