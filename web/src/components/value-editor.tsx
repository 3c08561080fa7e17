/**
 * @module components/value-editor
 * The value input that fits a property operator: none, a list (one value per line), text, a
 * regex (checked as the user types), a number, a [min, max] range, a semver or a date.
 */
import { useState } from 'preact/hooks';
import { kindOf } from '../lib/operators.ts';

interface Props {
  id: string;
  operator: string;
  value: unknown;
  onChange: (value: unknown) => void;
}

const text = (v: unknown) => (v === undefined || v === null ? '' : Array.isArray(v) ? String(v[0] ?? '') : String(v));
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

export function ValueEditor({ id, operator, value, onChange }: Props) {
  const kind = kindOf(operator);
  const [dateMode, setDateMode] = useState<'date' | 'relative'>(DATE_RE.test(text(value)) || text(value) === '' ? 'date' : 'relative');
  const onText = (e: Event) => onChange((e.target as HTMLInputElement).value);
  switch (kind) {
    case 'none':
      return <p class="muted" id={id}>No value needed.</p>;
    case 'list':
      return (
        <>
          <label for={id}>Values <small>(one per line)</small></label>
          <textarea
            id={id}
            rows={2}
            value={(Array.isArray(value) ? value : value === undefined || value === null || value === '' ? [] : [value]).join('\n')}
            onInput={(e) => onChange((e.target as HTMLTextAreaElement).value.split('\n').map((s) => s.trim()).filter((s) => s !== ''))}
          />
        </>
      );
    case 'number':
      return (
        <>
          <label for={id}>Number</label>
          <input id={id} type="number" step="any" value={text(value)} onInput={onText} />
        </>
      );
    case 'range': {
      const pair = Array.isArray(value) && value.length === 2 ? value : ['', ''];
      const set = (i: number) => (e: Event) => {
        const raw = (e.target as HTMLInputElement).value;
        const next = [...pair];
        next[i] = raw === '' ? '' : Number(raw);
        onChange(next);
      };
      return (
        <div class="row">
          <div><label for={`${id}-min`}>From</label><input id={`${id}-min`} type="number" step="any" value={String(pair[0])} onInput={set(0)} /></div>
          <div><label for={`${id}-max`}>To</label><input id={`${id}-max`} type="number" step="any" value={String(pair[1])} onInput={set(1)} /></div>
        </div>
      );
    }
    case 'regex': {
      let problem: string | null = null;
      try {
        new RegExp(text(value));
      } catch (err) {
        problem = err instanceof Error ? err.message : 'invalid pattern';
      }
      return (
        <>
          <label for={id}>Pattern</label>
          <input id={id} class="mono" value={text(value)} onInput={onText} aria-invalid={problem !== null} aria-describedby={`${id}-help`} />
          <small id={`${id}-help`} class={problem ? 'error' : ''}>{problem ?? 'RE2 syntax (no look-arounds or back-references).'}</small>
        </>
      );
    }
    case 'semver': {
      const ok = text(value) === '' || /^\d+(\.(\d+|\*))?(\.(\d+|\*))?([-+].*)?$/.test(text(value));
      return (
        <>
          <label for={id}>Version</label>
          <input id={id} class="mono" placeholder={operator === 'semver_wildcard' ? '1.2.*' : '1.2.3'} value={text(value)} onInput={onText} aria-invalid={!ok} aria-describedby={`${id}-help`} />
          <small id={`${id}-help`} class={ok ? '' : 'error'}>{ok ? 'Semantic version' : 'Not a version like 1.2.3'}</small>
        </>
      );
    }
    case 'date':
      return (
        <>
          <label for={`${id}-mode`}>Date</label>
          <div class="row">
            <select id={`${id}-mode`} class="shrink" aria-label="Date kind" value={dateMode} onChange={(e) => setDateMode((e.target as HTMLSelectElement).value as 'date' | 'relative')}>
              <option value="date">Calendar date</option>
              <option value="relative">Relative (e.g. -7d)</option>
            </select>
            {dateMode === 'date'
              ? <input id={id} type="date" aria-label="Calendar date" value={DATE_RE.test(text(value)) ? text(value) : ''} onInput={onText} />
              : <input id={id} aria-label="Relative date" placeholder="-7d, -2w, -1m, -1y, -12h" value={text(value)} onInput={onText} />}
          </div>
        </>
      );
    default:
      return (
        <>
          <label for={id}>Value</label>
          <input id={id} value={text(value)} onInput={onText} />
        </>
      );
  }
}
