/**
 * @module api
 * The admin UI's only way to the server: fetch over the public admin API (`/api/…`, personal API
 * key as a bearer token) and `POST /flags` with a project token. Errors come back as ApiError with
 * PostHog's DRF fields, so forms can put `detail` next to the field named by `attr`.
 */

/** An admin API error in PostHog's DRF shape (`{type, code, detail, attr}`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly attr: string | null,
  ) {
    super(detail);
  }
}

/** Called when the server refuses the key (401): the app signs out. */
let onUnauthorized: (detail: string) => void = () => undefined;

/** Sets what happens when the key is refused. */
export function setUnauthorizedHandler(handler: (detail: string) => void): void {
  onUnauthorized = handler;
}

/** A DRF list page. */
export interface Page<T> {
  count?: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { code?: string; detail?: string; attr?: string | null };
    return new ApiError(res.status, body.code ?? 'error', body.detail ?? text, body.attr ?? null);
  } catch {
    return new ApiError(res.status, 'error', text || res.statusText, null);
  }
}

/**
 * Calls the admin API with `key`. JSON bodies are sent as JSON, FormData as multipart. A 401 also
 * tells the app the key is no longer good (wrong or revoked) before the error is thrown.
 */
export async function apiCall<T>(key: string, method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${key}`, accept: 'application/json' };
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(path, { method, headers, body: payload });
  if (!res.ok) {
    const err = await errorOf(res);
    if (res.status === 401) onUnauthorized(err.detail);
    throw err;
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** Every page of a DRF list (bounded: at most `maxPages` pages of `limit`). */
export async function listAll<T>(key: string, path: string, limit = 500, maxPages = 20): Promise<T[]> {
  const out: T[] = [];
  const sep = path.includes('?') ? '&' : '?';
  for (let page = 0; page < maxPages; page++) {
    const res = await apiCall<Page<T>>(key, 'GET', `${path}${sep}limit=${limit}&offset=${page * limit}`);
    out.push(...res.results);
    if (res.next === null || res.results.length === 0) break;
  }
  return out;
}

/** `POST /flags?v=2` with a project token, as an SDK calls it; `detailed_analysis` asks for per-condition reasons. */
export async function evaluateFlags(body: Record<string, unknown>): Promise<unknown> {
  const res = await fetch('/flags?v=2&detailed_analysis=true', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new ApiError(res.status, 'flags_error', text, null);
  return JSON.parse(text) as unknown;
}

/** The message to show for any error: the API's detail, or the exception text. */
export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.detail;
  return err instanceof Error ? err.message : String(err);
}
