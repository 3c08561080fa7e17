/**
 * @module components/condition-editor
 * One release condition: its property, cohort and flag filters (all must match), the rollout
 * percentage as a slider, and an optional variant override for multivariate flags.
 */
import type { Condition, PropertyFilter } from '../types.ts';
import { newFilter, PropertyFilterEditor, type FilterChoices } from './property-filter-editor.tsx';

interface Props {
  index: number;
  condition: Condition;
  choices: FilterChoices;
  variants: string[];
  onChange: (c: Condition) => void;
  onRemove: () => void;
}

export function ConditionEditor({ index, condition, choices, variants, onChange, onRemove }: Props) {
  const id = `cond-${index}`;
  const props = condition.properties ?? [];
  const rollout = condition.rollout_percentage ?? 100;
  const setProps = (next: PropertyFilter[]) => onChange({ ...condition, properties: next });
  const setRollout = (raw: string) => {
    const n = Math.min(100, Math.max(0, Number(raw)));
    if (!Number.isNaN(n)) onChange({ ...condition, rollout_percentage: n });
  };
  return (
    <section class="card" aria-labelledby={`${id}-title`} data-testid="condition">
      <div class="actions" style="margin:0">
        <h3 id={`${id}-title`} style="flex:1;margin:0">Condition set {index + 1}</h3>
        <button type="button" class="danger" onClick={onRemove}>Remove condition set {index + 1}</button>
      </div>
      {props.length === 0 && <p class="muted">No filters: matches every {choices.groupTypeIndex === null ? 'user' : 'group'}.</p>}
      {props.map((p, i) => (
        <PropertyFilterEditor
          key={i}
          id={`${id}-f${i}`}
          filter={p}
          choices={choices}
          onChange={(f) => setProps(props.map((x, j) => (j === i ? f : x)))}
          onRemove={() => setProps(props.filter((_, j) => j !== i))}
        />
      ))}
      <button type="button" class="secondary" onClick={() => setProps([...props, newFilter(choices.types[0]!, choices)])}>Add filter</button>
      <label for={`${id}-rollout`}>Roll out to {rollout}% of matches</label>
      <div class="row">
        <input id={`${id}-rollout`} type="range" min={0} max={100} step={1} value={rollout} onInput={(e) => setRollout((e.target as HTMLInputElement).value)} />
        <input class="shrink" style="width:6rem" type="number" min={0} max={100} step="any" aria-label={`Condition set ${index + 1} rollout percentage`} value={rollout} onInput={(e) => setRollout((e.target as HTMLInputElement).value)} />
      </div>
      {variants.length > 0 && (
        <>
          <label for={`${id}-variant`}>Variant for matches</label>
          <select id={`${id}-variant`} value={condition.variant ?? ''} onChange={(e) => {
            const v = (e.target as HTMLSelectElement).value;
            onChange({ ...condition, variant: v === '' ? null : v });
          }}>
            <option value="">By variant split</option>
            {variants.map((v) => <option key={v} value={v}>{v}</option>)}
          </select>
        </>
      )}
    </section>
  );
}
