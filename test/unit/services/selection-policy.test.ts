import { ManualClock } from '../../../src/services/clock.ts';
import { type Rng, seededRng } from '../../../src/services/rng.ts';
import {
  describeVerdict,
  type FailureBackoff,
  failureWaitMs,
  type ItemHistory,
  type ItemVerdict,
  type Selection,
  type SelectionInput,
  selectItem,
} from '../../../src/services/selection-policy.ts';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const ago = (ms: number): number => NOW - ms;

/** An rng that returns the given values in order and fails the test if consulted more often. */
function scripted(...values: number[]): Rng {
  let next = 0;
  return {
    next(): number {
      const value = values[next++];
      if (value === undefined) throw new Error(`rng consulted ${next} times, scripted ${values.length}`);
      return value;
    },
  };
}
/** Draws that take the wildcard (randrange(3) == 0) or not. */
const WILDCARD = 0.1;
const NO_WILDCARD = 0.9;

interface Case {
  items: readonly string[];
  history?: Record<string, ItemHistory>;
  now?: number;
  frequencyMs?: number;
  coolOffMs?: number;
  retryFloorMs?: number;
  backoff?: FailureBackoff;
  rng?: Rng;
}

function select(c: Case): Selection {
  const input: SelectionInput = {
    items: c.items,
    history: new Map(Object.entries(c.history ?? {})),
    frequencyMs: c.frequencyMs ?? MINUTE,
    ...(c.coolOffMs !== undefined && { coolOffMs: c.coolOffMs }),
    retryFloorMs: c.retryFloorMs ?? MINUTE,
    ...(c.backoff !== undefined && { backoff: c.backoff }),
    clock: new ManualClock(c.now ?? NOW),
    rng: c.rng ?? scripted(),
  };
  return selectItem(input);
}

function verdictOf(selection: Selection, item: string): ItemVerdict {
  const verdict = selection.verdicts.find((v) => v.item === item);
  if (verdict === undefined) throw new Error(`no verdict for ${item}`);
  return verdict;
}

/** How often each item is chosen over `draws` selections with one seeded rng. */
function frequencies(c: Case, draws: number, seed = 42): Map<string, number> {
  const rng = seededRng(seed);
  const counts = new Map<string, number>();
  for (let i = 0; i < draws; i++) {
    const { item } = select({ ...c, rng });
    if (item !== undefined) counts.set(item, (counts.get(item) ?? 0) + 1);
  }
  return new Map([...counts].map(([item, count]) => [item, count / draws]));
}

/** Asserts that a measured rate is within `tolerance` of `expected` (about 4 standard deviations for the draw counts used). */
function expectRate(rates: Map<string, number>, item: string, expected: number, tolerance: number): void {
  const rate = rates.get(item) ?? 0;
  if (Math.abs(rate - expected) > tolerance) throw new Error(`${item} chosen at rate ${rate}, expected ${expected} ± ${tolerance}`);
}

const succeeded = (at: number): ItemHistory => ({ lastSuccess: at, failureCount: 0 });
const failed = (at: number, failureCount = 1, lastSuccess?: number): ItemHistory => ({ lastFailure: at, failureCount, ...(lastSuccess !== undefined && { lastSuccess }) });

describe('selectItem: the original find_job cases (original-spec.md §6.4)', () => {
  it('chooses nothing and has no next eligible time when there are no items', () => {
    const selection = select({ items: [] });
    expect(selection.item).toBeUndefined();
    expect(selection.verdicts).toEqual([]);
    expect(selection.nextEligibleAt).toBeUndefined();
  });

  it('chooses a single never-run item without consulting the rng', () => {
    const selection = select({ items: ['item1'], rng: scripted() });
    expect(selection).toMatchObject({ item: 'item1', rule: 'only-candidate', nextEligibleAt: NOW });
  });

  it('does not choose an item that succeeded within the frequency', () => {
    const selection = select({ items: ['item1'], history: { item1: succeeded(NOW) }, frequencyMs: MINUTE });
    expect(selection.item).toBeUndefined();
    expect(verdictOf(selection, 'item1')).toMatchObject({ eligible: false, blockedBy: 'frequency', eligibleAt: NOW + MINUTE + 1 });
    expect(selection.nextEligibleAt).toBe(NOW + MINUTE + 1);
  });

  it('chooses an item that succeeded longer ago than the frequency', () => {
    expect(select({ items: ['item1'], history: { item1: succeeded(ago(5 * MINUTE)) } }).item).toBe('item1');
  });

  it('chooses an item that failed just now when there is no cool-off and no retry floor (the original)', () => {
    expect(select({ items: ['item1'], history: { item1: failed(NOW) }, retryFloorMs: 0 }).item).toBe('item1');
  });

  it('does not choose an item within its cool-off: failed 1 min ago, cool-off 5m, frequency 10m', () => {
    const selection = select({ items: ['item1'], history: { item1: failed(ago(MINUTE)) }, coolOffMs: 5 * MINUTE, frequencyMs: 10 * MINUTE });
    expect(selection.item).toBeUndefined();
    const verdict = verdictOf(selection, 'item1');
    expect(verdict).toMatchObject({ eligible: false, blockedBy: 'coolOff', eligibleAt: ago(MINUTE) + 5 * MINUTE });
    expect(describeVerdict(verdict)).toMatch(/failure cool-off/);
  });

  it('chooses an item whose cool-off has expired: failed 5 min ago, cool-off 1m, frequency 10m', () => {
    expect(select({ items: ['item1'], history: { item1: failed(ago(5 * MINUTE)) }, coolOffMs: MINUTE, frequencyMs: 10 * MINUTE }).item).toBe('item1');
  });

  it('lets the cool-off win over a shorter frequency: failed 5 min ago, cool-off 10m, frequency 1m', () => {
    const selection = select({ items: ['item1'], history: { item1: failed(ago(5 * MINUTE)) }, coolOffMs: 10 * MINUTE, frequencyMs: MINUTE });
    expect(selection.item).toBeUndefined();
    expect(verdictOf(selection, 'item1')).toMatchObject({ blockedBy: 'coolOff' });
  });

  it('chooses an item that failed 10 min ago with cool-off 5m and frequency 1m', () => {
    expect(select({ items: ['item1'], history: { item1: failed(ago(10 * MINUTE), 1) }, coolOffMs: 5 * MINUTE }).item).toBe('item1');
  });

  it('chooses one of 5 never-run items, each about equally often', () => {
    const items = ['item1', 'item2', 'item3', 'item4', 'item5'];
    const rates = frequencies({ items }, 20_000);
    expect([...rates.keys()].sort()).toEqual(items);
    for (const item of items) expectRate(rates, item, 0.2, 0.012);
  });

  it('chooses the item with the oldest success: all 5 min ago except item3 7 min ago', () => {
    const history = Object.fromEntries(['item1', 'item2', 'item3', 'item4', 'item5'].map((i) => [i, succeeded(ago(5 * MINUTE))]));
    history.item3 = succeeded(ago(7 * MINUTE));
    expect(select({ items: Object.keys(history), history, rng: scripted() })).toMatchObject({ item: 'item3', rule: 'oldest-success' });
  });

  it('chooses the failed item (item4, failed 7 min ago) unless the wildcard picks among the others (the original skipped this test)', () => {
    const history = Object.fromEntries(['item1', 'item2', 'item3', 'item5'].map((i) => [i, succeeded(ago(5 * MINUTE))]));
    history.item4 = failed(ago(7 * MINUTE), 1, ago(20 * MINUTE));
    const items = ['item1', 'item2', 'item3', 'item4', 'item5'];
    expect(select({ items, history, rng: scripted(NO_WILDCARD) })).toMatchObject({ item: 'item4', rule: 'oldest-failure' });
    const wildcard = select({ items, history, rng: scripted(WILDCARD, 0.6) });
    expect(wildcard).toMatchObject({ item: 'item3', rule: 'wildcard' });

    const rates = frequencies({ items, history }, 30_000);
    expectRate(rates, 'item4', 2 / 3, 0.012);
    for (const other of ['item1', 'item2', 'item3', 'item5']) expectRate(rates, other, 1 / 12, 0.008);
  });

  it('chooses among the failed items (item2 and item4 failed at the same time) unless the wildcard fires (the original skipped this test)', () => {
    const history: Record<string, ItemHistory> = {
      item1: succeeded(ago(5 * MINUTE)),
      item2: failed(ago(7 * MINUTE)),
      item3: succeeded(ago(5 * MINUTE)),
      item4: failed(ago(7 * MINUTE)),
    };
    const items = Object.keys(history);
    expect(select({ items, history, rng: scripted(NO_WILDCARD, 0.2) })).toMatchObject({ item: 'item2', rule: 'oldest-failure' });
    expect(select({ items, history, rng: scripted(NO_WILDCARD, 0.7) })).toMatchObject({ item: 'item4', rule: 'oldest-failure' });
  });
});

describe('selectItem: the selection order', () => {
  it('runs never-run items before any item that has succeeded', () => {
    const history = { old: succeeded(ago(300 * MINUTE)), older: succeeded(ago(900 * MINUTE)) };
    expect(select({ items: ['old', 'new', 'older'], history, rng: scripted() })).toMatchObject({ item: 'new', rule: 'oldest-success' });
  });

  it('among failed items, chooses the oldest failure whatever the success times', () => {
    const history = {
      recentFailure: failed(ago(2 * MINUTE), 5, ago(1000 * MINUTE)),
      oldFailure: failed(ago(30 * MINUTE), 1, ago(40 * MINUTE)),
      fine: succeeded(ago(3 * MINUTE)),
    };
    expect(select({ items: Object.keys(history), history, rng: scripted(NO_WILDCARD) })).toMatchObject({ item: 'oldFailure', rule: 'oldest-failure' });
  });

  it('on the wildcard, chooses the oldest success among the candidates that have not failed', () => {
    const history = {
      failing: failed(ago(10 * MINUTE)),
      recent: succeeded(ago(2 * MINUTE)),
      stale: succeeded(ago(50 * MINUTE)),
    };
    expect(select({ items: Object.keys(history), history, rng: scripted(WILDCARD) })).toMatchObject({ item: 'stale', rule: 'wildcard' });
  });

  it('falls back to the oldest failure when the wildcard fires but every candidate has failed', () => {
    const history = { a: failed(ago(5 * MINUTE)), b: failed(ago(9 * MINUTE)) };
    expect(select({ items: ['a', 'b'], history, rng: scripted(WILDCARD) })).toMatchObject({ item: 'b', rule: 'oldest-failure' });
  });

  it('counts an item whose failure is older than its success as failed while failureCount > 0 (as the original)', () => {
    const history = { odd: { lastSuccess: ago(3 * MINUTE), lastFailure: ago(60 * MINUTE), failureCount: 2 }, fine: succeeded(ago(90 * MINUTE)) };
    expect(select({ items: ['odd', 'fine'], history, rng: scripted(NO_WILDCARD) }).item).toBe('odd');
  });

  it('takes the wildcard at the rate 1/3 over many draws', () => {
    const history = { failing: failed(ago(10 * MINUTE)), ok1: succeeded(ago(5 * MINUTE)), ok2: succeeded(ago(6 * MINUTE)) };
    const rates = frequencies({ items: Object.keys(history), history }, 30_000, 7);
    expectRate(rates, 'failing', 2 / 3, 0.012);
    expectRate(rates, 'ok2', 1 / 3, 0.012);
    expect(rates.get('ok1')).toBeUndefined();
  });

  it('breaks ties uniformly at random', () => {
    const history = Object.fromEntries(['a', 'b', 'c', 'd'].map((i) => [i, succeeded(ago(10 * MINUTE))]));
    history.e = succeeded(ago(5 * MINUTE));
    const rates = frequencies({ items: Object.keys(history), history }, 40_000, 3);
    expect(rates.get('e')).toBeUndefined();
    for (const item of ['a', 'b', 'c', 'd']) expectRate(rates, item, 0.25, 0.01);
  });

  it('is deterministic for a seed', () => {
    const items = Array.from({ length: 20 }, (_, i) => `item-${i}`);
    const run = (seed: number): (string | undefined)[] => {
      const rng = seededRng(seed);
      return Array.from({ length: 50 }, () => select({ items, rng }).item);
    };
    expect(run(11)).toEqual(run(11));
    expect(run(11)).not.toEqual(run(12));
  });
});

describe('selectItem: boundaries (strict comparisons, as the original)', () => {
  it('makes an item eligible only strictly after lastSuccess + frequency', () => {
    const history = { a: succeeded(ago(MINUTE)) };
    expect(select({ items: ['a'], history, frequencyMs: MINUTE }).item).toBeUndefined();
    expect(select({ items: ['a'], history, frequencyMs: MINUTE, now: NOW + 1 }).item).toBe('a');
  });

  it('keeps an item cooling off while now < lastFailure + cool-off, and frees it at equality', () => {
    const history = { a: failed(ago(5 * MINUTE)) };
    expect(select({ items: ['a'], history, coolOffMs: 5 * MINUTE, now: NOW - 1 }).item).toBeUndefined();
    expect(select({ items: ['a'], history, coolOffMs: 5 * MINUTE }).item).toBe('a');
  });

  it('keeps a failed item back while now < lastFailure + retry floor, and frees it at equality', () => {
    const history = { a: failed(ago(MINUTE)) };
    expect(select({ items: ['a'], history, retryFloorMs: MINUTE, now: NOW - 1 }).item).toBeUndefined();
    expect(select({ items: ['a'], history, retryFloorMs: MINUTE }).item).toBe('a');
  });

  it('reports eligibleAt as the first millisecond at which the item is eligible (random histories)', () => {
    const rng = seededRng(99);
    const between = (low: number, high: number): number => low + Math.floor(rng.next() * (high - low));
    for (let round = 0; round < 300; round++) {
      const history: Record<string, ItemHistory> = {};
      for (const item of ['a', 'b', 'c']) {
        const failureCount = between(0, 3);
        history[item] = {
          ...(rng.next() < 0.8 && { lastSuccess: ago(between(0, 20 * MINUTE)) }),
          ...((failureCount > 0 || rng.next() < 0.3) && { lastFailure: ago(between(0, 20 * MINUTE)) }),
          failureCount,
        };
      }
      const coolOffMs = rng.next() < 0.5 ? between(1, 15 * MINUTE) : undefined;
      const c = { items: ['a', 'b', 'c'], history, frequencyMs: between(1, 15 * MINUTE), retryFloorMs: between(0, 5 * MINUTE), ...(coolOffMs !== undefined && { coolOffMs }) };
      const selection = select({ ...c, rng: seededRng(round) });
      for (const verdict of selection.verdicts) {
        if (verdict.eligible) continue;
        expect(verdict.eligibleAt).toBeGreaterThan(NOW);
        expect(verdictOf(select({ ...c, now: verdict.eligibleAt - 1, rng: seededRng(round) }), verdict.item).eligible).toBe(false);
        expect(verdictOf(select({ ...c, now: verdict.eligibleAt, rng: seededRng(round) }), verdict.item).eligible).toBe(true);
      }
    }
  });
});

describe('selectItem: cool-off and retry floor', () => {
  it('applies the cool-off whatever the failure count (as the original)', () => {
    const history = { a: { lastSuccess: ago(30 * MINUTE), lastFailure: ago(MINUTE), failureCount: 0 } };
    expect(verdictOf(select({ items: ['a'], history, coolOffMs: 5 * MINUTE }), 'a')).toMatchObject({ eligible: false, blockedBy: 'coolOff' });
  });

  it('holds a failed item back for the retry floor when there is no cool-off', () => {
    const selection = select({ items: ['a'], history: { a: failed(ago(10 * SECOND), 3) }, retryFloorMs: MINUTE });
    expect(selection.item).toBeUndefined();
    expect(verdictOf(selection, 'a')).toMatchObject({ eligible: false, blockedBy: 'retryFloor', eligibleAt: ago(10 * SECOND) + MINUTE });
    expect(selection.nextEligibleAt).toBe(ago(10 * SECOND) + MINUTE);
  });

  it('lets a permanently failing item wait while the others run', () => {
    const history = { failing: failed(ago(10 * SECOND), 40), other: succeeded(ago(2 * MINUTE)) };
    expect(select({ items: ['failing', 'other'], history, retryFloorMs: MINUTE, rng: scripted() }).item).toBe('other');
  });

  it('does not apply the retry floor when a cool-off is set, even a shorter one', () => {
    const history = { a: failed(ago(20 * SECOND)) };
    expect(select({ items: ['a'], history, coolOffMs: 10 * SECOND, retryFloorMs: MINUTE }).item).toBe('a');
  });

  it('does not apply the retry floor to an item without consecutive failures', () => {
    const history = { a: { lastSuccess: ago(5 * MINUTE), lastFailure: ago(10 * SECOND), failureCount: 0 } };
    expect(select({ items: ['a'], history, retryFloorMs: MINUTE }).item).toBe('a');
  });

  it('names the rule that keeps an item waiting longest', () => {
    const history = { a: failed(ago(10 * SECOND), 1, ago(30 * SECOND)) };
    expect(verdictOf(select({ items: ['a'], history, frequencyMs: 10 * MINUTE, retryFloorMs: MINUTE }), 'a')).toMatchObject({ blockedBy: 'frequency' });
    expect(verdictOf(select({ items: ['a'], history, frequencyMs: 20 * SECOND, retryFloorMs: MINUTE }), 'a')).toMatchObject({ blockedBy: 'retryFloor' });
  });
});

describe('failure backoff', () => {
  const HOUR = 60 * MINUTE;
  const backoff: FailureBackoff = { multiplier: 2, maxMs: HOUR };

  it('grows the cool-off by the multiplier from the second consecutive failure on, up to the maximum', () => {
    const waits = [0, 1, 2, 3, 4, 5, 6, 7, 40, 10_000].map((n) => failureWaitMs(n, { coolOffMs: 5 * MINUTE, retryFloorMs: MINUTE, backoff }));
    expect(waits).toEqual([5, 5, 10, 20, 40, 60, 60, 60, 60, 60].map((m) => m * MINUTE));
    expect([1, 2, 3, 4].map((n) => failureWaitMs(n, { coolOffMs: MINUTE, retryFloorMs: MINUTE, backoff: { multiplier: 3, maxMs: HOUR } }))).toEqual([1, 3, 9, 27].map((m) => m * MINUTE));
  });

  it('grows the retry floor when the group sets no cool-off, and holds nothing back without a failure', () => {
    expect([0, 1, 2, 3].map((n) => failureWaitMs(n, { coolOffMs: undefined, retryFloorMs: MINUTE, backoff }))).toEqual([undefined, MINUTE, 2 * MINUTE, 4 * MINUTE]);
  });

  it('never waits less than the base: a maximum below it means no growth', () => {
    expect([1, 2, 5].map((n) => failureWaitMs(n, { coolOffMs: 2 * HOUR, retryFloorMs: MINUTE, backoff }))).toEqual([2 * HOUR, 2 * HOUR, 2 * HOUR]);
  });

  it('is the plain cool-off or retry floor without a backoff, whatever the count', () => {
    expect(failureWaitMs(9, { coolOffMs: 5 * MINUTE, retryFloorMs: MINUTE })).toBe(5 * MINUTE);
    expect(failureWaitMs(9, { coolOffMs: undefined, retryFloorMs: MINUTE })).toBe(MINUTE);
  });

  it('holds the third consecutive failure back four times the cool-off, names the backoff, and frees the item then', () => {
    const history = { a: failed(ago(10 * MINUTE), 3) };
    const held = select({ items: ['a'], history, coolOffMs: 5 * MINUTE, backoff });
    expect(verdictOf(held, 'a')).toMatchObject({ eligible: false, blockedBy: 'backoff', eligibleAt: ago(10 * MINUTE) + 20 * MINUTE });
    expect(describeVerdict(verdictOf(held, 'a'))).toContain('(failure backoff)');
    expect(select({ items: ['a'], history, coolOffMs: 5 * MINUTE, backoff, now: ago(10 * MINUTE) + 20 * MINUTE }).item).toBe('a');
    // The first failure waits the cool-off only, and is named so.
    expect(verdictOf(select({ items: ['a'], history: { a: failed(ago(MINUTE), 1) }, coolOffMs: 5 * MINUTE, backoff }), 'a')).toMatchObject({ blockedBy: 'coolOff' });
  });

  it('starts again from the base after a success (the count is reset)', () => {
    const after = (failureCount: number): ItemVerdict =>
      verdictOf(select({ items: ['a'], history: { a: { lastSuccess: ago(20 * MINUTE), lastFailure: ago(30 * SECOND), failureCount } }, coolOffMs: MINUTE, backoff }), 'a');
    expect(after(5)).toMatchObject({ blockedBy: 'backoff', eligibleAt: ago(30 * SECOND) + 16 * MINUTE });
    expect(after(1)).toMatchObject({ blockedBy: 'coolOff', eligibleAt: ago(30 * SECOND) + MINUTE });
  });

  it('refuses a multiplier below 2 or not an integer, and a maximum of zero', () => {
    for (const bad of [{ multiplier: 1, maxMs: HOUR }, { multiplier: 2.5, maxMs: HOUR }, { multiplier: 2, maxMs: 0 }]) {
      expect(() => select({ items: ['a'], backoff: bad })).toThrow(RangeError);
    }
  });
});

describe('selectItem: the clock rule', () => {
  it('counts a last success in the future as now', () => {
    const selection = select({ items: ['a'], history: { a: succeeded(NOW + 3_600_000) }, frequencyMs: MINUTE });
    const verdict = verdictOf(selection, 'a');
    expect(verdict).toMatchObject({ eligible: false, blockedBy: 'frequency', eligibleAt: NOW + MINUTE + 1, lastSuccess: NOW, clamped: true });
    expect(describeVerdict(verdict)).toMatch(/ahead of the operator clock/);
  });

  it('counts a last failure in the future as now for the cool-off', () => {
    const verdict = verdictOf(select({ items: ['a'], history: { a: failed(NOW + 3_600_000) }, coolOffMs: 5 * MINUTE }), 'a');
    expect(verdict).toMatchObject({ blockedBy: 'coolOff', eligibleAt: NOW + 5 * MINUTE, lastFailure: NOW, clamped: true });
  });

  it('keeps an item with a future success waiting while the others run, even with the shortest frequency', () => {
    const history = { future: succeeded(NOW + 5 * MINUTE), past: succeeded(ago(5 * MINUTE)) };
    const selection = select({ items: ['future', 'past'], history, frequencyMs: 1 });
    expect(selection).toMatchObject({ item: 'past', rule: 'only-candidate' });
    expect(verdictOf(selection, 'future')).toMatchObject({ eligible: false, eligibleAt: NOW + 2 });
  });

  it('does not flag timestamps that are not in the future', () => {
    expect(verdictOf(select({ items: ['a'], history: { a: succeeded(NOW) } }), 'a').clamped).toBe(false);
  });
});

describe('selectItem: input', () => {
  it('counts duplicate items once and reports each duplicate once', () => {
    const selection = select({ items: ['a', 'b', 'a', 'c', 'b', 'a'], rng: seededRng(1) });
    expect(selection.duplicates).toEqual(['a', 'b']);
    expect(selection.verdicts.map((v) => v.item)).toEqual(['a', 'b', 'c']);
  });

  it('gives a duplicated item no extra weight', () => {
    const rates = frequencies({ items: ['a', 'a', 'a', 'b', 'c'] }, 30_000);
    for (const item of ['a', 'b', 'c']) expectRate(rates, item, 1 / 3, 0.012);
  });

  it('reports no duplicates when there are none', () => {
    expect(select({ items: ['a', 'b'], rng: seededRng(1) }).duplicates).toEqual([]);
  });

  it('ignores history of items that are not in the list', () => {
    const selection = select({ items: ['a'], history: { a: succeeded(NOW), gone: succeeded(ago(100 * MINUTE)) } });
    expect(selection.item).toBeUndefined();
    expect(selection.verdicts).toHaveLength(1);
  });

  it('handles item names that are Object.prototype keys', () => {
    const history = { constructor: succeeded(NOW), ['__proto__']: succeeded(NOW) };
    const selection = select({ items: ['constructor', '__proto__', 'toString'], history, rng: scripted() });
    expect(selection.item).toBe('toString');
  });

  it('treats a non-finite timestamp as absent', () => {
    const selection = select({ items: ['a', 'b'], history: { a: { lastSuccess: Number.NaN, failureCount: 0 }, b: succeeded(ago(5 * MINUTE)) }, rng: scripted() });
    expect(selection.item).toBe('a');
    expect(verdictOf(selection, 'a').lastSuccess).toBeUndefined();
  });

  it('rejects durations out of range', () => {
    expect(() => select({ items: ['a'], frequencyMs: 0 })).toThrow(RangeError);
    expect(() => select({ items: ['a'], frequencyMs: Number.NaN })).toThrow(RangeError);
    expect(() => select({ items: ['a'], coolOffMs: 0 })).toThrow(RangeError);
    expect(() => select({ items: ['a'], retryFloorMs: -1 })).toThrow(RangeError);
  });
});

describe('selectItem: next eligible time', () => {
  it('is now when an item was chosen', () => {
    expect(select({ items: ['a', 'b'], history: { b: succeeded(NOW) } }).nextEligibleAt).toBe(NOW);
  });

  it('is the earliest eligibleAt when no item is eligible', () => {
    const history = { a: succeeded(ago(10 * SECOND)), b: failed(ago(50 * SECOND), 1, ago(5 * SECOND)), c: succeeded(ago(30 * SECOND)) };
    const selection = select({ items: ['a', 'b', 'c'], history, frequencyMs: MINUTE, coolOffMs: MINUTE });
    expect(selection.item).toBeUndefined();
    expect(selection.nextEligibleAt).toBe(ago(30 * SECOND) + MINUTE + 1);
    expect(selection.nextEligibleAt).toBe(Math.min(...selection.verdicts.map((v) => (v.eligible ? NOW : v.eligibleAt))));
  });
});

describe('describeVerdict', () => {
  it('says why an item is eligible', () => {
    expect(describeVerdict(verdictOf(select({ items: ['a'] }), 'a'))).toBe('eligible: last success never');
  });

  it('says until when and why an item waits, with its history', () => {
    const verdict = verdictOf(select({ items: ['a'], history: { a: failed(ago(10 * SECOND), 2, ago(MINUTE)) }, frequencyMs: 1, retryFloorMs: MINUTE }), 'a');
    expect(describeVerdict(verdict)).toBe(
      'not eligible before 2026-03-01T12:00:50.000Z (retry floor after a failure): last success 2026-03-01T11:59:00.000Z, ' +
        'last failure 2026-03-01T11:59:50.000Z, 2 consecutive failure(s)',
    );
  });

  it('names the frequency', () => {
    const verdict = verdictOf(select({ items: ['a'], history: { a: succeeded(NOW) }, frequencyMs: MINUTE }), 'a');
    expect(describeVerdict(verdict)).toBe('not eligible before 2026-03-01T12:01:00.001Z (frequency): last success 2026-03-01T12:00:00.000Z');
  });
});
