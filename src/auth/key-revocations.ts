/**
 * @module auth/key-revocations
 * Tells whatever caches a personal API key's authorization that a key was revoked, on this node
 * (the admin DELETE) or on another one (a change notice), so the cache drops what it allowed.
 */

/** A signal with listeners: `revoked()` calls each of them. */
export class KeyRevocations {
  readonly #listeners = new Set<() => void>();

  /** Registers a listener; returns a function that removes it. */
  onRevoked(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Some personal API key was revoked: every listener drops its cached authorizations. */
  revoked(): void {
    for (const listener of this.#listeners) listener();
  }
}
