/**
 * @module cache/change-bus
 * The ChangeBus interface: how a node tells the others that a project's definitions changed.
 * Backends: in-process (memory/, single node) and Redis pub/sub (redis/, several nodes).
 */

/**
 * A notice that a project's flags, cohorts or group types changed — or, with `persons`, that
 * stored person or group data changed, so cached person lookups of other nodes must go.
 */
export interface ChangeNotice {
  projectId: number;
  /** The project's revision after the change, when the publisher knows it; null ⇒ "reload anyway". */
  revision: number | null;
  /** Person-data notice (no snapshot rebuild): which cached lookups are stale. */
  persons?: PersonsChanged;
  /**
   * A personal API key was revoked (keys are not per project: `projectId` is 0): cached
   * authorizations must go. No snapshot rebuild.
   */
  keysRevoked?: true;
}

/** Stale person data: some distinct ids, some groups, or (`all`) every person of the project. */
export interface PersonsChanged {
  distinctIds?: string[];
  groups?: { groupTypeIndex: number; groupKey: string }[];
  all?: boolean;
}

/**
 * Delivers change notices to every subscriber on every node, the publisher's own included.
 * Delivery is best effort: a lost notice is caught by the snapshot cache's revision poll.
 */
export interface ChangeBus {
  /** Sends a notice. Never throws: a failure is logged by the backend and left to the poll. */
  publish(notice: ChangeNotice): Promise<void>;
  /** Registers a handler; returns a function that removes it. */
  subscribe(handler: (notice: ChangeNotice) => void): () => void;
  /**
   * Registers a handler called each time delivery resumes after this node was cut off from the
   * bus (a reconnect, or a first connection made after start): notices sent meanwhile may be
   * lost, so the caller re-checks what it caches. Returns a function that removes it.
   */
  onResumed(handler: () => void): () => void;
  /**
   * Each path notices reach this node by, and whether it is subscribed on it right now
   * (`{ redis: true, postgres: false }`); `{}` for in-process delivery, which cannot be cut.
   */
  readonly subscribed: Readonly<Record<string, boolean>>;
  close(): Promise<void>;
}

/** Parses a notice from the wire; null for anything malformed (another writer on the channel). */
export function parseNotice(message: string): ChangeNotice | null {
  try {
    const v = JSON.parse(message) as { projectId?: unknown; revision?: unknown; persons?: unknown; keysRevoked?: unknown };
    if (!Number.isSafeInteger(v.projectId)) return null;
    const revision = Number.isSafeInteger(v.revision) ? (v.revision as number) : null;
    const notice: ChangeNotice = { projectId: v.projectId as number, revision };
    const persons = parsePersons(v.persons);
    if (persons) notice.persons = persons;
    if (v.keysRevoked === true) notice.keysRevoked = true;
    return notice;
  } catch {
    return null;
  }
}

function parsePersons(raw: unknown): PersonsChanged | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const p = raw as Record<string, unknown>;
  const out: PersonsChanged = {};
  if (p.all === true) out.all = true;
  if (Array.isArray(p.distinctIds)) out.distinctIds = p.distinctIds.filter((d): d is string => typeof d === 'string');
  if (Array.isArray(p.groups)) {
    out.groups = p.groups.filter(
      (g): g is { groupTypeIndex: number; groupKey: string } =>
        typeof g === 'object' && g !== null && Number.isInteger((g as { groupTypeIndex?: unknown }).groupTypeIndex) && typeof (g as { groupKey?: unknown }).groupKey === 'string',
    );
  }
  return out;
}
