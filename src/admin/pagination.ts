/**
 * @module admin/pagination
 * DRF's limit/offset pagination: `{count, next, previous, results}` with absolute next/previous
 * URLs that keep the other query parameters (rest_framework `LimitOffsetPagination`).
 */
import type { FastifyRequest } from 'fastify';
import { VexilError } from '../errors.ts';

/** PostHog's REST_FRAMEWORK PAGE_SIZE. */
export const DEFAULT_LIMIT = 100;
/** Vexil's cap on one page (DRF has none by default; an unbounded page is a denial-of-service lever). */
export const MAX_LIMIT = 1000;

/** One page of a DRF-paginated list. */
export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

/** A non-negative integer query parameter; anything else is a 400 naming the parameter. */
export function intParam(query: Record<string, unknown>, name: string, fallback: number, min = 0): number {
  const raw = query[name];
  if (raw === undefined || raw === '') return fallback;
  if (typeof raw !== 'string' || !/^\d{1,9}$/.test(raw) || Number(raw) < min) {
    throw new VexilError('VXL_VALIDATION', { message: `A valid integer${min > 0 ? ` >= ${min}` : ''} is required.`, attr: name });
  }
  return Number(raw);
}

/** `limit` (default 100, capped at 1000) and `offset` from the query string. */
export function limitOffset(req: FastifyRequest): { limit: number; offset: number } {
  const query = (req.query ?? {}) as Record<string, unknown>;
  const limit = Math.min(intParam(query, 'limit', DEFAULT_LIMIT, 1), MAX_LIMIT);
  return { limit, offset: intParam(query, 'offset', 0) };
}

/** The request's absolute URL with some query parameters replaced (null value = removed). */
export function absoluteUrl(req: FastifyRequest, replace: Record<string, string | null>): string {
  const url = new URL(req.url, `${req.protocol}://${req.host}`);
  for (const [name, value] of Object.entries(replace)) {
    if (value === null) url.searchParams.delete(name);
    else url.searchParams.set(name, value);
  }
  return url.toString();
}

/** DRF's `next` and `previous` links of the page at `offset`. */
export function pageLinks(req: FastifyRequest, limit: number, offset: number, hasNext: boolean): { next: string | null; previous: string | null } {
  const next = hasNext ? absoluteUrl(req, { limit: String(limit), offset: String(offset + limit) }) : null;
  // DRF drops `offset` entirely when the previous page starts at 0.
  const previous = offset > 0 ? absoluteUrl(req, { limit: String(limit), offset: offset - limit <= 0 ? null : String(offset - limit) }) : null;
  return { next, previous };
}

/** Wraps one page of rows the way DRF's LimitOffsetPagination does. */
export function paginate<T>(req: FastifyRequest, count: number, limit: number, offset: number, results: T[]): Page<T> {
  return { count, ...pageLinks(req, limit, offset, offset + limit < count), results };
}
