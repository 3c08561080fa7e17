/**
 * @module client/openfeature-provider
 * `vexil/client/openfeature`: an OpenFeature server provider over VexilClient, so an OpenFeature
 * application gets in-process answers that follow the definitions stream (and emits
 * ConfigurationChanged on each change). `@openfeature/server-sdk` is a peer dependency: only
 * applications that import this module need it.
 *
 * Mapping: `targetingKey` is the distinct id; the context's `groups` and `groupProperties`
 * (objects) are the /flags fields of the same names; every other attribute is a person property.
 * Boolean → the flag is enabled; string → the variant; number and object → the flag's payload
 * (JSON) for the returned value. A flag Vexil does not have → FLAG_NOT_FOUND; a value of the
 * wrong type → TYPE_MISMATCH; an enabled flag without a variant asked as string → its default.
 */
import {
  ErrorCode,
  OpenFeatureEventEmitter,
  ProviderEvents,
  StandardResolutionReasons,
  type EvaluationContext,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
} from '@openfeature/server-sdk';
import type { Properties } from '../engine/index.ts';
import { VexilClient, type ClientFlag, type EvaluationInput, type VexilClientOptions } from './vexil-client.ts';

/** Context → distinct id and the /flags fields. */
function toInput(context: EvaluationContext): { distinctId: string | undefined; input: EvaluationInput } {
  const { targetingKey, groups, groupProperties, ...person } = context;
  const isObj = (v: unknown): v is Record<string, never> => typeof v === 'object' && v !== null && !Array.isArray(v);
  return {
    distinctId: targetingKey,
    input: {
      personProperties: person as Properties,
      groups: isObj(groups) ? (groups as Record<string, string>) : undefined,
      groupProperties: isObj(groupProperties) ? (groupProperties as Record<string, Properties>) : undefined,
    },
  };
}

function payloadOf(flag: ClientFlag): unknown {
  if (typeof flag.payload !== 'string') return flag.payload;
  try {
    return JSON.parse(flag.payload);
  } catch {
    return flag.payload;
  }
}

/** The OpenFeature provider; pass a running VexilClient or the options to make one. */
export class VexilProvider implements Provider {
  readonly metadata = { name: 'vexil' } as const;
  readonly runsOn = 'server' as const;
  readonly events = new OpenFeatureEventEmitter();
  readonly client: VexilClient;
  readonly #owned: boolean;
  #unsubscribe: (() => void) | null = null;

  constructor(clientOrOptions: VexilClient | VexilClientOptions) {
    this.#owned = !(clientOrOptions instanceof VexilClient);
    this.client = clientOrOptions instanceof VexilClient ? clientOrOptions : new VexilClient(clientOrOptions);
  }

  /** Resolves once the first definitions are in; then forwards changes as ConfigurationChanged. */
  async initialize(): Promise<void> {
    await this.client.ready();
    this.#unsubscribe ??= this.client.onChange(() => this.events.emit(ProviderEvents.ConfigurationChanged, {}));
  }

  async onClose(): Promise<void> {
    this.#unsubscribe?.();
    if (this.#owned) this.client.close();
  }

  async #resolve<T>(key: string, defaultValue: T, context: EvaluationContext, pick: (flag: ClientFlag) => T | undefined): Promise<ResolutionDetails<T>> {
    const { distinctId, input } = toInput(context);
    if (!distinctId) return { value: defaultValue, reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.TARGETING_KEY_MISSING };
    const flag = await this.client.getFlag(key, distinctId, input);
    if (!flag) return { value: defaultValue, reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.FLAG_NOT_FOUND };
    const value = pick(flag);
    const flagMetadata = { vexilReason: flag.reason, source: flag.source };
    if (value === undefined) return { value: defaultValue, reason: StandardResolutionReasons.DEFAULT, flagMetadata };
    if (typeof value !== typeof defaultValue) {
      return { value: defaultValue, reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.TYPE_MISMATCH, flagMetadata };
    }
    return {
      value,
      variant: flag.variant ?? String(flag.enabled),
      reason: flag.source === 'local' ? StandardResolutionReasons.TARGETING_MATCH : StandardResolutionReasons.STATIC,
      flagMetadata,
    };
  }

  resolveBooleanEvaluation(key: string, defaultValue: boolean, context: EvaluationContext): Promise<ResolutionDetails<boolean>> {
    return this.#resolve(key, defaultValue, context, (f) => f.enabled);
  }

  resolveStringEvaluation(key: string, defaultValue: string, context: EvaluationContext): Promise<ResolutionDetails<string>> {
    return this.#resolve(key, defaultValue, context, (f) => (f.enabled ? (f.variant ?? undefined) : undefined));
  }

  resolveNumberEvaluation(key: string, defaultValue: number, context: EvaluationContext): Promise<ResolutionDetails<number>> {
    return this.#resolve(key, defaultValue, context, (f) => payloadOf(f) as number | undefined);
  }

  resolveObjectEvaluation<T extends JsonValue>(key: string, defaultValue: T, context: EvaluationContext): Promise<ResolutionDetails<T>> {
    return this.#resolve(key, defaultValue, context, (f) => payloadOf(f) as T | undefined);
  }
}
