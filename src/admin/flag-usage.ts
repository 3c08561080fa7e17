/**
 * @module admin/flag-usage
 * `GET …/feature_flags/:id/status/` (PostHog's `{status, reason}`, plus Vexil's usage-based
 * staleness as `usage_staleness`) and `GET …/feature_flags/:id/usage/?days=N` (Vexil: the flag's
 * evaluations and `$feature_flag_called` events per UTC day and value).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { FlagRow, FlagUsageRow, Store } from '../store/store.ts';
import { projectRoutes } from './auth.ts';
import type { AdminDeps } from './deps.ts';
import { flagStatus, usageStaleness, windowStart } from './flag-status.ts';
import { intParam } from './pagination.ts';
import { addResource } from './router.ts';

/** Longest usage window served (and kept meaningful: counters are per day). */
const MAX_USAGE_DAYS = 365;
const DAY_MS = 86_400_000;

/** Per-day totals of one source: all values, and per value. */
interface SourceDay {
  total: number;
  values: Record<string, number>;
}

function emptyDay(): SourceDay {
  return { total: 0, values: {} };
}

/** Counters → one entry per day of the window, oldest first, days without usage included as zeros. */
export function usageByDay(rows: readonly FlagUsageRow[], now: number, days: number): Array<{ date: string; evaluations: SourceDay; called_events: SourceDay }> {
  const today = Math.floor(now / DAY_MS);
  const out = Array.from({ length: days }, (_, i) => ({
    date: new Date((today - days + 1 + i) * DAY_MS).toISOString().slice(0, 10),
    evaluations: emptyDay(),
    called_events: emptyDay(),
  }));
  const byDate = new Map(out.map((d) => [d.date, d]));
  for (const r of rows) {
    const day = byDate.get(r.day);
    if (day === undefined) continue;
    const target = r.source === 'flags' ? day.evaluations : day.called_events;
    target.total += r.count;
    target.values[r.value] = (target.values[r.value] ?? 0) + r.count;
  }
  return out;
}

/** Registers the two routes under the feature-flags base path. */
export function registerFlagUsageRoutes(
  app: FastifyInstance,
  deps: AdminDeps,
  base: string,
  getFlag: (req: FastifyRequest, store: Store, projectId: number) => Promise<FlagRow>,
): void {
  const { store } = deps;
  const { read, notAllowed } = projectRoutes(store, 'feature_flag');
  const clock = deps.now ?? Date.now;
  const staleDays = deps.staleDays ?? 30;

  const status = read(async (req, _reply, { project }) => {
    const flag = await getFlag(req, store, project.id);
    const now = clock();
    const [last, usage] = await Promise.all([
      store.flagsLastCalledAt(project.id, [flag.key]),
      store.listFlagUsage(project.id, flag.key, windowStart(now, staleDays)),
    ]);
    const lastCalledAt = last.get(flag.key) ?? null;
    return { ...flagStatus(flag, lastCalledAt, now), usage_staleness: usageStaleness(flag, usage, lastCalledAt, now, staleDays) };
  });

  const usage = read(async (req, _reply, { project }) => {
    const flag = await getFlag(req, store, project.id);
    const days = Math.min(intParam((req.query ?? {}) as Record<string, unknown>, 'days', 30, 1), MAX_USAGE_DAYS);
    const now = clock();
    const [last, rows] = await Promise.all([
      store.flagsLastCalledAt(project.id, [flag.key]),
      store.listFlagUsage(project.id, flag.key, windowStart(now, days)),
    ]);
    return { id: flag.id, key: flag.key, days, last_called_at: last.get(flag.key)?.toISOString() ?? null, results: usageByDay(rows, now, days) };
  });

  addResource(app, `${base}:flagId/status/`, { GET: status }, notAllowed);
  addResource(app, `${base}:flagId/usage/`, { GET: usage }, notAllowed);
}
