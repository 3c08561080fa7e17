/**
 * @module ingest/apply-events
 * Applies a request's validated events to the store, in order (spec §9). Consecutive person
 * updates go in one transaction; merges and group updates are steps of their own. A failing
 * step is retried event by event so one bad event cannot take the rest of the batch with it.
 */
import type { FastifyBaseLogger } from 'fastify';
import { VexilError } from '../errors.ts';
import type { PersonUpdate, Store } from '../store/store.ts';
import type { EventProblem, NormalizedEvent } from './event-normalize.ts';

/** What applying a request changed, for the response and for cache invalidation. */
export interface ApplyOutcome {
  /** Events that could not be applied. */
  errors: EventProblem[];
  /** Events applied only in part (merge refused, group type limit, …). */
  warnings: EventProblem[];
  /** Distinct ids whose person was written or created (not yet expanded to all ids of the person). */
  changedDistinctIds: Set<string>;
  /** Groups whose properties were written. */
  changedGroups: Array<{ groupTypeIndex: number; groupKey: string }>;
  /** A new group type got an index: the project's definitions changed. */
  definitionsChanged: boolean;
}

interface Pending {
  index: number;
  update: PersonUpdate;
}

function isEmpty(u: PersonUpdate): boolean {
  return u.set === undefined && u.setOnce === undefined && u.unset === undefined;
}

/** Applies events in order; see the module comment. */
export class EventApplier {
  private readonly outcome: ApplyOutcome = { errors: [], warnings: [], changedDistinctIds: new Set(), changedGroups: [], definitionsChanged: false };
  private pending: Pending[] = [];
  /** Distinct ids known to have a person already in this request: empty updates for them are skipped. */
  private readonly ensured = new Set<string>();
  private groupTypes: Record<number, string> | null = null;
  private readonly groupIndexes = new Map<string, number | null>();

  constructor(
    private readonly store: Store,
    private readonly projectId: number,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Applies every event; returns what changed. @throws VexilError VXL_STORE_UNAVAILABLE when the store is down. */
  async apply(events: readonly NormalizedEvent[]): Promise<ApplyOutcome> {
    for (const e of events) {
      this.outcome.warnings.push(...e.warnings);
      if (e.merge) {
        await this.flush();
        const merge = e.merge;
        const ok = await this.step([e.index], () =>
          this.store.mergePersons(this.projectId, { distinctId: e.distinctId, ...merge }),
        );
        if (!ok) continue;
        if (merge.otherDistinctId !== e.distinctId) await this.checkMerged(e.index, e.distinctId, merge.otherDistinctId);
        for (const id of [e.distinctId, merge.otherDistinctId]) {
          this.ensured.add(id);
          this.outcome.changedDistinctIds.add(id);
        }
      }
      if (e.group && !(await this.applyGroup(e.index, e.group))) continue;
      if (e.personUpdate) this.queue(e.index, e.personUpdate);
    }
    await this.flush();
    return this.outcome;
  }

  /**
   * The store refuses (silently) to merge a person that is already identified; PostHog then
   * emits the ingestion warning `cannot_merge_already_identified`. Two reads tell us, and merges
   * are rare (once per login), so the response can say so.
   */
  private async checkMerged(index: number, distinctId: string, otherDistinctId: string): Promise<void> {
    const [a, b] = await Promise.all([
      this.store.getPersonByDistinctId(this.projectId, distinctId),
      this.store.getPersonByDistinctId(this.projectId, otherDistinctId),
    ]);
    if (a !== null && b !== null && a.id !== b.id) {
      this.outcome.warnings.push({
        index,
        code: 'cannot_merge_already_identified',
        error: `${JSON.stringify(otherDistinctId)} belongs to an identified person, so it was not merged into ${JSON.stringify(distinctId)} (use $merge_dangerously to force it)`,
      });
    }
  }

  private queue(index: number, update: PersonUpdate): void {
    if (isEmpty(update) && this.ensured.has(update.distinctId)) return;
    this.ensured.add(update.distinctId);
    this.pending.push({ index, update });
  }

  /** Writes the queued person updates in one transaction, or one by one when that fails. */
  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const ok = await this.step(
      batch.map((p) => p.index),
      () => this.store.applyPersonUpdates(this.projectId, batch.map((p) => p.update)),
      false,
    );
    // Empty updates count too: they may have created the person (created_at, continuity).
    if (ok) {
      for (const p of batch) this.outcome.changedDistinctIds.add(p.update.distinctId);
      return;
    }
    for (const p of batch) {
      if (await this.step([p.index], () => this.store.applyPersonUpdates(this.projectId, [p.update]))) {
        this.outcome.changedDistinctIds.add(p.update.distinctId);
      } else {
        this.ensured.delete(p.update.distinctId);
      }
    }
  }

  /** $groupidentify: index for the type (0–4, assigned on first use), then the group row. */
  private async applyGroup(index: number, g: NonNullable<NormalizedEvent['group']>): Promise<boolean> {
    await this.flush();
    let groupTypeIndex = this.groupIndexes.get(g.groupType);
    if (groupTypeIndex === undefined) {
      let created = false;
      const ok = await this.step([index], async () => {
        this.groupTypes ??= await this.store.getGroupTypeMapping(this.projectId);
        const known = Object.values(this.groupTypes).includes(g.groupType);
        groupTypeIndex = await this.store.ensureGroupTypeIndex(this.projectId, g.groupType);
        created = !known && groupTypeIndex !== null;
      });
      if (!ok) return false;
      this.groupIndexes.set(g.groupType, groupTypeIndex ?? null);
      if (created) this.outcome.definitionsChanged = true;
    }
    if (groupTypeIndex === null || groupTypeIndex === undefined) {
      // PostHog's GroupTypeManager returns null past 5 types and the group is not stored.
      const err = new VexilError('VXL_GROUP_TYPE_LIMIT');
      this.outcome.errors.push({ index, code: 'group_type_limit', error: `${err.message} Group type ${JSON.stringify(g.groupType)} was not stored.` });
      return false;
    }
    const typeIndex = groupTypeIndex;
    const ok = await this.step([index], () => this.store.upsertGroup(this.projectId, typeIndex, g.groupKey, g.set));
    if (ok) this.outcome.changedGroups.push({ groupTypeIndex: typeIndex, groupKey: g.groupKey });
    return ok;
  }

  /**
   * Runs one store step. On failure: a store that no longer answers makes the whole request a
   * 503 (SDKs retry; every step is idempotent). Otherwise the failure belongs to the events of
   * the step: with `report`, they are listed as errors; without, the caller retries them singly.
   */
  private async step(indexes: number[], run: () => Promise<unknown>, report = true): Promise<boolean> {
    try {
      await run();
      return true;
    } catch (err) {
      try {
        await this.store.ping();
      } catch (pingErr) {
        throw new VexilError('VXL_STORE_UNAVAILABLE', { cause: pingErr });
      }
      if (err instanceof VexilError && err.status < 500) {
        if (report) for (const index of indexes) this.outcome.errors.push({ index, code: 'invalid_event', error: err.message });
        return false;
      }
      this.log.error({ err, projectId: this.projectId }, 'capture event could not be stored');
      if (report) for (const index of indexes) this.outcome.errors.push({ index, code: 'internal_error', error: 'The event could not be stored.' });
      return false;
    }
  }
}
