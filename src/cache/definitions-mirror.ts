/**
 * @module cache/definitions-mirror
 * The DefinitionsMirror interface: a shared copy of every project's definitions (and token →
 * project) outside PostgreSQL, as PostHog's flag service keeps in its Redis cache. It serves two
 * purposes: a node told of a change reads the new definitions from it in one round trip instead
 * of rebuilding from the database, and a node that meets a project while PostgreSQL is
 * unreachable still answers it. Backend: redis/redis-definitions-mirror.ts.
 */
import type { ProjectDefinitionsRow } from '../store/store.ts';

/** A shared, best-effort copy of project definitions. Every method swallows its own failures. */
export interface DefinitionsMirror {
  /** Stores a project's definitions unless the mirror already holds a newer revision. */
  put(definitions: ProjectDefinitionsRow): Promise<void>;
  /** The mirrored definitions of a project; null when absent or unreachable. */
  get(projectId: number): Promise<ProjectDefinitionsRow | null>;
  /** The mirrored definitions of the project holding `token`; null when absent or unreachable. */
  getByToken(token: string): Promise<ProjectDefinitionsRow | null>;
  close(): Promise<void>;
}

/** JSON for the wire: Dates as ISO strings (revived by {@link parseDefinitions}). */
export function serializeDefinitions(definitions: ProjectDefinitionsRow): string {
  return JSON.stringify(definitions);
}

/** Parses mirrored definitions back into store rows (Dates revived); null when malformed. */
export function parseDefinitions(text: string | null): ProjectDefinitionsRow | null {
  if (text === null) return null;
  try {
    const d = JSON.parse(text) as ProjectDefinitionsRow;
    if (!d || typeof d !== 'object' || !d.project || !Number.isSafeInteger(d.project.revision) || !Array.isArray(d.flags) || !Array.isArray(d.cohorts)) return null;
    d.project.createdAt = new Date(d.project.createdAt);
    for (const f of d.flags) {
      f.createdAt = new Date(f.createdAt);
      f.updatedAt = new Date(f.updatedAt);
    }
    for (const c of d.cohorts) {
      c.createdAt = new Date(c.createdAt);
      c.updatedAt = new Date(c.updatedAt);
    }
    return d;
  } catch {
    return null;
  }
}
