/**
 * @module pages/persons
 * Look up a person by distinct id, or a group by type and key, and see the stored properties
 * that `/flags` uses; the newest persons are listed for a start.
 */
import { useEffect, useState } from 'preact/hooks';
import { apiCall, messageOf, type Page } from '../api.ts';
import { when } from '../lib/flag-summary.ts';
import { useSession } from '../session.ts';

interface Person {
  id: string;
  name: string;
  distinct_ids: string[];
  properties: Record<string, unknown>;
  created_at: string;
}

interface Group {
  group_type_index: number;
  group_key: string;
  group_properties: Record<string, unknown>;
  created_at: string;
}

function Properties({ label, props }: { label: string; props: Record<string, unknown> }) {
  const entries = Object.entries(props).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return <p class="muted">No stored properties.</p>;
  return (
    <table class="stack" aria-label={label}>
      <thead><tr><th>Property</th><th>Value</th></tr></thead>
      <tbody>
        {entries.map(([k, v]) => (
          <tr key={k}><td data-label="Property" class="mono">{k}</td><td data-label="Value" class="mono">{typeof v === 'string' ? v : JSON.stringify(v)}</td></tr>
        ))}
      </tbody>
    </table>
  );
}

function PersonLookup() {
  const { key, base } = useSession();
  const [query, setQuery] = useState('');
  const [person, setPerson] = useState<Person | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [recent, setRecent] = useState<Person[]>([]);
  useEffect(() => {
    apiCall<Page<Person>>(key, 'GET', `${base}/persons/?limit=10`).then((p) => setRecent(p.results), () => undefined);
  }, [key, base]);
  const find = async (id: string) => {
    setMessage(null);
    setPerson(null);
    if (id.trim() === '') {
      setMessage('Enter a distinct id.');
      return;
    }
    try {
      const res = await apiCall<Page<Person>>(key, 'GET', `${base}/persons/?distinct_id=${encodeURIComponent(id.trim())}`);
      if (res.results[0] === undefined) setMessage(`No person has the distinct id “${id.trim()}”.`);
      else setPerson(res.results[0]);
    } catch (err) {
      setMessage(messageOf(err));
    }
  };
  return (
    <section class="card" aria-labelledby="person-title">
      <h2 id="person-title">Person</h2>
      <form class="row" onSubmit={(e) => { e.preventDefault(); void find(query); }}>
        <div><label for="person-distinct-id">distinct_id</label><input id="person-distinct-id" class="mono" value={query} onInput={(e) => setQuery((e.target as HTMLInputElement).value)} /></div>
        <div class="shrink"><button type="submit">Look up person</button></div>
      </form>
      {message !== null && <p role="alert">{message}</p>}
      {person !== null && (
        <div data-testid="person">
          <h3>{person.name}</h3>
          <p class="muted">Person <code>{person.id}</code>, first seen {when(person.created_at)}. Distinct ids: {person.distinct_ids.map((d) => <code key={d}>{d} </code>)}</p>
          <Properties label="Person properties" props={person.properties} />
        </div>
      )}
      {recent.length > 0 && (
        <>
          <h3>Newest persons</h3>
          <ul>
            {recent.map((p) => (
              <li key={p.id}><button type="button" class="link" onClick={() => { setQuery(p.distinct_ids[0] ?? ''); void find(p.distinct_ids[0] ?? ''); }}>{p.name}</button> <small class="muted">{when(p.created_at)}</small></li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function GroupLookup() {
  const { key, base, project } = useSession();
  const [index, setIndex] = useState(String(project.group_types[0]?.group_type_index ?? 0));
  const [groupKey, setGroupKey] = useState('');
  const [group, setGroup] = useState<Group | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const find = async (e: Event) => {
    e.preventDefault();
    setMessage(null);
    setGroup(null);
    if (groupKey.trim() === '') {
      setMessage('Enter a group key.');
      return;
    }
    try {
      const res = await apiCall<Page<Group>>(key, 'GET', `${base}/groups/?group_type_index=${index}&group_key=${encodeURIComponent(groupKey.trim())}`);
      if (res.results[0] === undefined) setMessage(`No group “${groupKey.trim()}” of that type.`);
      else setGroup(res.results[0]);
    } catch (err) {
      setMessage(messageOf(err));
    }
  };
  return (
    <section class="card" aria-labelledby="group-title">
      <h2 id="group-title">Group</h2>
      {project.group_types.length === 0
        ? <p class="muted">This project has no group types yet; they appear when an SDK sends a group.</p>
        : (
          <form class="row" onSubmit={find}>
            <div class="shrink">
              <label for="group-type">Group type</label>
              <select id="group-type" value={index} onChange={(e) => setIndex((e.target as HTMLSelectElement).value)}>
                {project.group_types.map((g) => <option key={g.group_type_index} value={String(g.group_type_index)}>{g.group_type}</option>)}
              </select>
            </div>
            <div><label for="group-key">Group key</label><input id="group-key" class="mono" value={groupKey} onInput={(e) => setGroupKey((e.target as HTMLInputElement).value)} /></div>
            <div class="shrink"><button type="submit">Look up group</button></div>
          </form>
        )}
      {message !== null && <p role="alert">{message}</p>}
      {group !== null && (
        <div data-testid="group">
          <p class="muted">Group <code>{group.group_key}</code>, first seen {when(group.created_at)}.</p>
          <Properties label="Group properties" props={group.group_properties} />
        </div>
      )}
    </section>
  );
}

export function PersonsPage() {
  return (
    <section aria-labelledby="persons-title">
      <h1 id="persons-title">Persons &amp; groups</h1>
      <PersonLookup />
      <GroupLookup />
    </section>
  );
}
