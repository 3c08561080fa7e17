/**
 * @module client/vexil-client
 * `vexil/client`: flags evaluated in the application's process with Vexil's own engine. The
 * definitions arrive on `GET /flags/definitions/stream` (each event a full payload, compiled
 * once); while the stream is down the client polls `GET /flags/definitions` with `If-None-Match`
 * and retries the stream. What the definitions alone cannot decide (stored person properties,
 * static cohorts, experience continuity) is asked of `POST /flags`. Naive dates are read in the
 * project's time zone, which the stream events and the `x-vexil-timezone` header carry.
 */
import { buildPersonProperties, compileSnapshot, evaluateFlags, type FlagSnapshot, type FlagResult, type ProjectDefs, type Properties } from '../engine/index.ts';
import { readEvents } from './sse-parse.ts';

/** How to reach Vexil. */
export interface VexilClientOptions {
  /** Base URL, e.g. `https://flags.example.com`. */
  host: string;
  /** The project's public token (`phc_…`), for the definitions query and `/flags`. */
  projectToken: string;
  /** A key allowed to read definitions: the project secret (`phs_…`) or a personal API key. */
  definitionsKey: string;
  /** Polling period while the stream is down, ms. Default 30,000 (posthog-node's). */
  pollIntervalMs?: number;
  /** First wait before retrying a dropped stream, ms; doubles up to pollIntervalMs. Default 500. */
  reconnectDelayMs?: number;
  /** Clock for evaluation (date filters). Default Date.now. */
  now?: () => number;
  /** Errors of the background stream and polls (the client keeps its last definitions). */
  onError?: (err: unknown) => void;
}

/** Who is asking: the `/flags` request's fields. */
export interface EvaluationInput {
  personProperties?: Properties;
  groups?: Record<string, string>;
  groupProperties?: Record<string, Properties>;
}

/** One flag's answer. `source` says whether it was decided here or by the server. */
export interface ClientFlag {
  key: string;
  enabled: boolean;
  variant: string | null;
  /** The variant string, true, or false: what `getFeatureFlag` returns in PostHog SDKs. */
  value: string | boolean;
  payload: unknown;
  reason: string;
  source: 'local' | 'remote';
}

type DefinitionsPayload = { flags: ProjectDefs['flags']; group_type_mapping?: Record<string, string>; cohorts?: Record<string, unknown> };

/** Where Vexil names the project's time zone on `/flags/definitions` answers (the stream carries it in each event). */
const TIMEZONE_HEADER = 'x-vexil-timezone';

/**
 * Engine input from the local-evaluation payload (flag dependencies by key, cohorts by id) and
 * the project's time zone: naive dates in date filters and properties are read in it, as the
 * server reads them, so local answers equal `/flags`.
 */
function toDefs(payload: DefinitionsPayload, timezone: string): ProjectDefs {
  return {
    timezone,
    flags: payload.flags,
    cohorts: Object.entries(payload.cohorts ?? {}).map(([id, tree]) => ({ id: Number(id), is_static: false, filters: { properties: tree } })),
    groupTypeMapping: Object.fromEntries(Object.entries(payload.group_type_mapping ?? {}).map(([i, name]) => [Number(i), name])),
  };
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

/** An in-process flag evaluator kept current by the definitions stream. */
export class VexilClient {
  readonly #opts: Required<Omit<VexilClientOptions, 'onError'>> & Pick<VexilClientOptions, 'onError'>;
  readonly #abort = new AbortController();
  readonly #listeners = new Set<() => void>();
  #snapshot: FlagSnapshot | null = null;
  #payload: DefinitionsPayload | null = null;
  #timezone = 'UTC';
  #etag: string | null = null;
  #revision: string | undefined;
  #streaming = false;
  #ready: Promise<void>;
  #markReady!: () => void;

  constructor(options: VexilClientOptions) {
    this.#opts = { pollIntervalMs: 30_000, reconnectDelayMs: 500, now: Date.now, ...options, host: options.host.replace(/\/+$/, '') };
    this.#ready = new Promise((resolve) => (this.#markReady = resolve));
    void this.#run();
  }

  /** Resolves once the first definitions are in (from the stream or a poll). */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** Whether the stream is connected now (false ⇒ polling). */
  get streaming(): boolean {
    return this.#streaming;
  }

  /** Calls `listener` after each definitions change; returns a function that removes it. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops the stream and polling. */
  close(): void {
    this.#abort.abort();
    this.#streaming = false;
  }

  /**
   * Evaluates one flag locally; undefined when it cannot be decided here (unknown flag, no
   * definitions yet, or it needs stored data) — then `getFlag` asks the server.
   */
  getFlagLocally(key: string, distinctId: string, input: EvaluationInput = {}): ClientFlag | undefined {
    const snapshot = this.#snapshot;
    const ordinal = snapshot?.ordinalByKey.get(key);
    if (!snapshot || ordinal === undefined || snapshot.flags[ordinal]!.continuity) return undefined;
    const result = evaluateFlags(snapshot, {
      distinctId,
      personProperties: buildPersonProperties(null, input.personProperties ?? null, distinctId, false),
      groups: input.groups ?? {},
      groupProperties: input.groupProperties ?? {},
      storedDataLoaded: false,
      staticCohorts: undefined,
      hashKeyOverrides: undefined,
      anonDistinctId: undefined,
      deviceId: undefined,
      flagKeys: [key],
      runtime: 'server',
      evaluationContexts: null,
      now: this.#opts.now(),
      stopAtInconclusive: false,
    });
    const flag = result.flags.find((f) => f.key === key);
    // Failed includes a static cohort (never in the payload): the server knows its members.
    if (!flag || flag.inconclusive || flag.failed) return undefined;
    return local(flag);
  }

  /** One flag, locally when possible, else from `POST /flags`; undefined when the flag does not exist. */
  async getFlag(key: string, distinctId: string, input: EvaluationInput = {}): Promise<ClientFlag | undefined> {
    return this.getFlagLocally(key, distinctId, input) ?? (await this.#remote(key, distinctId, input));
  }

  async #remote(key: string, distinctId: string, input: EvaluationInput): Promise<ClientFlag | undefined> {
    const res = await fetch(`${this.#opts.host}/flags?v=2`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        token: this.#opts.projectToken,
        distinct_id: distinctId,
        person_properties: input.personProperties ?? {},
        groups: input.groups ?? {},
        group_properties: input.groupProperties ?? {},
        flag_keys_to_evaluate: [key],
      }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`POST /flags answered ${res.status}`);
    const body = (await res.json()) as { flags?: Record<string, { enabled: boolean; variant?: string | null; reason?: { code?: string }; metadata?: { payload?: unknown } }> };
    const f = body.flags?.[key];
    if (!f) return undefined;
    const variant = f.variant ?? null;
    return { key, enabled: f.enabled, variant, value: f.enabled ? (variant ?? true) : false, payload: f.metadata?.payload, reason: f.reason?.code ?? 'unknown', source: 'remote' };
  }

  #apply(payload: DefinitionsPayload, etag: string | null, revision: string | undefined, timezone: string | null): void {
    if (timezone) this.#timezone = timezone;
    this.#snapshot = compileSnapshot(toDefs(payload, this.#timezone));
    this.#payload = payload;
    this.#etag = etag;
    if (revision !== undefined) this.#revision = revision;
    this.#markReady();
    for (const listener of this.#listeners) listener();
  }

  /** Stream while it works; when it drops, poll once and retry with a growing delay. */
  async #run(): Promise<void> {
    const { signal } = this.#abort;
    let delay = this.#opts.reconnectDelayMs;
    while (!signal.aborted) {
      try {
        await this.#stream(() => (delay = this.#opts.reconnectDelayMs));
      } catch (err) {
        if (!signal.aborted) this.#opts.onError?.(err);
      }
      this.#streaming = false;
      if (signal.aborted) break;
      await this.#poll().catch((err: unknown) => this.#opts.onError?.(err));
      await sleep(delay, signal);
      delay = Math.min(delay * 2, this.#opts.pollIntervalMs);
    }
  }

  async #stream(onConnected: () => void): Promise<void> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.#opts.definitionsKey}`, accept: 'text/event-stream' };
    if (this.#revision !== undefined && this.#snapshot) headers['last-event-id'] = this.#revision;
    const res = await fetch(`${this.#opts.host}/flags/definitions/stream?token=${encodeURIComponent(this.#opts.projectToken)}`, { headers, signal: this.#abort.signal });
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new Error(`definitions stream answered ${res.status}`);
    }
    this.#streaming = true;
    onConnected();
    for await (const event of readEvents(res.body as unknown as AsyncIterable<Uint8Array>)) {
      if (event.event !== 'definitions') continue;
      const message = JSON.parse(event.data) as { etag: string; timezone?: string; definitions: DefinitionsPayload };
      this.#apply(message.definitions, message.etag, event.id, message.timezone ?? null);
    }
  }

  async #poll(): Promise<void> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.#opts.definitionsKey}` };
    if (this.#etag) headers['if-none-match'] = `W/"${this.#etag}"`;
    const res = await fetch(`${this.#opts.host}/flags/definitions?token=${encodeURIComponent(this.#opts.projectToken)}`, { headers, signal: this.#abort.signal });
    const timezone = res.headers.get(TIMEZONE_HEADER);
    if (res.status === 304) {
      // Same definitions; a new project time zone alone still changes how they evaluate.
      if (timezone && timezone !== this.#timezone && this.#payload) this.#apply(this.#payload, this.#etag, undefined, timezone);
      return;
    }
    if (!res.ok) throw new Error(`definitions poll answered ${res.status}`);
    const etag = /"([^"]*)"/.exec(res.headers.get('etag') ?? '')?.[1] ?? null;
    // Polling gives no revision: the next stream connect must send the full payload.
    this.#revision = undefined;
    this.#apply((await res.json()) as DefinitionsPayload, etag, undefined, timezone);
  }
}

function local(flag: FlagResult): ClientFlag {
  return {
    key: flag.key,
    enabled: flag.enabled,
    variant: flag.variant,
    value: flag.enabled ? (flag.variant ?? true) : false,
    payload: flag.payloadValue,
    reason: flag.reason,
    source: 'local',
  };
}
