/**
 * A forecast of a group's next runs (`kubectl oaat plan`): the order in which its items are
 * expected to start and approximately when, computed with the operator's own pure services
 * from the group's spec and status.
 *
 * The simulation starts at `now`. A run in progress is assumed to end after its predicted
 * runtime (counted from its claim, never before `now`). Then, repeatedly: the selection policy
 * (selection-policy.ts) judges every item on the simulated history; among the eligible ones the
 * forecast takes the policy's likeliest choice without its random parts (failed items by oldest
 * failure, else the oldest success, never-run first; ties in spec order: in reality ties and the
 * one-in-three "wildcard" are random); the start waits for the windows (windows.ts), and for
 * a `noRunItem` window to pass when the predicted runtime would reach into it; the item is
 * assumed to run for its predicted runtime (runtime-prediction.ts, else `defaultRuntimeMs`) and
 * succeed. A paused group forecasts nothing new; an `EachOnce` group only the items that have
 * not succeeded yet.
 */
import { failureBackoff, failureCoolOffMs, frequencyMs, predictionRules } from '../api/v1/defaults.ts';
import type { OaatGroupSpec, OaatGroupStatus } from '../api/v1/types.ts';
import { itemHistory, succeededOnce } from './group-status.ts';
import { predictedRuntimeMs } from './runtime-prediction.ts';
import { seededRng } from './rng.ts';
import { selectItem, type EligibleVerdict, type ItemHistory } from './selection-policy.ts';
import { compileWindows, nextWindowOpening, startAllowed } from './windows.ts';

export interface ForecastInput {
  /** A valid spec (validateGroupSpec found no errors). */
  readonly spec: OaatGroupSpec;
  readonly status?: OaatGroupStatus | undefined;
  /** Epoch ms the forecast starts from. */
  readonly now: number;
  /** How far ahead to forecast, ms. */
  readonly horizonMs: number;
  /** The operator's retry floor (OAAT_RETRY_FLOOR), ms. */
  readonly retryFloorMs: number;
  /** The runtime assumed for an item without a prediction, ms (> 0). */
  readonly defaultRuntimeMs: number;
  /** At most this many runs are forecast; default 1000. */
  readonly maxRuns?: number;
}

/** One forecast run. */
export interface ForecastRun {
  readonly item: string;
  /** Epoch ms: the approximate start (for the run in progress: its claim). */
  readonly startAt: number;
  /** Epoch ms: the assumed end. */
  readonly endAt: number;
  /** The runtime is the item's prediction (false: the default was assumed). */
  readonly predicted: boolean;
  /** The run in progress when the forecast was made. */
  readonly running: boolean;
}

/** Why the forecast ends: its horizon, a paused group, every item of an EachOnce group done, no item eligible ever, windows that never open, or maxRuns. */
export type ForecastEnd = 'horizon' | 'paused' | 'complete' | 'no-items' | 'windows' | 'max-runs';

export interface Forecast {
  readonly runs: readonly ForecastRun[];
  readonly end: ForecastEnd;
}

const DEFAULT_MAX_RUNS = 1000;

/** Forecasts the group's runs from `now` to `now + horizonMs`, as the file's doc comment describes. */
export function forecastRuns(input: ForecastInput): Forecast {
  const { spec, status, now } = input;
  const until = now + input.horizonMs;
  const maxRuns = input.maxRuns ?? DEFAULT_MAX_RUNS;
  const windows = compileWindows(spec).windows;
  const prediction = predictionRules(spec);
  const failureRules = { coolOffMs: failureCoolOffMs(spec), retryFloorMs: input.retryFloorMs, backoff: failureBackoff(spec) };
  const items = [...new Set(spec.oaatItems ?? [])];
  const itemStatus = (item: string) => status?.items?.[item] ?? undefined;
  const runtimeOf = (item: string): { ms: number; predicted: boolean } => {
    const ms = predictedRuntimeMs(itemStatus(item), prediction);
    return ms === undefined ? { ms: input.defaultRuntimeMs, predicted: false } : { ms, predicted: true };
  };

  const history = new Map<string, ItemHistory>();
  const succeeded = new Set<string>();
  for (const item of items) {
    const entry = itemStatus(item);
    history.set(item, itemHistory(entry));
    if (succeededOnce(entry)) succeeded.add(item);
  }
  const runs: ForecastRun[] = [];
  const record = (item: string, startAt: number, runtime: { ms: number; predicted: boolean }, running: boolean): number => {
    const endAt = Math.max(startAt + runtime.ms, now);
    runs.push({ item, startAt, endAt, predicted: runtime.predicted, running });
    history.set(item, { lastSuccess: endAt, ...(history.get(item)?.lastFailure !== undefined && { lastFailure: history.get(item)?.lastFailure }), failureCount: 0 });
    succeeded.add(item);
    return endAt;
  };

  let clock = now;
  const current = status?.currentRun;
  if (current !== undefined && current !== null) {
    const claimedAt = Date.parse(current.claimedAt);
    clock = record(current.item, Number.isFinite(claimedAt) ? claimedAt : now, runtimeOf(current.item), true);
  }
  if (spec.paused === true) return { runs, end: 'paused' };

  while (runs.length < maxRuns) {
    const pending = spec.mode === 'EachOnce' ? items.filter((item) => !succeeded.has(item)) : items;
    if (pending.length === 0) return { runs, end: items.length === 0 ? 'no-items' : 'complete' };
    if (clock >= until) return { runs, end: 'horizon' };
    const selection = selectItem({ items: pending, history, frequencyMs: frequencyMs(spec), ...failureRules, clock: { now: () => clock }, rng: seededRng(0) });
    const candidates = selection.verdicts.filter((verdict): verdict is EligibleVerdict => verdict.eligible);
    if (candidates.length === 0) {
      if (selection.nextEligibleAt === undefined) return { runs, end: 'no-items' };
      clock = selection.nextEligibleAt;
      continue;
    }
    const item = likeliestChoice(candidates);
    const runtime = runtimeOf(item);
    const start = startAllowed(windows, clock);
    if (start.at === undefined) return { runs, end: 'windows' };
    if (start.at !== clock) {
      clock = start.at;
      continue;
    }
    const noRun = nextWindowOpening(windows, 'noRunItem', clock);
    if (runtime.predicted && noRun !== undefined && noRun.opensAt < clock + runtime.ms) {
      clock = noRun.closesAt;
      continue;
    }
    clock = record(item, clock, runtime, false);
  }
  return { runs, end: 'max-runs' };
}

/**
 * The selection policy's likeliest choice among eligible items, without its random parts: the
 * failed ones by oldest failure, else the oldest success (never-run first); ties in list order.
 */
function likeliestChoice(candidates: readonly EligibleVerdict[]): string {
  const failed = candidates.filter((candidate) => candidate.failureCount > 0);
  const [pool, key] = failed.length > 0 ? [failed, 'lastFailure' as const] : [candidates, 'lastSuccess' as const];
  return pool.reduce((best, candidate) => ((candidate[key] ?? 0) < (best[key] ?? 0) ? candidate : best)).item;
}
