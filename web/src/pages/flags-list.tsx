/**
 * @module pages/flags-list
 * Every flag of the project, filtered in the browser by text, status, tag and type, with its
 * rollout summary and last change.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { listAll, messageOf } from '../api.ts';
import { flagType, rolloutSummary, when } from '../lib/flag-summary.ts';
import { useSession } from '../session.ts';
import type { Flag } from '../types.ts';

export function FlagsList() {
  const { key, base } = useSession();
  const [flags, setFlags] = useState<Flag[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [search, setSearch] = useState('');
  const [status, setStatus] = useState('all');
  const [tag, setTag] = useState('');
  const [type, setType] = useState('all');

  useEffect(() => {
    listAll<Flag>(key, `${base}/feature_flags/`).then(setFlags, (err) => setError(messageOf(err)));
  }, [key, base]);

  const tags = useMemo(() => [...new Set((flags ?? []).flatMap((f) => f.tags))].sort(), [flags]);
  const shown = useMemo(() => {
    const q = search.trim().toLowerCase();
    return (flags ?? []).filter((f) =>
      (q === '' || f.key.toLowerCase().includes(q) || f.name.toLowerCase().includes(q)) &&
      (status === 'all' || (status === 'active') === f.active) &&
      (tag === '' || f.tags.includes(tag)) &&
      (type === 'all' || flagType(f) === type));
  }, [flags, search, status, tag, type]);

  return (
    <section aria-labelledby="flags-title">
      <div class="actions">
        <h1 id="flags-title" style="margin:0;flex:1">Feature flags</h1>
        <a class="button" href="#/flags/new">New flag</a>
      </div>
      <div class="filters" role="search">
        <label class="grow">Search<input type="search" value={search} placeholder="key or name" onInput={(e) => setSearch((e.target as HTMLInputElement).value)} /></label>
        <label>Status
          <select value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}>
            <option value="all">All</option><option value="active">Active</option><option value="inactive">Inactive</option>
          </select>
        </label>
        <label>Tag
          <select value={tag} onChange={(e) => setTag((e.target as HTMLSelectElement).value)}>
            <option value="">Any</option>
            {tags.map((t) => <option key={t} value={t}>{t}</option>)}
          </select>
        </label>
        <label>Type
          <select value={type} onChange={(e) => setType((e.target as HTMLSelectElement).value)}>
            <option value="all">All</option><option value="boolean">Boolean</option><option value="multivariate">Multivariate</option>
          </select>
        </label>
      </div>
      {error !== null && <p role="alert" class="error">{error}</p>}
      {flags === null && error === null && <p aria-busy="true">Loading flags…</p>}
      {flags !== null && (
        <>
          <p class="muted" aria-live="polite">{shown.length} of {flags.length} flags</p>
          <table class="stack">
            <thead><tr><th>Key</th><th>Status</th><th>Type</th><th>Rollout</th><th>Tags</th><th>Last change</th></tr></thead>
            <tbody>
              {shown.map((f) => (
                <tr key={f.id}>
                  <td data-label="Key"><a href={`#/flags/${f.id}`} class="mono">{f.key}</a>{f.name && <small>{f.name}</small>}</td>
                  <td data-label="Status"><span class={`badge ${f.active ? 'on' : 'off'}`}>{f.active ? 'Active' : 'Inactive'}</span></td>
                  <td data-label="Type">{flagType(f)}</td>
                  <td data-label="Rollout">{rolloutSummary(f)}</td>
                  <td data-label="Tags">{f.tags.map((t) => <span class="badge" key={t}>{t}</span>)}</td>
                  <td data-label="Last change">{when(f.updated_at)} <a href={`#/activity/${f.id}`}>history</a></td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
