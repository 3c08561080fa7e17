/**
 * @module app
 * The shell: sign-in gate, navigation, project switcher and the page for the current route.
 * A key the server refuses (401: wrong or revoked) signs the user out with the reason shown.
 */
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { listAll, messageOf, setUnauthorizedHandler } from './api.ts';
import { ActivityPage } from './pages/activity.tsx';
import { CohortEditor } from './pages/cohort-editor.tsx';
import { CohortsList } from './pages/cohorts-list.tsx';
import { EvaluatePage } from './pages/evaluate.tsx';
import { FlagEditor } from './pages/flag-editor.tsx';
import { FlagsList } from './pages/flags-list.tsx';
import { KeysPage } from './pages/keys.tsx';
import { PersonsPage } from './pages/persons.tsx';
import { SignIn } from './pages/sign-in.tsx';
import { useRoute } from './router.ts';
import { SessionContext, storedKey, storedProjectId, storeKey, storeProjectId, type Session } from './session.ts';
import type { Project } from './types.ts';

const NAV: Array<[string, string]> = [
  ['flags', 'Flags'],
  ['evaluate', 'Evaluate'],
  ['cohorts', 'Cohorts'],
  ['persons', 'Persons & groups'],
  ['activity', 'Activity'],
  ['keys', 'Keys'],
];

function Page({ route }: { route: string[] }) {
  const [section = 'flags', id] = route;
  switch (section) {
    case 'flags':
      return id === undefined ? <FlagsList /> : <FlagEditor id={id} />;
    case 'evaluate':
      return <EvaluatePage />;
    case 'cohorts':
      return id === undefined ? <CohortsList /> : <CohortEditor id={id} />;
    case 'persons':
      return <PersonsPage />;
    case 'activity':
      return <ActivityPage flagId={id} />;
    case 'keys':
      return <KeysPage />;
    default:
      return <p role="alert">No page here. <a href="#/flags">Go to flags</a>.</p>;
  }
}

export function App() {
  const [key, setKey] = useState<string | null>(storedKey());
  const [refusal, setRefusal] = useState<string | null>(null);
  const [projects, setProjects] = useState<Project[] | null>(null);
  const [projectId, setProjectId] = useState<number | null>(storedProjectId());
  const [loadError, setLoadError] = useState<string | null>(null);
  const route = useRoute();

  const signOut = useCallback((reason: string | null) => {
    storeKey(null);
    setKey(null);
    setProjects(null);
    setRefusal(reason);
  }, []);

  useEffect(() => {
    setUnauthorizedHandler((detail) => signOut(`The server refused this key: ${detail} It may be wrong or revoked; sign in with another key.`));
  }, [signOut]);

  const refreshProjects = useCallback(async () => {
    if (key === null) return;
    try {
      setProjects(await listAll<Project>(key, '/api/projects/'));
      setLoadError(null);
    } catch (err) {
      setLoadError(messageOf(err));
    }
  }, [key]);

  useEffect(() => {
    void refreshProjects();
  }, [refreshProjects]);

  const project = projects?.find((p) => p.id === projectId) ?? projects?.[0] ?? null;
  const session = useMemo<Session | null>(
    () => (key !== null && projects !== null && project !== null
      ? { key, projects, project, base: `/api/projects/${project.id}`, refreshProjects }
      : null),
    [key, projects, project, refreshProjects],
  );

  if (key === null) {
    return (
      <SignIn
        refusal={refusal}
        onSignedIn={(k) => {
          storeKey(k);
          setRefusal(null);
          setKey(k);
        }}
      />
    );
  }
  const section = route[0] ?? 'flags';
  return (
    <div class="shell">
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <a class="brand" href="#/flags">Vexil</a>
        <nav aria-label="Main">
          <ul>
            {NAV.map(([path, label]) => (
              <li key={path}>
                <a href={`#/${path}`} aria-current={section === path ? 'page' : undefined}>{label}</a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="top-right">
          {projects !== null && projects.length > 0 && (
            <label class="inline">
              <span>Project</span>
              <select
                value={String(project?.id ?? '')}
                onChange={(e) => {
                  const id = Number((e.target as HTMLSelectElement).value);
                  storeProjectId(id);
                  setProjectId(id);
                }}
              >
                {projects.map((p) => <option key={p.id} value={String(p.id)}>{p.name} (#{p.id})</option>)}
              </select>
            </label>
          )}
          <button type="button" class="secondary" onClick={() => signOut(null)}>Sign out</button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {loadError !== null && <p role="alert" class="error">Could not load projects: {loadError}</p>}
        {projects !== null && projects.length === 0 && <p role="alert">This key can see no project.</p>}
        {session === null && loadError === null && projects === null && <p aria-busy="true">Loading…</p>}
        {session !== null && (
          <SessionContext.Provider value={session}>
            <Page key={`${session.project.id}:${route.join('/')}`} route={route} />
          </SessionContext.Provider>
        )}
      </main>
    </div>
  );
}
