/**
 * The next status of an OaatGroup, computed from the status read: claims, closes, adoption,
 * conditions. Pure. The reconciler applies decisions to a draft and writes the difference as
 * one JSON merge patch of `/status` (keys to remove become `null`), or nothing at all when the
 * draft equals what was read, so an idle group causes no writes.
 */
import jsonMergePatch from 'json-merge-patch';
import type { Condition, CurrentRun, ItemStatus, LastRun, OaatGroupStatus, RunOutcome } from '../api/v1/types.ts';
import type { Rng } from './rng.ts';
import type { ItemHistory } from './selection-policy.ts';
import { RuntimeStats } from './runtime-stats.ts';

/** The facts a close records about a run. */
export interface RunRecord {
  outcome: RunOutcome;
  /** Epoch ms. */
  finishedAt: number;
  podUID?: string;
  exitCode?: number;
  reason?: string;
  /**
   * How long the container ran (ms), from its own start and finish times (one clock, the
   * kubelet's, so a skewed kubelet clock does not change it); successes add it to the statistics.
   */
  runtimeMs?: number;
}

/** `podphase` as the original showed it: the pod phase at claim (`started`) and at close. */
const PHASE_OF_OUTCOME: Record<RunOutcome, string> = {
  Succeeded: 'Succeeded',
  Failed: 'Failed',
  CreateFailed: 'CreateFailed',
  Deleted: 'Deleted',
  TimedOut: 'TimedOut',
  Lost: 'Lost',
  WindowStopped: 'WindowStopped',
};

/** The original's stringly-typed runtime keys, removed at an item's first rewrite. */
const LEGACY_ITEM_KEYS = [
  'runtime_count',
  'runtime_total',
  'runtime_sum_squares',
  'runtime_min',
  'runtime_max',
  'runtime_sample',
  'runtime_last_updated',
  'last_verified',
] as const;

/** Group-level keys of the original, dropped (architecture.md §5). */
const DROPPED_KEYS = ['loops', 'last_verified', 'find_job', 'oaat_timer', 'oaat_action', 'oaat_resume', 'state'] as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A deep copy of a JSON value (what a watch delivers: objects, arrays, strings, numbers,
 * booleans, null): several times faster than `structuredClone` on a status, which a
 * reconcile copies every time (bench/REPORT.md, CPU profile of a burst).
 */
function jsonClone<T>(value: T): T {
  if (Array.isArray(value)) return value.map(jsonClone) as T;
  if (!isRecord(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) copy[key] = jsonClone(value[key]);
  return copy as T;
}

/** Equality of JSON values (object key order aside). */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  if (isRecord(a) && isRecord(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => key in b && jsonEqual(a[key], b[key]));
  }
  return false;
}

/** Removes from `patch` every key whose value equals what `before` has there. */
function withoutUnchanged(patch: Record<string, unknown>, before: Record<string, unknown> | undefined): void {
  for (const [key, value] of Object.entries(patch)) {
    const old = before?.[key];
    if (isRecord(value) && isRecord(old)) {
      withoutUnchanged(value, old);
      if (Object.keys(value).length === 0) Reflect.deleteProperty(patch, key);
    } else if (jsonEqual(value, old)) {
      Reflect.deleteProperty(patch, key);
    }
  }
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Consecutive failures as a number, whatever the original stored (`'3'`, 3, or nothing). */
export function failureCount(item: ItemStatus | null | undefined): number {
  const value = Number(item?.failure_count ?? 0);
  return Number.isInteger(value) && value > 0 ? value : 0;
}

/** An item's history as the selection policy judges it: its last success and failure (epoch ms, absent when never or unreadable) and its consecutive failures. */
export function itemHistory(item: ItemStatus | null | undefined): ItemHistory {
  const lastSuccess = Date.parse(item?.last_success ?? '');
  const lastFailure = Date.parse(item?.last_failure ?? '');
  return { ...(Number.isFinite(lastSuccess) && { lastSuccess }), ...(Number.isFinite(lastFailure) && { lastFailure }), failureCount: failureCount(item) };
}

/** Whether the item has a recorded success (what `EachOnce` waits for). */
export function succeededOnce(item: ItemStatus | null | undefined): boolean {
  return Number.isFinite(Date.parse(item?.last_success ?? ''));
}

/** When the item's latest recorded result happened (epoch ms; 0 when it has none). */
export function lastResultAt(item: ItemStatus | null | undefined): number {
  return Math.max(...[item?.last_success, item?.last_failure, item?.last_run?.finishedAt].map((t) => Date.parse(t ?? '') || 0));
}

/** A run this draft closed, and how. */
export interface ClosedRun {
  run: CurrentRun;
  record: RunRecord;
  lastRun: LastRun;
}

export class StatusDraft {
  readonly status: OaatGroupStatus;
  /** The runs closed in this draft (their effects follow once the draft is written). */
  readonly closed: ClosedRun[] = [];
  /** The status as read (the cache's own object): compared with, never changed. */
  private readonly original: OaatGroupStatus;

  constructor(read: OaatGroupStatus | undefined) {
    this.original = read ?? {};
    this.status = jsonClone(read ?? {});
    const legacy = this.status as Record<string, unknown>;
    for (const key of DROPPED_KEYS) Reflect.deleteProperty(legacy, key);
    if (this.status.handler_status) Reflect.deleteProperty(this.status.handler_status, 'loops');
  }

  /** The item's status, created when missing. */
  item(name: string): ItemStatus {
    const items = (this.status.items ??= {});
    let item = items[name];
    if (item === undefined || item === null) items[name] = item = {};
    return item;
  }

  get currentRun(): CurrentRun | undefined {
    return this.status.currentRun ?? undefined;
  }

  /**
   * Takes the lock for `run` (there must be no current run), giving it the next claim number:
   * `run.seq` and `status.runSeq` become `runSeq + 1`.
   */
  claim(run: Omit<CurrentRun, 'seq'>): CurrentRun {
    if (this.currentRun) throw new Error(`cannot claim ${run.id}: run ${this.currentRun.id} is still open`);
    const seq = (this.status.runSeq ?? 0) + 1;
    const claimed: CurrentRun = { ...run, seq };
    this.status.currentRun = claimed;
    this.status.runSeq = seq;
    const item = this.item(run.item);
    item.podphase = 'started';
    item.last_started = run.claimedAt;
    this.status.handler_status = {
      ...this.status.handler_status,
      state: 'running',
      currently_running: run.item,
      pod: run.podName,
      last_run: run.claimedAt,
      children: null,
    };
    return claimed;
  }

  /** Records how the current run ended and releases the lock (see {@link record}). */
  close(record: RunRecord, rng: Rng, now: number): ClosedRun {
    const run = this.currentRun;
    if (run === undefined) throw new Error('no open run to close');
    const lastRun = this.record(run.item, run.id, record, rng, now);
    if (run.trigger !== undefined) lastRun.trigger = run.trigger;
    const closed: ClosedRun = { run, record, lastRun };
    this.closed.push(closed);
    this.status.currentRun = null;
    this.status.handler_status = { ...this.status.handler_status, state: 'idle', currently_running: null, pod: null, children: null };
    return closed;
  }

  /**
   * Records a run's result under its item, without touching the lock (the close of the
   * current run, or a pod of the original that no claim covered). Successes reset the failure
   * count and add a runtime sample; failures (all outcomes but Succeeded, Lost and
   * WindowStopped) count one more consecutive failure; Lost and WindowStopped record nothing but
   * the run (the item is eligible again at once, or once its window has closed).
   */
  record(itemName: string, runId: string, record: RunRecord, rng: Rng, now: number): LastRun {
    const item = this.item(itemName);
    const finishedAt = iso(record.finishedAt);
    const lastRun: LastRun = {
      id: runId,
      outcome: record.outcome,
      finishedAt,
      ...(record.podUID !== undefined && { podUID: record.podUID }),
      ...(record.exitCode !== undefined && { exitCode: record.exitCode }),
      ...(record.reason !== undefined && { reason: record.reason }),
    };
    item.last_run = lastRun;
    item.podphase = PHASE_OF_OUTCOME[record.outcome];
    // Statistics stored by the original are converted at the item's first rewrite.
    const read = RuntimeStats.fromItem(item);
    const stats = read.kind === 'read' ? read.stats : new RuntimeStats();
    if (record.outcome === 'Succeeded') {
      item.last_success = finishedAt;
      item.failure_count = 0;
      if (record.runtimeMs !== undefined && record.runtimeMs > 0) stats.add(record.runtimeMs / 1000, rng, { now: () => now });
    } else if (record.outcome !== 'Lost' && record.outcome !== 'WindowStopped') {
      item.last_failure = finishedAt;
      item.failure_count = failureCount(item) + 1;
    }
    if (stats.count > 0) item.runtime = stats.toStatus();
    this.rewriteLegacy(item);
    return lastRun;
  }

  /** Clears an item's failures: its count, its last failure and so its cool-off and backoff (a reset request). */
  clearFailures(name: string): void {
    const item = this.status.items?.[name];
    if (item === undefined || item === null) return;
    item.failure_count = 0;
    delete item.last_failure;
    delete item.retry_at;
  }

  /** Removes an item's history (an item no longer listed). */
  forgetItem(name: string): void {
    if (this.status.items !== undefined) Reflect.deleteProperty(this.status.items, name);
  }

  /**
   * Sets a condition; its lastTransitionTime changes only when its status does, so repeating
   * the same condition changes nothing. Returns whether the status changed (a transition).
   */
  setCondition(condition: Omit<Condition, 'lastTransitionTime'>, now: number): boolean {
    const conditions = (this.status.conditions ??= []);
    const index = conditions.findIndex((c) => c.type === condition.type);
    const previous = conditions[index];
    const lastTransitionTime = previous?.status === condition.status ? previous.lastTransitionTime : iso(now);
    const next: Condition = { ...condition, lastTransitionTime };
    if (index < 0) conditions.push(next);
    else conditions[index] = next;
    return previous?.status !== condition.status;
  }

  /** Removes a condition (one that no longer applies); nothing when it is absent. */
  removeCondition(type: string): void {
    const conditions = this.status.conditions;
    const index = conditions?.findIndex((c) => c.type === type) ?? -1;
    if (index >= 0) conditions?.splice(index, 1);
  }

  condition(type: string): Condition | undefined {
    return this.status.conditions?.find((c) => c.type === type);
  }

  /** The merge patch from the status read to this draft, or undefined when they are equal. */
  patch(): Record<string, unknown> | undefined {
    const patch = jsonMergePatch.generate(this.original, this.status) as Record<string, unknown> | undefined;
    if (patch === undefined) return undefined;
    // generate() replaces any array it meets; an equal array (conditions) is no change.
    withoutUnchanged(patch, this.original as Record<string, unknown>);
    return Object.keys(patch).length === 0 ? undefined : patch;
  }

  private rewriteLegacy(item: ItemStatus): void {
    const legacy = item as Record<string, unknown>;
    for (const key of LEGACY_ITEM_KEYS) Reflect.deleteProperty(legacy, key);
  }
}
