/**
 * @module ingest/person-ids
 * Expands distinct ids to every distinct id of their persons: a write through one id changes
 * what /flags sees for all of them, so caches must drop them all.
 */
import type { Store } from '../store/store.ts';

/** Lookups run at once at most; keeps a big batch from taking the whole pool. */
const CONCURRENCY = 8;

/**
 * Every distinct id of the persons of `distinctIds`, plus the ids themselves (a deleted or
 * missing person still invalidates its ids). One read per id; order is unspecified.
 */
export async function expandDistinctIds(store: Store, projectId: number, distinctIds: Iterable<string>): Promise<string[]> {
  const out = new Set<string>(distinctIds);
  const queue = [...out];
  const worker = async (): Promise<void> => {
    for (let id = queue.pop(); id !== undefined; id = queue.pop()) {
      const person = await store.getPersonByDistinctId(projectId, id);
      for (const other of person?.distinctIds ?? []) out.add(other);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
  return [...out];
}
