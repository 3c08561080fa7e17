/**
 * @module pages/keys
 * The project's token and secret, and personal API keys: create (the value is shown once),
 * list and revoke. Revoking the key in use signs the user out, as the server then refuses it.
 */
import { useEffect, useState } from 'preact/hooks';
import { apiCall, messageOf } from '../api.ts';
import { when } from '../lib/flag-summary.ts';
import { useSession } from '../session.ts';
import type { PersonalKey, Project } from '../types.ts';

const OBJECTS = ['feature_flag', 'cohort', 'person', 'project', 'personal_api_key'] as const;

function Secret({ label, value, id }: { label: string; value: string; id: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div>
      <label for={id}>{label}</label>
      <div class="row">
        <input id={id} class="mono" readOnly value={value} onFocus={(e) => (e.target as HTMLInputElement).select()} />
        <div class="shrink">
          <button type="button" class="secondary" onClick={() => navigator.clipboard?.writeText(value).then(() => setCopied(true), () => undefined)}>{copied ? 'Copied' : 'Copy'}</button>
        </div>
      </div>
    </div>
  );
}

function ProjectKeys() {
  const { key, base, project } = useSession();
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const rotate = async () => {
    if (!window.confirm('Rotate the project secret? Servers using the current phs_ secret for local evaluation stop working until they get the new one.')) return;
    try {
      const res = await apiCall<Project>(key, 'PATCH', `${base}/rotate_secret_token/`);
      setSecret(res.secret_api_token);
    } catch (err) {
      setError(messageOf(err));
    }
  };
  return (
    <section class="card" aria-labelledby="project-keys-title">
      <h2 id="project-keys-title">Project “{project.name}”</h2>
      <Secret id="project-token" label="Project token (public: SDKs send it)" value={project.api_token} />
      <h3>Project secret</h3>
      {secret === null
        ? <p class="muted">Stored only as a hash, so it cannot be shown again. Rotating makes a new one, shown once.</p>
        : <><p role="status" class="notice">New secret: copy it now, it will not be shown again.</p><Secret id="project-secret" label="Project secret (local evaluation)" value={secret} /></>}
      {error !== null && <p role="alert" class="error">{error}</p>}
      <div class="actions"><button type="button" class="danger" onClick={rotate}>Rotate secret</button></div>
    </section>
  );
}

function CreateKey({ onCreated }: { onCreated: () => void }) {
  const { key, project } = useSession();
  const [label, setLabel] = useState('');
  const [full, setFull] = useState(true);
  const [levels, setLevels] = useState<Record<string, string>>({ feature_flag: 'write', cohort: 'write', person: 'read', project: 'read', personal_api_key: '' });
  const [onlyThis, setOnlyThis] = useState(false);
  const [created, setCreated] = useState<PersonalKey | null>(null);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setCreated(null);
    const scopes = full ? ['*'] : OBJECTS.filter((o) => levels[o]).map((o) => `${o}:${levels[o]}`);
    if (label.trim() === '') return setError('Give the key a label.');
    if (scopes.length === 0) return setError('Choose at least one scope.');
    try {
      setCreated(await apiCall<PersonalKey>(key, 'POST', '/api/personal_api_keys/', { label: label.trim(), scopes, scoped_teams: onlyThis ? [project.id] : null }));
      setLabel('');
      onCreated();
    } catch (err) {
      setError(messageOf(err));
    }
  };
  return (
    <form class="card" onSubmit={submit} noValidate aria-labelledby="create-key-title">
      <h2 id="create-key-title">Create a personal API key</h2>
      {created !== null && created.value !== null && (
        <div role="status" class="notice" data-testid="new-key">
          <p>Key “{created.label}” created. Copy it now: it is shown only once.</p>
          <Secret id="new-key-value" label="New personal API key" value={created.value} />
        </div>
      )}
      <label for="key-label">Label</label>
      <input id="key-label" maxLength={40} value={label} onInput={(e) => setLabel((e.target as HTMLInputElement).value)} />
      <fieldset>
        <legend>Scopes</legend>
        <label class="check"><input type="checkbox" checked={full} onChange={(e) => setFull((e.target as HTMLInputElement).checked)} /> Full access (*)</label>
        {!full && OBJECTS.map((o) => (
          <label key={o} class="inline" style="margin:.2rem 1rem .2rem 0">
            <span class="mono">{o}</span>
            <select value={levels[o]} onChange={(e) => setLevels({ ...levels, [o]: (e.target as HTMLSelectElement).value })}>
              <option value="">none</option><option value="read">read</option><option value="write">write</option>
            </select>
          </label>
        ))}
      </fieldset>
      <label class="check"><input type="checkbox" checked={onlyThis} onChange={(e) => setOnlyThis((e.target as HTMLInputElement).checked)} /> Only this project (#{project.id})</label>
      {error !== null && <p role="alert" class="error">{error}</p>}
      <div class="actions"><button type="submit">Create key</button></div>
    </form>
  );
}

export function KeysPage() {
  const { key } = useSession();
  const [keys, setKeys] = useState<PersonalKey[] | null>(null);
  const [current, setCurrent] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const reload = () => {
    apiCall<PersonalKey[]>(key, 'GET', '/api/personal_api_keys/').then(setKeys, (err) => setError(messageOf(err)));
  };
  useEffect(() => {
    apiCall<PersonalKey>(key, 'GET', '/api/personal_api_keys/@current/').then((k) => setCurrent(k.id), () => undefined);
    reload();
  }, [key]);
  const revoke = async (k: PersonalKey) => {
    const self = k.id === current;
    if (!window.confirm(`Revoke the key “${k.label}”?${self ? ' It is the key you are signed in with: you will be signed out.' : ''} Anything using it stops working.`)) return;
    try {
      await apiCall(key, 'DELETE', `/api/personal_api_keys/${k.id}/`);
      setNotice(`Revoked “${k.label}”.`);
      reload();
    } catch (err) {
      setError(messageOf(err));
    }
  };
  return (
    <section aria-labelledby="keys-title">
      <h1 id="keys-title">Keys</h1>
      <ProjectKeys />
      <CreateKey onCreated={reload} />
      <h2>Personal API keys</h2>
      {notice !== null && <p role="status" class="notice">{notice}</p>}
      {error !== null && <p role="alert" class="error">{error}</p>}
      {keys !== null && (
        <table class="stack">
          <thead><tr><th>Label</th><th>Key</th><th>Scopes</th><th>Projects</th><th>Created</th><th>Last used</th><th><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {keys.map((k) => (
              <tr key={k.id} data-key-label={k.label}>
                <td data-label="Label">{k.label}{k.id === current && <> <span class="badge on">this session</span></>}</td>
                <td data-label="Key" class="mono">{k.mask_value}</td>
                <td data-label="Scopes">{k.scopes.join(', ')}</td>
                <td data-label="Projects">{k.scoped_teams === null || k.scoped_teams.length === 0 ? 'all' : k.scoped_teams.map((t) => `#${t}`).join(', ')}</td>
                <td data-label="Created">{when(k.created_at)}</td>
                <td data-label="Last used">{when(k.last_used_at)}</td>
                <td><button type="button" class="danger" onClick={() => revoke(k)}>Revoke {k.label}</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
