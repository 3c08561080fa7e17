/**
 * @module lib/flag-draft
 * The flag editor's working copy and its conversion to and from the admin API's flag JSON,
 * with the checks the browser can make before saving (the server checks everything again).
 */
import type { Condition, Flag, FlagFilters, Variant } from '../types.ts';
import { variantSum } from '../components/variants-editor.tsx';

export interface FlagDraft {
  key: string;
  name: string;
  active: boolean;
  tags: string;
  continuity: boolean;
  aggregation: number | null;
  groups: Condition[];
  multivariate: boolean;
  variants: Variant[];
  /** Payload JSON text per variant key, or under "true" for a boolean flag. */
  payloads: Record<string, string>;
  /** Filter fields this editor does not show (super_groups, holdout, …), sent back unchanged. */
  rest: Record<string, unknown>;
}

/** A new flag: one condition for everyone at 100 %. */
export function emptyDraft(): FlagDraft {
  return {
    key: '', name: '', active: true, tags: '', continuity: false, aggregation: null,
    groups: [{ properties: [], rollout_percentage: 100 }],
    multivariate: false, variants: [], payloads: {}, rest: {},
  };
}

/** Payload values as the API serves them (JSON text) → editable text. */
function payloadText(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function draftOf(flag: Flag): FlagDraft {
  const { groups, multivariate, aggregation_group_type_index, payloads, ...rest } = flag.filters;
  const variants = multivariate?.variants ?? [];
  return {
    key: flag.key,
    name: flag.name,
    active: flag.active,
    tags: flag.tags.join(', '),
    continuity: flag.ensure_experience_continuity,
    aggregation: aggregation_group_type_index ?? null,
    groups: (groups ?? []).map((g) => ({ ...g, properties: (g.properties ?? []).map(({ cohort_name: _, ...p }) => p) })),
    multivariate: variants.length > 0,
    variants: variants.map((v) => ({ ...v })),
    payloads: Object.fromEntries(Object.entries(payloads ?? {}).map(([k, v]) => [k, payloadText(v)])),
    rest,
  };
}

/** Problems the browser can see, keyed like API `attr`s (`key`, `variants`, `payload:<k>`). */
export function checkDraft(d: FlagDraft): Record<string, string> {
  const errors: Record<string, string> = {};
  if (d.key.trim() === '') errors.key = 'A flag needs a key.';
  else if (!/^[a-zA-Z0-9_-]+$/.test(d.key)) errors.key = 'Only letters, numbers, hyphens (-) and underscores (_).';
  if (d.multivariate) {
    if (d.variants.length === 0) errors.variants = 'Add at least one variant, or make the flag boolean.';
    else if (variantSum(d.variants) !== 100) errors.variants = `Variant shares sum to ${variantSum(d.variants)}%; they must sum to 100%.`;
    else if (new Set(d.variants.map((v) => v.key)).size !== d.variants.length) errors.variants = 'Variant keys must be unique.';
    else if (d.variants.some((v) => v.key.trim() === '')) errors.variants = 'Every variant needs a key.';
  }
  for (const [k, text] of Object.entries(payloadsInUse(d))) {
    try {
      JSON.parse(text);
    } catch {
      errors[`payload:${k}`] = 'Not valid JSON (a string needs quotes: "text").';
    }
  }
  return errors;
}

/** The payloads that belong to the flag's current variants (or "true"), non-empty only. */
function payloadsInUse(d: FlagDraft): Record<string, string> {
  const keys = d.multivariate ? d.variants.map((v) => v.key) : ['true'];
  return Object.fromEntries(keys.filter((k) => (d.payloads[k] ?? '').trim() !== '').map((k) => [k, d.payloads[k]!.trim()]));
}

/** The draft as a POST/PATCH body. */
export function bodyOf(d: FlagDraft): Record<string, unknown> {
  const filters: FlagFilters = {
    ...d.rest,
    groups: d.groups.map((g) => ({ ...g, variant: d.multivariate ? (g.variant ?? null) : null })),
    multivariate: d.multivariate ? { variants: d.variants } : null,
    aggregation_group_type_index: d.aggregation,
    payloads: payloadsInUse(d),
  };
  return {
    key: d.key.trim(),
    name: d.name,
    active: d.active,
    ensure_experience_continuity: d.continuity,
    tags: d.tags.split(',').map((t) => t.trim()).filter((t) => t !== ''),
    filters,
  };
}
