/**
 * @module schedule/plan
 * What a scheduled change does, as pure functions: the flag write its payload makes (PostHog's
 * `build_scheduled_change_serializer_data` and `scheduled_changes_dispatcher`), checked by the
 * same rules as an admin edit (admin/flag-update.ts), and the next occurrence of a recurring
 * change in its time zone (recurrence.ts).
 */
import { z } from 'zod';
import type { PayloadCipher } from '../auth/payload-cipher.ts';
import { plainFlag } from '../admin/flag-payloads.ts';
import type { FlagBody } from '../admin/flag-schema.ts';
import { prepareFlagUpdate } from '../admin/flag-update.ts';
import type { FlagFiltersDef } from '../engine/types.ts';
import type { FlagRow, ScheduledChangePlan } from '../store/store.ts';
import { nextOccurrence } from './recurrence.ts';

/** The three operations PostHog's FeatureFlag dispatcher knows, with the value each takes. */
export const OPERATIONS = ['update_status', 'add_release_condition', 'update_variants'] as const;

/** A payload as the API accepts it: an operation and the value it takes. */
export const scheduledPayloadSchema = z.discriminatedUnion('operation', [
  z.object({ operation: z.literal('update_status'), value: z.boolean() }),
  z.object({
    operation: z.literal('add_release_condition'),
    value: z.looseObject({ groups: z.array(z.record(z.string(), z.unknown())).min(1) }),
  }),
  z.object({
    operation: z.literal('update_variants'),
    value: z.looseObject({
      variants: z.array(z.looseObject({ key: z.string().min(1), rollout_percentage: z.number() })),
      payloads: z.record(z.string(), z.unknown()).optional(),
    }),
  }),
]);
export type ScheduledPayload = z.infer<typeof scheduledPayloadSchema>;

/** Python's repr of a set of strings, sorted so the sentence is stable. */
const pySet = (keys: Iterable<string>) => `{${[...keys].sort().map((k) => `'${k}'`).join(', ')}}`;

/**
 * The flag fields a payload sets, from the flag's plaintext definition, with the apply-time
 * checks PostHog's dispatcher makes before its serializer runs. Throws with PostHog's sentence.
 */
export function payloadBody(flag: FlagRow, raw: unknown): FlagBody {
  const parsed = scheduledPayloadSchema.safeParse(raw);
  if (!parsed.success) {
    const p = raw as Record<string, unknown> | null;
    const known = (OPERATIONS as readonly unknown[]).includes(p?.operation);
    if (p !== null && typeof p === 'object' && 'operation' in p && 'value' in p && !known) throw new Error(`Unrecognized operation: ${String(p.operation)}`);
    throw new Error('Invalid payload');
  }
  const payload = parsed.data;
  if (payload.operation === 'update_status') return { active: payload.value };
  const current = (flag.filters ?? {}) as FlagFiltersDef & Record<string, unknown>;
  if (payload.operation === 'add_release_condition') {
    return { filters: { ...current, groups: [...(current.groups ?? []), ...payload.value.groups] } };
  }
  const variants = payload.value.variants;
  const payloads = payload.value.payloads ?? {};
  if (variants.length > 0) {
    const total = variants.reduce((sum, v) => sum + v.rollout_percentage, 0);
    if (total !== 100) throw new Error(`Invalid variant rollout percentages: sum is ${total}, must be 100`);
  }
  const variantKeys = new Set(variants.map((v) => v.key));
  const stray = Object.keys(payloads).filter((k) => !variantKeys.has(k));
  if (stray.length > 0 && variantKeys.size > 0) throw new Error(`Payload keys ${pySet(stray)} don't match variant keys ${pySet(variantKeys)}`);
  const multivariate = { ...((current.multivariate as Record<string, unknown> | null | undefined) ?? {}), variants };
  return { filters: { ...current, multivariate, payloads } };
}

/**
 * The ScheduledChangePlan the scheduler hands the store: apply at `now`. The write passes every
 * rule of an admin PATCH against the definitions the claim transaction reads (dependencies and
 * cycles, cohorts, variants, payloads, enable/disable rules); a broken rule fails the change.
 */
export function planAt(now: Date, cipher: PayloadCipher | null): ScheduledChangePlan {
  return (change, { flag, flags, cohorts }) => {
    if (change.modelName !== 'FeatureFlag') throw new Error(`Unsupported model_name ${change.modelName}`);
    // PostHog's `FeatureFlag.objects.get` (its manager hides deleted flags).
    if (flag === null || flag.deleted) throw new Error('FeatureFlag matching query does not exist.');
    const body = payloadBody(plainFlag(flag, cipher), change.payload);
    const write = prepareFlagUpdate(flag, body, 'PATCH', { flags, cohorts }, cipher);
    return { write, next: nextOccurrence(change, now) };
  };
}
