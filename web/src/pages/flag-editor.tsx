/**
 * @module pages/flag-editor
 * Create or edit one flag: key, description, status, tags, release conditions, variants with
 * payloads, dependencies (flag filters) and experience continuity. API validation errors are
 * shown next to the field named by `attr`; leaving with unsaved changes asks first.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { saveErrors, useDraft } from '../hooks/use-draft.ts';
import { apiCall, listAll, messageOf } from '../api.ts';
import { ConditionEditor } from '../components/condition-editor.tsx';
import type { FilterChoices } from '../components/property-filter-editor.tsx';
import { VariantsEditor } from '../components/variants-editor.tsx';
import { bodyOf, checkDraft, draftOf, emptyDraft, type FlagDraft } from '../lib/flag-draft.ts';
import { when } from '../lib/flag-summary.ts';
import { navigate, setFlash, setLeaveGuard, takeFlash } from '../router.ts';
import { useSession } from '../session.ts';
import type { Cohort, Flag } from '../types.ts';

/** Flag fields the API may name in `attr`, with the words the banner uses for them. */
const FIELDS: Record<string, string> = { key: 'key', name: 'description', filters: 'release conditions', tags: 'tags', active: 'active', ensure_experience_continuity: 'experience continuity' };

function FieldError({ id, text }: { id: string; text: string | undefined }) {
  return text ? <p id={id} class="error" role="alert">{text}</p> : null;
}

export function FlagEditor({ id }: { id: string }) {
  const { key: apiKey, base, project } = useSession();
  const isNew = id === 'new';
  const [flag, setFlag] = useState<Flag | null>(null);
  const { draft, setDraft, dirty, reset } = useDraft<FlagDraft>(isNew ? emptyDraft() : null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(() => takeFlash());
  const [busy, setBusy] = useState(false);
  const [cohorts, setCohorts] = useState<Cohort[]>([]);
  const [flags, setFlags] = useState<Flag[]>([]);

  useEffect(() => {
    listAll<Cohort>(apiKey, `${base}/cohorts/`).then((cs) => setCohorts(cs.filter((c) => !c.deleted)), () => undefined);
    listAll<Flag>(apiKey, `${base}/feature_flags/`).then(setFlags, () => undefined);
    if (!isNew) {
      apiCall<Flag>(apiKey, 'GET', `${base}/feature_flags/${id}/`).then((f) => {
        setFlag(f);
        reset(draftOf(f));
      }, (err) => setGeneral(messageOf(err)));
    }
  }, [apiKey, base, id, isNew]);

  const choices = useMemo<FilterChoices>(() => ({
    cohorts: cohorts.map((c) => ({ id: c.id, name: c.name })),
    flags: flags.filter((f) => String(f.id) !== id && !f.deleted).map((f) => ({ id: f.id, key: f.key, variants: (f.filters.multivariate?.variants ?? []).map((v) => v.key) })),
    groupTypes: project.group_types,
    types: draft?.aggregation === null || draft?.aggregation === undefined ? ['person', 'cohort', 'flag'] : ['group'],
    groupTypeIndex: draft?.aggregation ?? null,
  }), [cohorts, flags, project, draft?.aggregation, id]);

  if (draft === null) return general ? <p role="alert" class="error">{general}</p> : <p aria-busy="true">Loading flag…</p>;
  const set = (patch: Partial<FlagDraft>) => setDraft({ ...draft, ...patch });

  const save = async (e: Event) => {
    e.preventDefault();
    setNotice(null);
    setGeneral(null);
    const problems = checkDraft(draft);
    setErrors(problems);
    if (Object.keys(problems).length > 0) {
      setGeneral('Fix the fields marked below, then save again.');
      return;
    }
    setBusy(true);
    try {
      const body = bodyOf(draft);
      const result = isNew
        ? await apiCall<Flag>(apiKey, 'POST', `${base}/feature_flags/`, body)
        : await apiCall<Flag>(apiKey, 'PATCH', `${base}/feature_flags/${id}/`, { ...body, version: flag?.version });
      setFlag(result);
      reset(draftOf(result));
      setErrors({});
      setNotice(`Saved “${result.key}” (version ${result.version}).`);
      if (isNew) {
        setFlash(`Saved “${result.key}” (version ${result.version}).`);
        setLeaveGuard(null);
        navigate(`/flags/${result.id}`);
      }
    } catch (err) {
      const shown = saveErrors(err, FIELDS);
      setErrors(shown.errors);
      setGeneral(shown.general);
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    if (flag === null || !window.confirm(`Delete the flag “${flag.key}”? SDKs stop receiving it at once.`)) return;
    setBusy(true);
    try {
      await apiCall(apiKey, 'PATCH', `${base}/feature_flags/${flag.id}/`, { deleted: true });
      setLeaveGuard(null);
      navigate('/flags');
    } catch (err) {
      setGeneral(`Not deleted: ${messageOf(err)}`);
      setBusy(false);
    }
  };

  const variantKeys = draft.multivariate ? draft.variants.map((v) => v.key) : [];
  return (
    <form onSubmit={save} aria-labelledby="flag-title" noValidate>
      <div class="actions">
        <h1 id="flag-title" style="flex:1;margin:0">{isNew ? 'New flag' : <>Flag <code>{flag?.key}</code></>}</h1>
        {!isNew && <a href={`#/activity/${id}`}>History</a>}
        {dirty && <span class="muted" role="status">Unsaved changes</span>}
      </div>
      {general !== null && <p role="alert" class="error banner">{general}</p>}
      {notice !== null && <p role="status" class="notice">{notice}</p>}
      {flag !== null && <p class="muted">Created {when(flag.created_at)}{flag.created_by ? ` by ${flag.created_by.first_name}` : ''}; last changed {when(flag.updated_at)}.</p>}

      <div class="card">
        <label for="flag-key">Key</label>
        <input id="flag-key" class="mono" value={draft.key} required aria-invalid={errors.key !== undefined} aria-describedby="flag-key-err flag-key-help"
          onInput={(e) => set({ key: (e.target as HTMLInputElement).value })} />
        <small id="flag-key-help">What SDKs ask for, e.g. <code>new-checkout</code>. Changing it breaks code that uses the old key.</small>
        <FieldError id="flag-key-err" text={errors.key} />
        <label for="flag-name">Description</label>
        <textarea id="flag-name" rows={2} value={draft.name} aria-invalid={errors.name !== undefined} aria-describedby="flag-name-err"
          onInput={(e) => set({ name: (e.target as HTMLTextAreaElement).value })} />
        <FieldError id="flag-name-err" text={errors.name} />
        <label class="check"><input type="checkbox" checked={draft.active} onChange={(e) => set({ active: (e.target as HTMLInputElement).checked })} /> Active (off: every SDK gets false)</label>
        <FieldError id="flag-active-err" text={errors.active} />
        <label for="flag-tags">Tags <small>(comma-separated)</small></label>
        <input id="flag-tags" value={draft.tags} onInput={(e) => set({ tags: (e.target as HTMLInputElement).value })} aria-describedby="flag-tags-err" />
        <FieldError id="flag-tags-err" text={errors.tags} />
        <label class="check"><input type="checkbox" checked={draft.continuity} onChange={(e) => set({ continuity: (e.target as HTMLInputElement).checked })} /> Persist the value across authentication steps (experience continuity)</label>
      </div>

      <h2>Served value</h2>
      <fieldset>
        <legend>Flag type</legend>
        <label class="check"><input type="radio" name="flag-type" checked={!draft.multivariate} onChange={() => set({ multivariate: false })} /> Boolean (true / false)</label>
        <label class="check"><input type="radio" name="flag-type" checked={draft.multivariate} onChange={() => set({
          multivariate: true,
          variants: draft.variants.length > 0 ? draft.variants : [{ key: 'control', name: 'Control', rollout_percentage: 50 }, { key: 'test', name: 'Test', rollout_percentage: 50 }],
        })} /> Multivariate (variants)</label>
      </fieldset>
      {draft.multivariate
        ? <VariantsEditor variants={draft.variants} payloads={draft.payloads} errors={errors} onChange={(variants, payloads) => set({ variants, payloads })} />
        : (
          <>
            <label for="payload-true">Payload when enabled (JSON, optional)</label>
            <textarea id="payload-true" rows={2} value={draft.payloads.true ?? ''} aria-invalid={errors['payload:true'] !== undefined} aria-describedby="payload-true-err"
              onInput={(e) => set({ payloads: { ...draft.payloads, true: (e.target as HTMLTextAreaElement).value } })} />
            <FieldError id="payload-true-err" text={errors['payload:true']} />
          </>
        )}

      <h2 id="conditions-title">Release conditions</h2>
      <p class="muted">A {draft.aggregation === null ? 'user' : 'group'} gets the flag when any condition set matches. Flag filters make this flag depend on another.</p>
      <label for="flag-aggregation">Match by</label>
      <select id="flag-aggregation" value={draft.aggregation === null ? '' : String(draft.aggregation)} onChange={(e) => {
        const v = (e.target as HTMLSelectElement).value;
        // Filters of the other kind would be invalid: conditions keep their rollout, lose their filters.
        set({ aggregation: v === '' ? null : Number(v), groups: draft.groups.map((g) => ({ ...g, properties: [] })) });
      }}>
        <option value="">Users (person properties, cohorts, flags)</option>
        {project.group_types.map((g) => <option key={g.group_type_index} value={String(g.group_type_index)}>Groups: {g.group_type}</option>)}
      </select>
      <FieldError id="filters-err" text={errors.filters} />
      {draft.groups.map((g, i) => (
        <ConditionEditor
          key={i}
          index={i}
          condition={g}
          choices={choices}
          variants={variantKeys}
          onChange={(c) => set({ groups: draft.groups.map((x, j) => (j === i ? c : x)) })}
          onRemove={() => set({ groups: draft.groups.filter((_, j) => j !== i) })}
        />
      ))}
      <button type="button" class="secondary" onClick={() => set({ groups: [...draft.groups, { properties: [], rollout_percentage: 100 }] })}>Add condition set</button>

      <div class="actions">
        <button type="submit" disabled={busy}>{busy ? 'Saving…' : isNew ? 'Create flag' : 'Save'}</button>
        <a href="#/flags">Back to flags</a>
        {!isNew && <button type="button" class="danger" style="margin-left:auto" onClick={remove} disabled={busy}>Delete flag</button>}
      </div>
    </form>
  );
}
