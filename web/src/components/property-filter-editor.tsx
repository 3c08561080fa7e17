/**
 * @module components/property-filter-editor
 * One property filter of a release condition or cohort: a person or group property with any
 * operator, a cohort (`in` / `not_in`), or another flag's value (a flag dependency).
 */
import { coerceValue, kindOf, PROPERTY_OPERATORS } from '../lib/operators.ts';
import type { PropertyFilter } from '../types.ts';
import { ValueEditor } from './value-editor.tsx';

/** What the editor can offer in its menus. */
export interface FilterChoices {
  cohorts: Array<{ id: number; name: string }>;
  /** Flags this one may depend on, with their variant keys. */
  flags: Array<{ id: number; key: string; variants: string[] }>;
  groupTypes: Array<{ group_type: string; group_type_index: number }>;
  /** The types this filter may take (flags: person/cohort/flag, or group only). */
  types: Array<'person' | 'group' | 'cohort' | 'flag'>;
  /** Fixed group type index for group filters (flag aggregation), or null to choose. */
  groupTypeIndex: number | null;
}

interface Props {
  id: string;
  filter: PropertyFilter;
  choices: FilterChoices;
  onChange: (f: PropertyFilter) => void;
  onRemove: () => void;
}

const TYPE_LABEL = { person: 'Person property', group: 'Group property', cohort: 'Cohort', flag: 'Flag (dependency)' } as const;

/** A new filter of `type` with sensible defaults. */
export function newFilter(type: string, choices: FilterChoices): PropertyFilter {
  switch (type) {
    case 'cohort':
      return { key: 'id', type: 'cohort', operator: 'in', value: choices.cohorts[0]?.id ?? '' };
    case 'flag':
      return { key: String(choices.flags[0]?.id ?? ''), type: 'flag', operator: 'flag_evaluates_to', value: true };
    case 'group':
      return { key: '', type: 'group', operator: 'exact', value: [], group_type_index: choices.groupTypeIndex ?? choices.groupTypes[0]?.group_type_index ?? 0 };
    default:
      return { key: '', type: 'person', operator: 'exact', value: [] };
  }
}

export function PropertyFilterEditor({ id, filter, choices, onChange, onRemove }: Props) {
  const type = (filter.type ?? 'person') as keyof typeof TYPE_LABEL;
  const set = (patch: Partial<PropertyFilter>) => onChange({ ...filter, ...patch });

  let body;
  if (type === 'cohort') {
    body = (
      <div class="row">
        <div class="shrink">
          <label for={`${id}-op`}>Membership</label>
          <select id={`${id}-op`} value={filter.operator ?? 'in'} onChange={(e) => set({ operator: (e.target as HTMLSelectElement).value })}>
            <option value="in">in cohort</option><option value="not_in">not in cohort</option>
          </select>
        </div>
        <div>
          <label for={`${id}-cohort`}>Cohort</label>
          <select id={`${id}-cohort`} value={String(filter.value ?? '')} onChange={(e) => set({ value: Number((e.target as HTMLSelectElement).value) })}>
            {choices.cohorts.length === 0 && <option value="">No cohorts yet</option>}
            {choices.cohorts.map((c) => <option key={c.id} value={String(c.id)}>{c.name} (#{c.id})</option>)}
          </select>
        </div>
      </div>
    );
  } else if (type === 'flag') {
    const dep = choices.flags.find((f) => String(f.id) === String(filter.key));
    const value = filter.value === true ? 'true' : filter.value === false ? 'false' : String(filter.value ?? 'true');
    body = (
      <div class="row">
        <div>
          <label for={`${id}-flag`}>Flag</label>
          <select id={`${id}-flag`} value={String(filter.key)} onChange={(e) => set({ key: (e.target as HTMLSelectElement).value, value: true })}>
            {choices.flags.length === 0 && <option value="">No other flags</option>}
            {choices.flags.map((f) => <option key={f.id} value={String(f.id)}>{f.key}</option>)}
          </select>
        </div>
        <div>
          <label for={`${id}-fval`}>Evaluates to</label>
          <select id={`${id}-fval`} value={value} onChange={(e) => {
            const v = (e.target as HTMLSelectElement).value;
            set({ value: v === 'true' ? true : v === 'false' ? false : v });
          }}>
            <option value="true">enabled (true)</option>
            <option value="false">disabled (false)</option>
            {(dep?.variants ?? []).map((v) => <option key={v} value={v}>variant {v}</option>)}
          </select>
        </div>
      </div>
    );
  } else {
    const op = filter.operator ?? 'exact';
    body = (
      <>
        <div class="row">
          {type === 'group' && choices.groupTypeIndex === null && (
            <div class="shrink">
              <label for={`${id}-gt`}>Group type</label>
              <select id={`${id}-gt`} value={String(filter.group_type_index ?? 0)} onChange={(e) => set({ group_type_index: Number((e.target as HTMLSelectElement).value) })}>
                {choices.groupTypes.map((g) => <option key={g.group_type_index} value={String(g.group_type_index)}>{g.group_type}</option>)}
              </select>
            </div>
          )}
          <div>
            <label for={`${id}-key`}>Property</label>
            <input id={`${id}-key`} class="mono" placeholder="email" value={String(filter.key)} onInput={(e) => set({ key: (e.target as HTMLInputElement).value })} />
          </div>
          <div>
            <label for={`${id}-op`}>Operator</label>
            <select id={`${id}-op`} value={op} onChange={(e) => {
              const next = (e.target as HTMLSelectElement).value;
              set({ operator: next, value: coerceValue(kindOf(next), filter.value, next) });
            }}>
              {PROPERTY_OPERATORS.map((o) => <option key={o.op} value={o.op}>{o.label}</option>)}
            </select>
          </div>
        </div>
        <ValueEditor id={`${id}-value`} operator={op} value={filter.value} onChange={(value) => set({ value })} />
      </>
    );
  }

  return (
    <fieldset class="filter">
      <legend>Filter</legend>
      <div class="row">
        <div>
          <label for={`${id}-type`}>Filter on</label>
          <select id={`${id}-type`} value={type} onChange={(e) => onChange(newFilter((e.target as HTMLSelectElement).value, choices))}>
            {choices.types.map((t) => <option key={t} value={t}>{TYPE_LABEL[t]}</option>)}
          </select>
        </div>
        <div class="shrink"><button type="button" class="danger" onClick={onRemove} aria-label={`Remove filter ${filter.key === '' ? '' : String(filter.key)}`}>Remove</button></div>
      </div>
      {body}
    </fieldset>
  );
}
