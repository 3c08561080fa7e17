/**
 * @module pages/cohort-editor
 * Create or edit a cohort. Dynamic: nested AND/OR criteria of person properties and other
 * cohorts. Static: add members by distinct id, remove one, or upload a CSV (PostHog's format).
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { apiCall, listAll, messageOf, type Page } from '../api.ts';
import { saveErrors, useDraft } from '../hooks/use-draft.ts';
import { CohortGroupEditor } from '../components/cohort-group-editor.tsx';
import type { FilterChoices } from '../components/property-filter-editor.tsx';
import { apiTree, editorTree } from '../lib/cohort-filters.ts';
import { navigate, setFlash, setLeaveGuard, takeFlash } from '../router.ts';
import { useSession } from '../session.ts';
import type { Cohort, CohortGroup } from '../types.ts';

interface Draft {
  name: string;
  description: string;
  isStatic: boolean;
  tree: CohortGroup;
}

function StaticMembers({ cohort }: { cohort: Cohort }) {
  const { key, base } = useSession();
  const [ids, setIds] = useState('');
  const [removeId, setRemoveId] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const path = `${base}/cohorts/${cohort.id}`;
  const act = async (work: () => Promise<string>) => {
    setMessage(null);
    try {
      setMessage({ ok: true, text: await work() });
    } catch (err) {
      setMessage({ ok: false, text: messageOf(err) });
    }
  };
  const add = () => act(async () => {
    const list = [...new Set(ids.split(/[\s,]+/).map((s) => s.trim()).filter((s) => s !== ''))];
    if (list.length === 0) throw new Error('Enter at least one distinct id.');
    await apiCall(key, 'PATCH', `${path}/add_persons_to_static_cohort/`, { distinct_ids: list });
    setIds('');
    return `Added ${list.length} distinct id${list.length === 1 ? '' : 's'}.`;
  });
  const remove = () => act(async () => {
    const id = removeId.trim();
    if (id === '') throw new Error('Enter the distinct id to remove.');
    const found = await apiCall<Page<{ id: string }>>(key, 'GET', `${base}/persons/?distinct_id=${encodeURIComponent(id)}`);
    const person = found.results[0];
    if (person === undefined) throw new Error(`No person has the distinct id “${id}”.`);
    await apiCall(key, 'PATCH', `${path}/remove_person_from_static_cohort/`, { person_id: person.id });
    setRemoveId('');
    return `Removed “${id}”.`;
  });
  const upload = () => act(async () => {
    if (file === null) throw new Error('Choose a CSV file first.');
    const form = new FormData();
    form.append('csv', file, file.name);
    await apiCall(key, 'PATCH', `${path}/`, form);
    return `Uploaded ${file.name}: persons Vexil knows were added.`;
  });
  return (
    <section class="card" aria-labelledby="members-title">
      <h2 id="members-title">Members</h2>
      <p class="muted">The admin API does not list a static cohort's members; check one person on the Persons page or with Evaluate.</p>
      {message !== null && <p role={message.ok ? 'status' : 'alert'} class={message.ok ? 'notice' : 'error banner'}>{message.text}</p>}
      <label for="members-add">Add distinct ids <small>(separated by spaces, commas or new lines; unknown ids become new persons)</small></label>
      <textarea id="members-add" value={ids} onInput={(e) => setIds((e.target as HTMLTextAreaElement).value)} />
      <div class="actions"><button type="button" onClick={add}>Add members</button></div>
      <label for="members-remove">Remove a member by distinct id</label>
      <div class="row">
        <input id="members-remove" class="mono" value={removeId} onInput={(e) => setRemoveId((e.target as HTMLInputElement).value)} />
        <div class="shrink"><button type="button" class="danger" onClick={remove}>Remove member</button></div>
      </div>
      <label for="members-csv">Upload a CSV <small>(one column of distinct ids, or a person_id / distinct_id / email column with a header; only known persons join)</small></label>
      <div class="row">
        <input id="members-csv" type="file" accept=".csv,text/csv" onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0] ?? null)} />
        <div class="shrink"><button type="button" onClick={upload}>Upload CSV</button></div>
      </div>
    </section>
  );
}

export function CohortEditor({ id }: { id: string }) {
  const { key, base, project } = useSession();
  const isNew = id === 'new';
  const empty: Draft = { name: '', description: '', isStatic: false, tree: { type: 'AND', values: [] } };
  const [cohort, setCohort] = useState<Cohort | null>(null);
  const { draft, setDraft, dirty, reset } = useDraft<Draft>(isNew ? empty : null);
  const [cohorts, setCohorts] = useState<Cohort[]>([]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(() => takeFlash());
  const [busy, setBusy] = useState(false);

  const load = (c: Cohort) => {
    setCohort(c);
    reset({ name: c.name, description: c.description, isStatic: c.is_static, tree: editorTree(c.filters?.properties) });
  };
  useEffect(() => {
    listAll<Cohort>(key, `${base}/cohorts/`).then((cs) => setCohorts(cs.filter((c) => !c.deleted && String(c.id) !== id)), () => undefined);
    if (!isNew) apiCall<Cohort>(key, 'GET', `${base}/cohorts/${id}/`).then(load, (err) => setGeneral(messageOf(err)));
  }, [key, base, id, isNew]);

  const choices = useMemo<FilterChoices>(() => ({
    cohorts: cohorts.map((c) => ({ id: c.id, name: c.name })),
    flags: [],
    groupTypes: project.group_types,
    types: ['person', 'cohort'],
    groupTypeIndex: null,
  }), [cohorts, project]);

  if (draft === null) return general ? <p role="alert" class="error">{general}</p> : <p aria-busy="true">Loading cohort…</p>;
  const set = (patch: Partial<Draft>) => setDraft({ ...draft, ...patch });

  const save = async (e: Event) => {
    e.preventDefault();
    setGeneral(null);
    setNotice(null);
    if (draft.name.trim() === '') {
      setErrors({ name: 'A cohort needs a name.' });
      return;
    }
    setBusy(true);
    try {
      const body: Record<string, unknown> = { name: draft.name, description: draft.description };
      if (!draft.isStatic) body.filters = { properties: apiTree(draft.tree) };
      const result = isNew
        ? await apiCall<Cohort>(key, 'POST', `${base}/cohorts/`, { ...body, is_static: draft.isStatic })
        : await apiCall<Cohort>(key, 'PATCH', `${base}/cohorts/${id}/`, body);
      load(result);
      setErrors({});
      setNotice(`Saved cohort “${result.name}”.`);
      if (isNew) {
        setFlash(`Saved cohort “${result.name}”.`);
        setLeaveGuard(null);
        navigate(`/cohorts/${result.id}`);
      }
    } catch (err) {
      const shown = saveErrors(err, { name: 'name', description: 'description', filters: 'criteria', is_static: 'kind' });
      setErrors(shown.errors);
      setGeneral(shown.general);
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    if (cohort === null || !window.confirm(`Delete the cohort “${cohort.name}”?`)) return;
    try {
      await apiCall(key, 'PATCH', `${base}/cohorts/${cohort.id}/`, { deleted: true });
      setLeaveGuard(null);
      navigate('/cohorts');
    } catch (err) {
      setGeneral(`Not deleted: ${messageOf(err)}`);
    }
  };

  return (
    <>
      <form onSubmit={save} noValidate aria-labelledby="cohort-title">
        <div class="actions">
          <h1 id="cohort-title" style="flex:1;margin:0">{isNew ? 'New cohort' : `Cohort “${cohort?.name ?? ''}”`}</h1>
          {dirty && <span class="muted" role="status">Unsaved changes</span>}
        </div>
        {general !== null && <p role="alert" class="error banner">{general}</p>}
        {notice !== null && <p role="status" class="notice">{notice}</p>}
        <div class="card">
          <label for="cohort-name">Name</label>
          <input id="cohort-name" value={draft.name} aria-invalid={errors.name !== undefined} aria-describedby="cohort-name-err" onInput={(e) => set({ name: (e.target as HTMLInputElement).value })} />
          {errors.name && <p id="cohort-name-err" role="alert" class="error">{errors.name}</p>}
          <label for="cohort-description">Description</label>
          <textarea id="cohort-description" value={draft.description} onInput={(e) => set({ description: (e.target as HTMLTextAreaElement).value })} />
          <fieldset disabled={!isNew}>
            <legend>Kind {isNew ? '' : '(fixed once created)'}</legend>
            <label class="check"><input type="radio" name="cohort-kind" checked={!draft.isStatic} onChange={() => set({ isStatic: false })} /> Dynamic: persons matching criteria</label>
            <label class="check"><input type="radio" name="cohort-kind" checked={draft.isStatic} onChange={() => set({ isStatic: true })} /> Static: a list of persons</label>
          </fieldset>
          {errors.is_static && <p role="alert" class="error">{errors.is_static}</p>}
        </div>
        {!draft.isStatic && (
          <>
            {errors.filters && <p id="cohort-filters-err" role="alert" class="error">{errors.filters}</p>}
            <CohortGroupEditor id="cg" group={draft.tree} depth={0} choices={choices} onChange={(tree) => set({ tree })} />
          </>
        )}
        {draft.isStatic && isNew && <p class="muted">Add members after creating the cohort.</p>}
        <div class="actions">
          <button type="submit" disabled={busy}>{busy ? 'Saving…' : isNew ? 'Create cohort' : 'Save'}</button>
          <a href="#/cohorts">Back to cohorts</a>
          {!isNew && <button type="button" class="danger" style="margin-left:auto" onClick={remove}>Delete cohort</button>}
        </div>
      </form>
      {cohort !== null && cohort.is_static && <StaticMembers cohort={cohort} />}
    </>
  );
}
