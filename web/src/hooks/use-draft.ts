/**
 * @module hooks/use-draft
 * An editor's working copy: whether it differs from what was last loaded or saved, a leave
 * guard while it does, and how API validation errors map onto its fields.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, messageOf } from '../api.ts';
import { setLeaveGuard } from '../router.ts';

/** The draft, its setter, `dirty`, and `reset` (after a load or a save: the new clean state). */
export function useDraft<T>(initial: T | null) {
  const [draft, setDraft] = useState<T | null>(initial);
  const [saved, setSaved] = useState(JSON.stringify(initial));
  const dirty = draft !== null && JSON.stringify(draft) !== saved;
  useEffect(() => {
    setLeaveGuard(() => dirty);
    return () => setLeaveGuard(null);
  }, [dirty]);
  const reset = (d: T) => {
    setDraft(d);
    setSaved(JSON.stringify(d));
  };
  return { draft, setDraft, dirty, reset };
}

/**
 * A failed save as field errors and a banner: an API error whose `attr` is one of `fields` goes
 * next to that field (`labels` names it in the banner), anything else only in the banner.
 */
export function saveErrors(err: unknown, fields: Record<string, string>): { errors: Record<string, string>; general: string } {
  if (err instanceof ApiError && err.attr !== null && err.attr in fields) {
    return { errors: { [err.attr]: err.detail }, general: `Not saved: see the ${fields[err.attr]} field.` };
  }
  return { errors: {}, general: `Not saved: ${messageOf(err)}` };
}
