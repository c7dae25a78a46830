/**
 * The selection policy: which item of a group runs next, why each item is or is not eligible,
 * and when the next one becomes eligible. Pure: the time comes from a {@link Clock}, every
 * random choice from an {@link Rng}.
 *
 * It is the Python original's `find_job_to_run` (its code, not its README), plus three rules
 * of this operator: the retry floor, duplicate items counted once, and the clock rule.
 *
 * **Eligibility.** Each distinct item is judged on its history: `lastSuccess`, `lastFailure`
 * (absent means never, i.e. the Unix epoch) and `failureCount` (consecutive failures since
 * the last success). A stored time later than now (a kubelet clock ahead of the operator's)
 * counts as now. An item is eligible at time `now` when all of these hold:
 * 1. frequency: `now > lastSuccess + frequency` (strictly later);
 * 2. cool-off, when the group sets `failureCoolOff`: not `now < lastFailure + coolOff`
 *    (this applies whatever `failureCount` is, as in the original);
 * 3. retry floor, when the group sets no cool-off: an item with `failureCount > 0` is not
 *    eligible while `now < lastFailure + retryFloor`. A failing item is thus never retried in
 *    a hot loop (the original retried it at every 60 s poll; the default floor is 60 s).
 * 4. backoff, when the group sets `failureBackoff`: the wait of rule 2 or 3 (its base: the
 *    cool-off, else the retry floor) grows with the consecutive failures n, to
 *    `min(max, base × multiplier^(n−1))`, never below the base. A success (n = 0) resets it.
 *
 * **Choice among the eligible items (the candidates).**
 * 1. No candidate: nothing runs.
 * 2. One candidate: it runs.
 * 3. No candidate has failed (`failureCount > 0`): the candidates with the oldest
 *    `lastSuccess` (never-run items first).
 * 4. Some candidates have failed: with probability 1/3 (the "wildcard") the candidates that
 *    have not failed, restricted to those with the oldest `lastSuccess`; otherwise, or when
 *    every candidate has failed, the failed candidates with the oldest `lastFailure`. So a
 *    failing item does not starve the others, and the others do not starve it.
 * 5. Ties (several items at the same oldest time): one of them uniformly at random.
 * The rng is consulted only for the wildcard (in case 4) and for a tie of two or more.
 *
 * **Duplicates** in the item list count once (the original gave a duplicate double weight);
 * they are reported so the caller can warn.
 *
 * **When an item becomes eligible** (for requeueing): times are whole epoch milliseconds, so
 * the frequency lets an item go at `lastSuccess + frequency + 1`, a cool-off or the retry
 * floor at `lastFailure + duration`; an item held by several rules waits for the one that
 * ends last. A stored time ahead of the clock counts as now at each evaluation, so while it
 * stays ahead the reported time moves along with the clock.
 */
import type { Clock } from './clock.ts';
import { pickUniform, randomIndex, type Rng } from './rng.ts';

/** What the group's status says about one item, as epoch milliseconds. */
export interface ItemHistory {
  /** The last recorded success; absent: never. */
  readonly lastSuccess?: number | undefined;
  /** The last recorded failure; absent: never. */
  readonly lastFailure?: number | undefined;
  /** Consecutive failures since the last success. */
  readonly failureCount: number;
}

export interface SelectionInput {
  /** The group's items, in spec order; may contain duplicates. */
  readonly items: readonly string[];
  /** History by item name; an item without an entry has never run. */
  readonly history: ReadonlyMap<string, ItemHistory>;
  /** `spec.frequency`, > 0. */
  readonly frequencyMs: number;
  /** `spec.failureCoolOff`, > 0 when set; absent: no cool-off (the retry floor applies). */
  readonly coolOffMs?: number | undefined;
  /** The minimum time between a failure and the retry when there is no cool-off, >= 0. */
  readonly retryFloorMs: number;
  /** `spec.failureBackoff`: the failure wait grows with consecutive failures; absent: it does not. */
  readonly backoff?: FailureBackoff | undefined;
  readonly clock: Clock;
  readonly rng: Rng;
}

/** How the wait after a failure grows: `multiplier` (an integer >= 2) per consecutive failure, up to `maxMs`. */
export interface FailureBackoff {
  readonly multiplier: number;
  readonly maxMs: number;
}

/** The rule that keeps an item from being eligible; `backoff`: the cool-off or retry floor, grown by the backoff. */
export type Blocker = 'frequency' | 'coolOff' | 'retryFloor' | 'backoff';

interface VerdictFacts {
  readonly item: string;
  /** As used for the decision: clamped to now; undefined: never. */
  readonly lastSuccess: number | undefined;
  /** As used for the decision: clamped to now; undefined: never. */
  readonly lastFailure: number | undefined;
  readonly failureCount: number;
  /** A stored time was later than now and was counted as now (clock skew). */
  readonly clamped: boolean;
}

export interface EligibleVerdict extends VerdictFacts {
  readonly eligible: true;
}

export interface BlockedVerdict extends VerdictFacts {
  readonly eligible: false;
  /** The rule that keeps the item waiting longest. */
  readonly blockedBy: Blocker;
  /**
   * The first whole millisecond at which the item is eligible, if its history does not change
   * (with a stored time ahead of the clock, a later evaluation may move it later).
   */
  readonly eligibleAt: number;
}

/** Why one item is, or is not, eligible now. {@link describeVerdict} puts it in a sentence. */
export type ItemVerdict = EligibleVerdict | BlockedVerdict;

/** Which step of the algorithm made the choice (see the file's doc comment). */
export type SelectionRule = 'only-candidate' | 'oldest-success' | 'wildcard' | 'oldest-failure';

export interface Selection {
  /** The item to run now; absent when no item is eligible. */
  readonly item?: string;
  /** The rule that chose {@link item}. */
  readonly rule?: SelectionRule;
  /** One verdict per distinct item, in the order of first appearance in the item list. */
  readonly verdicts: readonly ItemVerdict[];
  /** Item names that appear more than once in the list, each named once. */
  readonly duplicates: readonly string[];
  /**
   * The earliest moment, not before now, at which some item is eligible: now when an item was
   * chosen, else the smallest `eligibleAt`. Absent only when there are no items.
   */
  readonly nextEligibleAt?: number;
}

/** What decides how long an item waits after a failure. */
export interface FailureRules {
  readonly coolOffMs: number | undefined;
  readonly retryFloorMs: number;
  readonly backoff?: FailureBackoff | undefined;
}

interface Rules extends FailureRules {
  readonly now: number;
  readonly frequencyMs: number;
}

/**
 * How long after its last failure an item with `failureCount` consecutive failures waits
 * (rules 2 to 4 of the file's doc comment): the base (the cool-off, else the retry floor), grown
 * by the backoff from the second consecutive failure on; undefined when no rule holds it (no
 * cool-off and no failure). Exact for any count: the growth stops at the maximum.
 */
export function failureWaitMs(failureCount: number, rules: FailureRules): number | undefined {
  if (rules.coolOffMs === undefined && !(failureCount > 0)) return undefined;
  const base = rules.coolOffMs ?? rules.retryFloorMs;
  const { backoff } = rules;
  if (backoff === undefined) return base;
  let wait = base;
  for (let n = 2; n <= failureCount && wait < backoff.maxMs; n++) wait *= backoff.multiplier;
  return Math.max(base, Math.min(backoff.maxMs, wait));
}

/**
 * Judges every item and chooses the next one to run, as the file's doc comment describes.
 * Throws RangeError when a duration is out of range (frequency <= 0, cool-off <= 0, negative
 * retry floor): durations are validated before they get here. A non-finite timestamp counts as
 * absent.
 */
export function selectItem(input: SelectionInput): Selection {
  const { frequencyMs, coolOffMs, retryFloorMs, backoff } = input;
  if (!(Number.isFinite(frequencyMs) && frequencyMs > 0)) throw new RangeError(`frequency must be > 0 ms, got ${frequencyMs}`);
  if (coolOffMs !== undefined && !(Number.isFinite(coolOffMs) && coolOffMs > 0)) throw new RangeError(`cool-off must be > 0 ms, got ${coolOffMs}`);
  if (!(Number.isFinite(retryFloorMs) && retryFloorMs >= 0)) throw new RangeError(`retry floor must be >= 0 ms, got ${retryFloorMs}`);
  if (backoff !== undefined && !(Number.isInteger(backoff.multiplier) && backoff.multiplier >= 2 && backoff.maxMs > 0)) {
    throw new RangeError(`backoff needs an integer multiplier >= 2 and a maximum > 0 ms, got ${String(backoff.multiplier)} and ${String(backoff.maxMs)}`);
  }
  const rules: Rules = { now: input.clock.now(), frequencyMs, coolOffMs, retryFloorMs, backoff };

  const seen = new Set<string>();
  const duplicates = new Set<string>();
  const verdicts: ItemVerdict[] = [];
  const candidates: EligibleVerdict[] = [];
  let nextEligibleAt: number | undefined;
  for (const item of input.items) {
    if (seen.has(item)) {
      duplicates.add(item);
      continue;
    }
    seen.add(item);
    const verdict = judge(item, input.history.get(item), rules);
    verdicts.push(verdict);
    const eligibleAt = verdict.eligible ? rules.now : verdict.eligibleAt;
    if (nextEligibleAt === undefined || eligibleAt < nextEligibleAt) nextEligibleAt = eligibleAt;
    if (verdict.eligible) candidates.push(verdict);
  }

  const chosen = choose(candidates, input.rng);
  return {
    ...chosen,
    verdicts,
    duplicates: [...duplicates],
    ...(nextEligibleAt !== undefined && { nextEligibleAt }),
  };
}

/** A stored time as the decision uses it: undefined when missing or not finite, else at most now. */
function clampToNow(stored: number | undefined, now: number): number | undefined {
  return stored === undefined || !Number.isFinite(stored) ? undefined : Math.min(stored, now);
}

function judge(item: string, history: ItemHistory | undefined, rules: Rules): ItemVerdict {
  const { now, coolOffMs } = rules;
  const storedSuccess = history?.lastSuccess;
  const storedFailure = history?.lastFailure;
  const lastSuccess = clampToNow(storedSuccess, now);
  const lastFailure = clampToNow(storedFailure, now);
  const failureCount = history?.failureCount ?? 0;
  const clamped = (lastSuccess === now && storedSuccess !== now) || (lastFailure === now && storedFailure !== now);

  // The item waits for the rule that ends last; it is eligible from `eligibleAt` on.
  let blockedBy: Blocker | undefined;
  let eligibleAt = now;
  // Eligible strictly after lastSuccess + frequency, i.e. from the next millisecond on.
  const frequencyEnd = (lastSuccess ?? 0) + rules.frequencyMs + 1;
  if (frequencyEnd > eligibleAt) {
    blockedBy = 'frequency';
    eligibleAt = frequencyEnd;
  }
  const wait = failureWaitMs(failureCount, rules);
  if (wait !== undefined) {
    const failureEnd = (lastFailure ?? 0) + wait;
    if (failureEnd > eligibleAt) {
      blockedBy = wait > (coolOffMs ?? rules.retryFloorMs) ? 'backoff' : coolOffMs !== undefined ? 'coolOff' : 'retryFloor';
      eligibleAt = failureEnd;
    }
  }
  return blockedBy === undefined
    ? { item, lastSuccess, lastFailure, failureCount, clamped, eligible: true }
    : { item, lastSuccess, lastFailure, failureCount, clamped, eligible: false, blockedBy, eligibleAt };
}

function choose(candidates: readonly EligibleVerdict[], rng: Rng): { item: string; rule: SelectionRule } | undefined {
  if (candidates.length <= 1) return chosenBy('only-candidate', candidates.map((c) => c.item), rng);
  const failed = candidates.filter((c) => c.failureCount > 0);
  if (failed.length === 0) return chosenBy('oldest-success', oldest(candidates, 'lastSuccess'), rng);
  if (randomIndex(rng, 3) === 0) {
    const notFailed = candidates.filter((c) => !(c.failureCount > 0));
    if (notFailed.length > 0) return chosenBy('wildcard', oldest(notFailed, 'lastSuccess'), rng);
  }
  return chosenBy('oldest-failure', oldest(failed, 'lastFailure'), rng);
}

/** One of `tied`, uniformly at random, chosen by `rule`; undefined when `tied` is empty. */
function chosenBy(rule: SelectionRule, tied: readonly string[], rng: Rng): { item: string; rule: SelectionRule } | undefined {
  const item = pickUniform(rng, tied);
  return item === undefined ? undefined : { item, rule };
}

/** The items of the verdicts with the smallest `key` (absent = the epoch). */
function oldest(verdicts: readonly EligibleVerdict[], key: 'lastSuccess' | 'lastFailure'): string[] {
  let minimum = Number.POSITIVE_INFINITY;
  const tied: string[] = [];
  for (const verdict of verdicts) {
    const at = verdict[key] ?? 0;
    if (at < minimum) {
      minimum = at;
      tied.length = 0;
    }
    if (at === minimum) tied.push(verdict.item);
  }
  return tied;
}

const iso = (ms: number | undefined): string => (ms === undefined ? 'never' : new Date(ms).toISOString());

/**
 * A verdict as one English sentence for status, Events and logs, e.g.
 * `not eligible before 2026-01-01T01:00:00.001Z (frequency): last success 2026-01-01T00:00:00.000Z`.
 */
export function describeVerdict(verdict: ItemVerdict): string {
  const history =
    `last success ${iso(verdict.lastSuccess)}` +
    (verdict.lastFailure !== undefined ? `, last failure ${iso(verdict.lastFailure)}` : '') +
    (verdict.failureCount > 0 ? `, ${verdict.failureCount} consecutive failure(s)` : '') +
    (verdict.clamped ? ' (a stored time was ahead of the operator clock and counts as now)' : '');
  if (verdict.eligible) return `eligible: ${history}`;
  const rule = { frequency: 'frequency', coolOff: 'failure cool-off', retryFloor: 'retry floor after a failure', backoff: 'failure backoff' }[verdict.blockedBy];
  return `not eligible before ${iso(verdict.eligibleAt)} (${rule}): ${history}`;
}
