/**
 * @module pages/cohorts-list
 * The project's cohorts, dynamic and static, with links to their editors.
 */
import { useEffect, useState } from 'preact/hooks';
import { listAll, messageOf } from '../api.ts';
import { when } from '../lib/flag-summary.ts';
import { useSession } from '../session.ts';
import type { Cohort } from '../types.ts';

export function CohortsList() {
  const { key, base } = useSession();
  const [cohorts, setCohorts] = useState<Cohort[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    listAll<Cohort>(key, `${base}/cohorts/`).then((cs) => setCohorts(cs.filter((c) => !c.deleted)), (err) => setError(messageOf(err)));
  }, [key, base]);
  return (
    <section aria-labelledby="cohorts-title">
      <div class="actions">
        <h1 id="cohorts-title" style="margin:0;flex:1">Cohorts</h1>
        <a class="button" href="#/cohorts/new">New cohort</a>
      </div>
      {error !== null && <p role="alert" class="error">{error}</p>}
      {cohorts === null && error === null && <p aria-busy="true">Loading cohorts…</p>}
      {cohorts !== null && cohorts.length === 0 && <p>No cohorts yet.</p>}
      {cohorts !== null && cohorts.length > 0 && (
        <table class="stack">
          <thead><tr><th>Name</th><th>Kind</th><th>Description</th><th>Last change</th></tr></thead>
          <tbody>
            {cohorts.map((c) => (
              <tr key={c.id}>
                <td data-label="Name"><a href={`#/cohorts/${c.id}`}>{c.name || `Cohort #${c.id}`}</a> <small class="mono">#{c.id}</small></td>
                <td data-label="Kind">{c.is_static ? 'static' : c.cohort_type === 'behavioral' ? 'dynamic (behavioral: never matches in Vexil)' : 'dynamic'}</td>
                <td data-label="Description">{c.description}</td>
                <td data-label="Last change">{when(c.last_calculation)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
