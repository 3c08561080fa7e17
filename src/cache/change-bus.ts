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
  close(): Promise<void>;
}
