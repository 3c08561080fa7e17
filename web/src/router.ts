/**
 * @module router
 * Hash routing (`#/flags/12`): the server serves one page at `/` and needs no fallback routes.
 * A page with unsaved changes registers a guard; leaving it asks first.
 */
import { useEffect, useState } from 'preact/hooks';

let guard: (() => boolean) | null = null;
let current = location.hash;

/** While set, navigating away asks `confirm` when `dirty()` is true. */
export function setLeaveGuard(dirty: (() => boolean) | null): void {
  guard = dirty;
}

const LEAVE_MESSAGE = 'You have unsaved changes. Leave this page and lose them?';

/** Asks before leaving a dirty page; true when it is fine to leave. */
export function confirmLeave(): boolean {
  return guard === null || !guard() || window.confirm(LEAVE_MESSAGE);
}

/** The route as path segments: `#/flags/12` → ['flags', '12']. */
export function useRoute(): string[] {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const onChange = () => {
      if (location.hash === current) return;
      if (!confirmLeave()) {
        // Put the old address back without a second prompt.
        history.replaceState(null, '', current || '#/');
        return;
      }
      guard = null;
      current = location.hash;
      setHash(location.hash);
    };
    const onUnload = (e: BeforeUnloadEvent) => {
      if (guard !== null && guard()) e.preventDefault();
    };
    window.addEventListener('hashchange', onChange);
    window.addEventListener('beforeunload', onUnload);
    return () => {
      window.removeEventListener('hashchange', onChange);
      window.removeEventListener('beforeunload', onUnload);
    };
  }, []);
  return hash.replace(/^#\/?/, '').split('/').filter((s) => s !== '').map(decodeURIComponent);
}

/** Goes to `path` (e.g. `/flags/3`), through the leave guard. */
export function navigate(path: string): void {
  location.hash = `#${path}`;
}

let flash: string | null = null;

/** A message for the next page (e.g. "Saved" after a create moves to the new flag's address). */
export function setFlash(message: string): void {
  flash = message;
}

/** Takes the pending message, once. */
export function takeFlash(): string | null {
  const m = flash;
  flash = null;
  return m;
}
