/**
 * @module session
 * The signed-in state: the personal API key lives in sessionStorage only (gone when the tab
 * closes; never in localStorage or a cookie), plus the chosen project id.
 */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Project } from './types.ts';

const KEY_ITEM = 'vexil.personalApiKey';
const PROJECT_ITEM = 'vexil.projectId';

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY_ITEM);
}

export function storeKey(key: string | null): void {
  if (key === null) {
    sessionStorage.removeItem(KEY_ITEM);
    sessionStorage.removeItem(PROJECT_ITEM);
  } else sessionStorage.setItem(KEY_ITEM, key);
}

export function storedProjectId(): number | null {
  const raw = sessionStorage.getItem(PROJECT_ITEM);
  return raw === null ? null : Number(raw);
}

export function storeProjectId(id: number): void {
  sessionStorage.setItem(PROJECT_ITEM, String(id));
}

/** What every page gets: the key, the project and a way to call the API. */
export interface Session {
  key: string;
  projects: Project[];
  project: Project;
  /** `/api/projects/<id>` of the current project, for building paths. */
  base: string;
  refreshProjects(): Promise<void>;
}

export const SessionContext = createContext<Session | null>(null);

/** The current session; pages render only inside a signed-in shell. */
export function useSession(): Session {
  const s = useContext(SessionContext);
  if (s === null) throw new Error('useSession outside a signed-in shell');
  return s;
}
