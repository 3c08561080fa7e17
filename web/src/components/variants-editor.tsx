/**
 * @module components/variants-editor
 * Multivariate variants: key, name, share of the rollout (must sum to 100) and a JSON payload each.
 */
import type { Variant } from '../types.ts';

interface Props {
  variants: Variant[];
  payloads: Record<string, string>;
  errors: Record<string, string>;
  onChange: (variants: Variant[], payloads: Record<string, string>) => void;
}

/** The sum of the variants' percentages, rounded against float noise. */
export function variantSum(variants: Variant[]): number {
  return Math.round(variants.reduce((s, v) => s + (Number(v.rollout_percentage) || 0), 0) * 1000) / 1000;
}

/** Whole-number shares that sum to 100 (the first variants take the remainder). */
function evenSplit(n: number): number[] {
  const base = Math.floor(100 / n);
  return Array.from({ length: n }, (_, i) => base + (i < 100 - base * n ? 1 : 0));
}

export function VariantsEditor({ variants, payloads, errors, onChange }: Props) {
  const sum = variantSum(variants);
  const setVariant = (i: number, patch: Partial<Variant>) => {
    const old = variants[i]!;
    const next = variants.map((v, j) => (j === i ? { ...v, ...patch } : v));
    let nextPayloads = payloads;
    if (patch.key !== undefined && patch.key !== old.key && old.key in payloads) {
      nextPayloads = { ...payloads, [patch.key]: payloads[old.key]! };
      delete nextPayloads[old.key];
    }
    onChange(next, nextPayloads);
  };
  return (
    <fieldset aria-describedby="variants-sum">
      <legend>Variants</legend>
      {variants.map((v, i) => (
        <div class="card" key={i} data-testid="variant">
          <div class="row">
            <div><label for={`var-${i}-key`}>Variant key</label><input id={`var-${i}-key`} class="mono" value={v.key} onInput={(e) => setVariant(i, { key: (e.target as HTMLInputElement).value })} /></div>
            <div><label for={`var-${i}-name`}>Name</label><input id={`var-${i}-name`} value={v.name ?? ''} onInput={(e) => setVariant(i, { name: (e.target as HTMLInputElement).value })} /></div>
            <div class="shrink" style="width:7rem"><label for={`var-${i}-pct`}>Share %</label><input id={`var-${i}-pct`} type="number" min={0} max={100} step="any" value={v.rollout_percentage} onInput={(e) => setVariant(i, { rollout_percentage: Number((e.target as HTMLInputElement).value) })} /></div>
            <div class="shrink"><button type="button" class="danger" onClick={() => {
              const rest = { ...payloads };
              delete rest[v.key];
              onChange(variants.filter((_, j) => j !== i), rest);
            }}>Remove variant {v.key || i + 1}</button></div>
          </div>
          <label for={`var-${i}-payload`}>Payload (JSON, optional)</label>
          <textarea id={`var-${i}-payload`} rows={2} value={payloads[v.key] ?? ''} aria-invalid={errors[`payload:${v.key}`] !== undefined}
            aria-describedby={`var-${i}-payload-err`}
            onInput={(e) => onChange(variants, { ...payloads, [v.key]: (e.target as HTMLTextAreaElement).value })} />
          {errors[`payload:${v.key}`] && <p id={`var-${i}-payload-err`} class="error" role="alert">{errors[`payload:${v.key}`]}</p>}
        </div>
      ))}
      <div class="actions">
        <button type="button" class="secondary" onClick={() => onChange([...variants, { key: `variant-${variants.length + 1}`, name: '', rollout_percentage: 0 }], payloads)}>Add variant</button>
        <button type="button" class="secondary" disabled={variants.length === 0} onClick={() => {
          const shares = evenSplit(variants.length);
          onChange(variants.map((v, i) => ({ ...v, rollout_percentage: shares[i]! })), payloads);
        }}>Split evenly</button>
        <span id="variants-sum" class={sum === 100 ? 'sum-ok' : 'sum-bad'} aria-live="polite">
          Shares sum to {sum}%{sum === 100 ? '' : ' — must be 100%'}
        </span>
      </div>
      {errors.variants && <p class="error" role="alert">{errors.variants}</p>}
    </fieldset>
  );
}
