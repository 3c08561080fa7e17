/**
 * @module cli/admin-client
 * The CLI's HTTP client for a running Vexil (or PostHog): the admin API with a personal API key,
 * JSON in and out. Every failure becomes one CliError line naming the request, never a stack.
 */

/** A failure the CLI reports as one line (`vexil: …`) with exit code 1, or 65 for bad input. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

/** Where and as whom to connect. */
export interface ClientOptions {
  /** Base URL, e.g. http://127.0.0.1:8000 (no trailing slash needed). */
  url: string;
  /** Personal API key (phx_…); sent as `Authorization: Bearer`. */
  key: string | undefined;
}

/** A PostHog-style paginated list. */
interface Page<T> {
  results: T[];
  next?: string | null;
}

/** Most pages followed by `list()`: a safety bound against a server that never stops paging. */
const MAX_PAGES = 10_000;

/** JSON over HTTP to the admin API. */
export class AdminClient {
  readonly base: string;
  readonly #key: string | undefined;

  constructor(opts: ClientOptions) {
    let url: URL;
    try {
      url = new URL(opts.url);
    } catch {
      throw new CliError(`--url must be an http(s) URL, got '${opts.url}'`, 64);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`--url must be an http(s) URL, got '${opts.url}'`, 64);
    this.base = url.href.replace(/\/+$/, '');
    this.#key = opts.key;
  }

  /** Sends one request; resolves the parsed JSON body (null for an empty one). */
  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<any> {
    const target = path.startsWith('http') ? path : `${this.base}${path}`;
    const h: Record<string, string> = { accept: 'application/json', ...headers };
    if (this.#key !== undefined && !('authorization' in h)) h.authorization = `Bearer ${this.#key}`;
    // An empty authorization header means "send none" (e.g. /flags, authorised by the body's token).
    if (h.authorization === '') delete h.authorization;
    if (body !== undefined) h['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(target, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(60_000) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`cannot reach ${this.base}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
    }
    const text = await res.text();
    let parsed: unknown = null;
    if (text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        if (res.ok) throw new CliError(`${method} ${pathOf(target)}: the server answered ${res.status} with a body that is not JSON`);
      }
    }
    if (!res.ok) {
      const p = parsed as { detail?: unknown; attr?: unknown } | null;
      const detail = typeof p?.detail === 'string' ? p.detail : text.slice(0, 200) || res.statusText;
      const attr = typeof p?.attr === 'string' ? ` (field ${p.attr})` : '';
      throw new CliError(`${method} ${pathOf(target)} failed with ${res.status}: ${detail}${attr}`, res.status === 400 ? 65 : 1);
    }
    return parsed;
  }

  get(path: string): Promise<any> {
    return this.request('GET', path);
  }

  /** Every item of a paginated list, following `next` links (bounded). */
  async list<T = any>(path: string): Promise<T[]> {
    const out: T[] = [];
    let next: string | null | undefined = path;
    for (let i = 0; next && i < MAX_PAGES; i++) {
      const page: Page<T> | T[] = await this.get(next);
      if (Array.isArray(page)) return page;
      out.push(...page.results);
      next = page.next;
    }
    return out;
  }
}

function pathOf(url: string): string {
  try {
    const u = new URL(url);
    return u.pathname + u.search;
  } catch {
    return url;
  }
}
