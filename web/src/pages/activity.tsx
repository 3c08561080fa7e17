/**
 * @module pages/activity
 * Flag history from `GET …/feature_flags/:id/activity/`: who changed what, with before/after of
 * each changed field. Without a flag, the recent changes of the most recently changed flags.
 */
import { useEffect, useState } from 'preact/hooks';
import { apiCall, listAll, messageOf } from '../api.ts';
import { when } from '../lib/flag-summary.ts';
import { useSession } from '../session.ts';
import type { Activity, Flag } from '../types.ts';

interface ActivityPage {
  results: Activity[];
  next: string | null;
  total_count: number;
}

/** How many flags and entries per flag the recent-changes view reads (bounded requests). */
const RECENT_FLAGS = 20;
const RECENT_PER_FLAG = 10;

const pretty = (v: unknown) => (v === null || v === undefined ? '(none)' : JSON.stringify(v, null, 2));

/**
 * One side of a before/after pair, its lines that the other side lacks marked, so a one-number
 * change in a long `filters` object stands out. (A line diff would align better; this needs none.)
 */
function Side({ value, other, kind }: { value: unknown; other: unknown; kind: 'before' | 'after' }) {
  const lines = pretty(value).split('\n');
  const theirs = new Set(pretty(other).split('\n'));
  return (
    <pre class={kind}>
      {lines.map((line, i) => (
        <span key={i}>{theirs.has(line) ? line : <mark>{line}</mark>}{'\n'}</span>
      ))}
    </pre>
  );
}

function Entry({ entry, flagKey }: { entry: Activity; flagKey?: string }) {
  return (
    <article class="card" data-testid="activity-entry">
      <h3>
        {flagKey && <><a class="mono" href={`#/activity/${entry.item_id}`}>{flagKey}</a> — </>}
        {entry.activity} by {entry.user.first_name} <small class="muted">{when(entry.created_at)}</small>
      </h3>
      {entry.detail.changes.map((c, i) => (
        <div key={i}>
          <p><strong>{c.field ?? 'flag'}</strong> <span class="muted">{c.action}</span></p>
          <div class="diff">
            <div><small>Before</small><Side kind="before" value={c.before} other={c.after} /></div>
            <div><small>After</small><Side kind="after" value={c.after} other={c.before} /></div>
          </div>
        </div>
      ))}
    </article>
  );
}

function FlagHistory({ flagId }: { flagId: string }) {
  const { key, base } = useSession();
  const [flag, setFlag] = useState<Flag | null>(null);
  const [entries, setEntries] = useState<Activity[]>([]);
  const [page, setPage] = useState(1);
  const [more, setMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    apiCall<Flag>(key, 'GET', `${base}/feature_flags/${flagId}/`).then(setFlag, (err) => setError(messageOf(err)));
  }, [key, base, flagId]);
  useEffect(() => {
    apiCall<ActivityPage>(key, 'GET', `${base}/feature_flags/${flagId}/activity/?limit=50&page=${page}`).then((res) => {
      setEntries((prev) => (page === 1 ? res.results : [...prev, ...res.results]));
      setMore(res.next !== null);
    }, (err) => setError(messageOf(err)));
  }, [key, base, flagId, page]);
  return (
    <section aria-labelledby="history-title">
      <h1 id="history-title">History of <code>{flag?.key ?? `#${flagId}`}</code></h1>
      <p><a href={`#/flags/${flagId}`}>Edit this flag</a> · <a href="#/activity">All recent changes</a></p>
      {error !== null && <p role="alert" class="error">{error}</p>}
      {entries.map((e) => <Entry key={e.id} entry={e} />)}
      {more && <button type="button" class="secondary" onClick={() => setPage(page + 1)}>Load older changes</button>}
    </section>
  );
}

function RecentChanges() {
  const { key, base } = useSession();
  const [entries, setEntries] = useState<Array<{ entry: Activity; flagKey: string }> | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    (async () => {
      const flags = (await listAll<Flag>(key, `${base}/feature_flags/`))
        .sort((a, b) => b.updated_at.localeCompare(a.updated_at))
        .slice(0, RECENT_FLAGS);
      const pages = await Promise.all(flags.map((f) => apiCall<ActivityPage>(key, 'GET', `${base}/feature_flags/${f.id}/activity/?limit=${RECENT_PER_FLAG}`)
        .then((p) => p.results.map((entry) => ({ entry, flagKey: f.key })))));
      setEntries(pages.flat().sort((a, b) => b.entry.created_at.localeCompare(a.entry.created_at)));
    })().catch((err) => setError(messageOf(err)));
  }, [key, base]);
  return (
    <section aria-labelledby="activity-title">
      <h1 id="activity-title">Recent flag changes</h1>
      <p class="muted">The latest changes of the {RECENT_FLAGS} most recently changed flags. A flag's full history is under its “history” link.</p>
      {error !== null && <p role="alert" class="error">{error}</p>}
      {entries === null && error === null && <p aria-busy="true">Loading…</p>}
      {entries !== null && entries.length === 0 && <p>No changes yet.</p>}
      {entries?.map(({ entry, flagKey }) => <Entry key={`${entry.item_id}:${entry.id}`} entry={entry} flagKey={flagKey} />)}
    </section>
  );
}

export function ActivityPage({ flagId }: { flagId: string | undefined }) {
  return flagId === undefined ? <RecentChanges /> : <FlagHistory flagId={flagId} />;
}
