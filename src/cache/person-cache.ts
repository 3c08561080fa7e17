/**
 * @module cache/person-cache
 * A bounded in-process LRU of the per-request evaluation data of /flags (stored person
 * properties, static cohorts, group properties, hash-key overrides), keyed by everything the
 * lookup depends on — the project id first, so one project's person is never served to another.
 */
import type { EvaluationData, EvaluationDataQuery } from '../store/store.ts';

export interface PersonCacheOptions {
  /** Most entries kept (VEXIL_PERSON_CACHE_SIZE); 0 disables the cache: every get misses, set keeps nothing. */
  maxEntries: number;
  /**
   * Longest an entry is served, ms; 0 = until evicted or invalidated. Default 30,000: invalidation
   * is per node, so this bounds how stale a person written through another node can be.
   */
  maxAgeMs?: number;
  /** Clock in ms (tests pin it). Default Date.now. */
  now?: () => number;
  /** Called on every get, for metrics. */
  onLookup?(result: 'hit' | 'miss'): void;
  /**
   * Whether cached entries can be trusted now: false while this node does not hear other nodes'
   * person notices (its change-bus subscription is down), when every get misses and set keeps
   * nothing, so a write through another node is read from the store at once. Default: always.
   */
  trusted?: () => boolean;
}

/** Proof of when a load started: `set` with it is dropped if what the load read was invalidated meanwhile. */
export interface LoadTicket {
  readonly seq: number;
}

interface Entry {
  data: EvaluationData;
  storedAt: number;
  /** Index keys this entry is listed under (project, distinct ids, groups). */
  deps: string[];
}

const projectDep = (projectId: number): string => `p\u0000${projectId}`;
const idDep = (projectId: number, distinctId: string): string => `d\u0000${projectId}\u0000${distinctId}`;
const groupDep = (projectId: number, groupTypeIndex: number, groupKey: string): string => `g\u0000${projectId}\u0000${groupTypeIndex}\u0000${groupKey}`;

/** The cache key: every input of `Store.loadEvaluationData`, groups in index order. */
export function personCacheKey(q: EvaluationDataQuery): string {
  const groups = [...q.groups].sort((a, b) => a.groupTypeIndex - b.groupTypeIndex).map((g) => [g.groupTypeIndex, g.groupKey]);
  return JSON.stringify([q.projectId, q.distinctId, groups, q.overrideDistinctIds ?? null, q.staticCohorts !== false]);
}

function depsOf(q: EvaluationDataQuery): string[] {
  const ids = new Set([q.distinctId, ...(q.overrideDistinctIds ?? [])]);
  return [
    projectDep(q.projectId),
    ...[...ids].map((id) => idDep(q.projectId, id)),
    ...q.groups.map((g) => groupDep(q.projectId, g.groupTypeIndex, g.groupKey)),
  ];
}

/**
 * LRU of EvaluationData. Values are shared, not copied: callers must treat them as read-only.
 * Invalidate on every write that changes what a lookup returns: person writes and merges
 * (`invalidate` with every distinct id of the persons), group writes (`invalidateGroups`),
 * hash-key override writes (`invalidate` with the request's ids), static cohort and bulk
 * changes (`invalidateProject`).
 */
export class PersonCache {
  private readonly entries = new Map<string, Entry>();
  private readonly index = new Map<string, Set<string>>();
  private readonly maxEntries: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  private readonly onLookup?: (result: 'hit' | 'miss') => void;
  private readonly trusted: () => boolean;
  /** Invalidation sequence; with `recent`, lets a load that raced a write be discarded. */
  private seq = 0;
  private loadsInFlight = 0;
  /** dep → seq of its last invalidation; kept only while loads are in flight. */
  private readonly recent = new Map<string, number>();
  /** seq of the last `clear()`. */
  private clearedAt = -1;

  constructor(options: PersonCacheOptions) {
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 0) {
      throw new RangeError(`maxEntries must be a non-negative integer, got ${options.maxEntries}`);
    }
    this.maxEntries = options.maxEntries;
    this.maxAgeMs = options.maxAgeMs ?? 30_000;
    this.now = options.now ?? Date.now;
    this.onLookup = options.onLookup;
    this.trusted = options.trusted ?? (() => true);
  }

  /** Entries held. */
  get size(): number {
    return this.entries.size;
  }

  /** The cached data for exactly this query, or undefined. A hit becomes the most recently used. */
  get(query: EvaluationDataQuery): EvaluationData | undefined {
    if (!this.trusted()) {
      this.onLookup?.('miss');
      return undefined;
    }
    const key = personCacheKey(query);
    const entry = this.entries.get(key);
    if (entry !== undefined && this.maxAgeMs > 0 && this.now() - entry.storedAt >= this.maxAgeMs) this.delete(key);
    else if (entry !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, entry);
      this.onLookup?.('hit');
      return entry.data;
    }
    this.onLookup?.('miss');
    return undefined;
  }

  /** Marks the start of a store load; pass the ticket to `set`, or to `release` if the load fails. */
  begin(): LoadTicket {
    this.loadsInFlight++;
    return { seq: this.seq };
  }

  /** Ends a load without storing anything. */
  release(_ticket: LoadTicket): void {
    this.loadsInFlight = Math.max(0, this.loadsInFlight - 1);
    if (this.loadsInFlight === 0) this.recent.clear();
  }

  /**
   * Stores data for the query, evicting the least recently used entry when full. With a ticket,
   * the data is dropped if anything it depends on was invalidated after `begin()`.
   */
  set(query: EvaluationDataQuery, data: EvaluationData, ticket?: LoadTicket): void {
    const deps = depsOf(query);
    if (ticket !== undefined) {
      const stale = this.clearedAt > ticket.seq || deps.some((d) => (this.recent.get(d) ?? -1) > ticket.seq);
      this.release(ticket);
      if (stale) return;
    }
    if (this.maxEntries === 0 || !this.trusted()) return;
    const key = personCacheKey(query);
    this.delete(key);
    this.entries.set(key, { data, storedAt: this.now(), deps });
    for (const d of deps) {
      let keys = this.index.get(d);
      if (keys === undefined) this.index.set(d, (keys = new Set()));
      keys.add(key);
    }
    while (this.entries.size > this.maxEntries) this.delete(this.entries.keys().next().value!);
  }

  /** get, else load and set (race-safe). A failing load stores nothing and rethrows. */
  async getOrLoad(query: EvaluationDataQuery, load: () => Promise<EvaluationData>): Promise<EvaluationData> {
    const hit = this.get(query);
    if (hit !== undefined) return hit;
    const ticket = this.begin();
    let data: EvaluationData;
    try {
      data = await load();
    } catch (err) {
      this.release(ticket);
      throw err;
    }
    this.set(query, data, ticket);
    return data;
  }

  /** Drops every entry that reads any of these distinct ids of the project (as person or as override id). */
  invalidate(projectId: number, distinctIds: Iterable<string>): void {
    for (const id of distinctIds) this.invalidateDep(idDep(projectId, id));
  }

  /** Drops every entry that reads one of these groups. */
  invalidateGroups(projectId: number, groups: Iterable<{ groupTypeIndex: number; groupKey: string }>): void {
    for (const g of groups) this.invalidateDep(groupDep(projectId, g.groupTypeIndex, g.groupKey));
  }

  /** Drops every entry of the project. */
  invalidateProject(projectId: number): void {
    this.invalidateDep(projectDep(projectId));
  }

  /** Drops everything. */
  clear(): void {
    this.clearedAt = ++this.seq;
    for (const key of [...this.entries.keys()]) this.delete(key);
  }

  private invalidateDep(dep: string): void {
    this.seq++;
    if (this.loadsInFlight > 0) this.recent.set(dep, this.seq);
    const keys = this.index.get(dep);
    if (keys === undefined) return;
    for (const key of [...keys]) this.delete(key);
  }

  private delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    for (const d of entry.deps) {
      const keys = this.index.get(d);
      keys?.delete(key);
      if (keys?.size === 0) this.index.delete(d);
    }
  }
}
