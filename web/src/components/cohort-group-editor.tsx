/**
 * @module components/cohort-group-editor
 * A dynamic cohort's criteria: an AND/OR group of person-property filters, cohort references
 * and nested groups, to any depth the API accepts.
 */
import type { CohortGroup, PropertyFilter } from '../types.ts';
import { newFilter, PropertyFilterEditor, type FilterChoices } from './property-filter-editor.tsx';

interface Props {
  id: string;
  group: CohortGroup;
  depth: number;
  choices: FilterChoices;
  onChange: (g: CohortGroup) => void;
  onRemove?: () => void;
}

function isGroup(v: CohortGroup | PropertyFilter): v is CohortGroup {
  return (v as CohortGroup).values !== undefined && ((v as CohortGroup).type === 'AND' || (v as CohortGroup).type === 'OR');
}

/** Deepest nesting offered in the editor (the API accepts 16). */
const MAX_DEPTH = 4;

export function CohortGroupEditor({ id, group, depth, choices, onChange, onRemove }: Props) {
  const setValues = (values: CohortGroup['values']) => onChange({ ...group, values });
  return (
    <fieldset class="cohort-group" data-testid="cohort-group">
      <legend>{depth === 0 ? 'Criteria' : `Nested group (level ${depth + 1})`}</legend>
      <div class="row">
        <label class="inline shrink" for={`${id}-type`}>Match</label>
        <select id={`${id}-type`} class="shrink" style="width:auto" value={group.type} onChange={(e) => onChange({ ...group, type: (e.target as HTMLSelectElement).value as 'AND' | 'OR' })}>
          <option value="AND">all of these (AND)</option>
          <option value="OR">any of these (OR)</option>
        </select>
        {onRemove && <div class="shrink"><button type="button" class="danger" onClick={onRemove}>Remove group</button></div>}
      </div>
      {group.values.length === 0 && <p class="muted">Empty: add a filter or a nested group.</p>}
      {group.values.map((v, i) =>
        isGroup(v) ? (
          <CohortGroupEditor key={i} id={`${id}-${i}`} group={v} depth={depth + 1} choices={choices}
            onChange={(g) => setValues(group.values.map((x, j) => (j === i ? g : x)))}
            onRemove={() => setValues(group.values.filter((_, j) => j !== i))} />
        ) : (
          <PropertyFilterEditor key={i} id={`${id}-${i}`} filter={v} choices={choices}
            onChange={(f) => setValues(group.values.map((x, j) => (j === i ? f : x)))}
            onRemove={() => setValues(group.values.filter((_, j) => j !== i))} />
        ))}
      <div class="actions" style="margin:.5rem 0 0">
        <button type="button" class="secondary" onClick={() => setValues([...group.values, newFilter('person', choices)])}>Add filter</button>
        {depth < MAX_DEPTH && <button type="button" class="secondary" onClick={() => setValues([...group.values, { type: 'OR', values: [newFilter('person', choices)] }])}>Add nested group</button>}
      </div>
    </fieldset>
  );
}
