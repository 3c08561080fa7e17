/**
 * @module cache/change-bus
 * The ChangeBus interface: how a node tells the others that a project's definitions changed.
 * Backends: in-process (memory/, single node) and Redis pub/sub (redis/, several nodes).
 */

/** A notice that a project's flags, cohorts or group types changed. */
export interface ChangeNotice {
  projectId: number;
  /** The project's revision after the change, when the publisher knows it; null ⇒ "reload anyway". */
  revision: number | null;
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
