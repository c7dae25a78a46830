/**
 * What the domain gauges show about the cached groups at one instant: per group, how many items
 * are eligible, waiting for their frequency, cooling off after a failure, or running, whether it
 * is paused, its frequency and its newest success (for "no success for N × frequency"); per item
 * (when enabled), its last success and whether it is overdue. Pure: computed from the groups and
 * the time when Prometheus scrapes, by the same selection policy the planner uses.
 *
 * **Item states** (of the valid, distinct listed items): `running` (the current run's item),
 * else the selection verdict: `eligible`, `waiting` (blocked by the frequency) or `coolingOff`
 * (blocked by a failure cool-off, the retry floor or the backoff). Items of an `EachOnce`
 * group that have succeeded are done and counted in none. A group whose spec has errors has no
 * item counts (its items cannot be judged), only `running`.
 *
 * **Overdue**: an item is overdue when its last success (never: the group's creation) is older
 * than the frequency plus a grace, {@link overdueGraceMs}: the larger of 10% of the frequency
 * and 5 minutes, so a run that takes a while or a busy group does not page at once. Never
 * overdue: `EachOnce` items that have succeeded, items of a paused group (`spec.paused` or the
 * pause annotation), and items while a window holds the group's starts now.
 *
 * **Per-item series** are a cardinality risk (5,000 groups × 20 items is 100,000 series), so
 * with `auto` they are exported only while the groups list at most
 * {@link ITEM_METRICS_AUTO_LIMIT} items in all; `on` and `off` force them.
 */
import { ANNOTATIONS } from '../api/v1/keys.ts';
import { failureBackoff, failureCoolOffMs, frequencyMs } from '../api/v1/defaults.ts';
import type { OaatGroup } from '../api/v1/types.ts';
import { validateGroupSpec } from '../api/v1/validation.ts';
import { withSourcedItems } from './group-planner.ts';
import { itemHistory, succeededOnce } from './group-status.ts';
import type { SourcedItems } from './item-sources.ts';
import { epochMs } from './pod-outcome.ts';
import { seededRng } from './rng.ts';
import { selectItem, type Blocker } from './selection-policy.ts';
import { compileWindows, startAllowed } from './windows.ts';

/** With `auto`, per-item series are exported while the groups list at most this many items in all. */
export const ITEM_METRICS_AUTO_LIMIT = 2_000;
/** The least grace past the frequency before an item counts as overdue. */
export const OVERDUE_GRACE_MIN_MS = 5 * 60_000;
/** The grace past the frequency before an item counts as overdue, as a fraction of the frequency. */
export const OVERDUE_GRACE_FRACTION = 0.1;

/** How long past its frequency an item may go without success before it is overdue. */
export function overdueGraceMs(frequency: number): number {
  return Math.max(frequency * OVERDUE_GRACE_FRACTION, OVERDUE_GRACE_MIN_MS);
}

export const ITEM_STATES = ['eligible', 'waiting', 'coolingOff', 'running'] as const;
export type ItemState = (typeof ITEM_STATES)[number];

const STATE_OF_BLOCKER: Record<Blocker, ItemState> = { frequency: 'waiting', coolOff: 'coolingOff', retryFloor: 'coolingOff', backoff: 'coolingOff' };

export interface GroupSample {
  readonly namespace: string;
  readonly group: string;
  /** Whether the group has a current run. */
  readonly running: boolean;
  /** Whether new runs are paused (`spec.paused` or the pause annotation). */
  readonly paused: boolean;
  /** Items by state; undefined when the spec has errors. */
  readonly items: Readonly<Record<ItemState, number>> | undefined;
  /** `spec.frequency` in seconds; undefined when the spec has errors. */
  readonly frequencySeconds: number | undefined;
  /** The newest success of a listed item, epoch seconds; undefined: none (or the spec has errors). */
  readonly lastSuccessSeconds: number | undefined;
}

export interface ItemSample {
  readonly namespace: string;
  readonly group: string;
  readonly item: string;
  /** The last success, epoch seconds; undefined: never succeeded. */
  readonly lastSuccessSeconds: number | undefined;
  readonly overdue: boolean;
}

export interface GroupMetricsSnapshot {
  readonly groups: readonly GroupSample[];
  /** Undefined when per-item series are off (forced, or `auto` above the limit). */
  readonly items: readonly ItemSample[] | undefined;
}

export interface GroupMetricsSettings {
  /** The operator's retry floor (the selection policy's, for groups without a cool-off). */
  readonly retryFloorMs: number;
  readonly itemMetrics: 'auto' | 'on' | 'off';
}

/**
 * What a group's `spec.oaatItemsFrom` adds to the items it lists (`listed`: spec.oaatItems's
 * valid items), as services/item-sources.ts reads it; undefined when it names no source.
 */
export type ItemSources = (group: OaatGroup, listed: readonly string[]) => SourcedItems | undefined;

/**
 * The samples of every group at `now` (epoch ms), as the file's doc comment defines them; a
 * group's items are those it lists plus those of its ConfigMap sources (`sources`), and a source
 * that cannot be read makes the group's spec count as having errors.
 */
export function groupMetrics(groups: readonly OaatGroup[], now: number, settings: GroupMetricsSettings, sources: ItemSources = () => undefined): GroupMetricsSnapshot {
  const judged = groups.map((group) => judgeGroup(group, now, settings.retryFloorMs, sources));
  const total = judged.reduce((sum, { items }) => sum + items.length, 0);
  const perItem = settings.itemMetrics === 'on' || (settings.itemMetrics === 'auto' && total <= ITEM_METRICS_AUTO_LIMIT);
  return { groups: judged.map(({ sample }) => sample), items: perItem ? judged.flatMap(({ items }) => items) : undefined };
}

function judgeGroup(group: OaatGroup, now: number, retryFloorMs: number, sources: ItemSources): { sample: GroupSample; items: ItemSample[] } {
  const namespace = group.metadata?.namespace ?? '';
  const name = group.metadata?.name ?? '';
  const spec = group.spec ?? {};
  const running = group.status?.currentRun?.item;
  const paused = spec.paused === true || (group.metadata?.annotations?.[ANNOTATIONS.pauseNewJobs] ?? '') !== '';
  const listed = validateGroupSpec(group.spec);
  const report = withSourcedItems(listed, sources(group, listed.items));
  const unjudged = { namespace, group: name, running: running !== undefined, paused, items: undefined, frequencySeconds: undefined, lastSuccessSeconds: undefined };
  if (report.errors.length > 0) return { sample: unjudged, items: [] };

  const statusOf = (item: string) => group.status?.items?.[item];
  const lastSuccessOf = (item: string): number | undefined => epochMs(statusOf(item)?.last_success);
  const done = (item: string): boolean => spec.mode === 'EachOnce' && succeededOnce(statusOf(item));
  const frequency = frequencyMs(spec);
  const { verdicts } = selectItem({
    items: report.items.filter((item) => item !== running && !done(item)),
    history: new Map(report.items.map((item) => [item, itemHistory(statusOf(item))])),
    frequencyMs: frequency,
    coolOffMs: failureCoolOffMs(spec),
    retryFloorMs,
    backoff: failureBackoff(spec),
    clock: { now: () => now },
    // Only the verdicts are read, never the choice.
    rng: seededRng(0),
  });
  const counts: Record<ItemState, number> = { eligible: 0, waiting: 0, coolingOff: 0, running: 0 };
  if (running !== undefined && report.items.includes(running)) counts.running = 1;
  for (const verdict of verdicts) counts[verdict.eligible ? 'eligible' : STATE_OF_BLOCKER[verdict.blockedBy]]++;

  const windowHolds = startAllowed(compileWindows(spec).windows, now).blockedBy !== undefined;
  const created = epochMs(group.metadata?.creationTimestamp);
  const deadlinePassed = (since: number | undefined): boolean => since !== undefined && now > since + frequency + overdueGraceMs(frequency);
  const items = report.items.map((item): ItemSample => {
    const lastSuccess = lastSuccessOf(item);
    const since = lastSuccess ?? created;
    return {
      namespace,
      group: name,
      item,
      lastSuccessSeconds: lastSuccess === undefined ? undefined : lastSuccess / 1000,
      overdue: !paused && !windowHolds && !done(item) && deadlinePassed(since),
    };
  });
  const successes = items.flatMap(({ lastSuccessSeconds }) => (lastSuccessSeconds === undefined ? [] : [lastSuccessSeconds]));
  const lastSuccessSeconds = successes.length > 0 ? Math.max(...successes) : undefined;
  return { sample: { ...unjudged, items: counts, frequencySeconds: frequency / 1000, lastSuccessSeconds }, items };
}
