import type { ItemStatus, RuntimeStatus } from '../../../src/api/v1/types.ts';
import { ManualClock } from '../../../src/services/clock.ts';
import { seededRng } from '../../../src/services/rng.ts';
import { RUNTIME_SAMPLE_SIZE, RuntimeStats, type RuntimeStatsRead } from '../../../src/services/runtime-stats.ts';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const clock = new ManualClock(NOW);

/** Statistics of `runtimes`, added in order with a seeded rng. */
function statsOf(runtimes: readonly number[], sampleSize = RUNTIME_SAMPLE_SIZE, seed = 1): RuntimeStats {
  const stats = new RuntimeStats(sampleSize);
  const rng = seededRng(seed);
  for (const runtime of runtimes) stats.add(runtime, rng, clock);
  return stats;
}

/** The statistics of a successful read; fails the test otherwise. */
function read(item: ItemStatus, sampleSize?: number): RuntimeStats {
  const result = RuntimeStats.fromItem(item, sampleSize);
  if (result.kind !== 'read') throw new Error(`expected statistics, got ${JSON.stringify(result)}`);
  return result.stats;
}

const isSorted = (values: readonly number[]): boolean => values.every((value, i) => i === 0 || (values[i - 1] ?? 0) <= value);

describe('RuntimeStats: recording (original-spec.md §6.8)', () => {
  it('starts empty with a sample size of 32', () => {
    const stats = new RuntimeStats();
    expect(stats.sampleSize).toBe(32);
    expect(stats.sample).toEqual([]);
    expect([stats.count, stats.total, stats.sumSquares]).toEqual([0, 0, 0]);
    expect(stats.min).toBeUndefined();
    expect(stats.max).toBeUndefined();
    expect(stats.lastUpdated).toBeUndefined();
  });

  it('takes a custom sample size, a positive integer', () => {
    expect(new RuntimeStats(50).sampleSize).toBe(50);
    expect(() => new RuntimeStats(0)).toThrow(RangeError);
    expect(() => new RuntimeStats(2.5)).toThrow(RangeError);
  });

  it('records a single value in every aggregate', () => {
    const stats = statsOf([120.5]);
    expect(stats).toMatchObject({ count: 1, total: 120.5, sumSquares: 120.5 * 120.5, min: 120.5, max: 120.5, sample: [120.5], lastUpdated: NOW });
  });

  it('keeps 5 values sorted, with exact aggregates', () => {
    const runtimes = [100, 150, 120, 180, 90];
    const stats = statsOf(runtimes);
    expect(stats).toMatchObject({ count: 5, total: 640, sumSquares: runtimes.reduce((sum, r) => sum + r * r, 0), min: 90, max: 180 });
    expect(stats.sample).toEqual([90, 100, 120, 150, 180]);
  });

  it('rejects runtimes that are not positive and finite, and records nothing for them', () => {
    const stats = statsOf([10]);
    for (const bad of [0, -10, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => {
        stats.add(bad, seededRng(1), clock);
      }).toThrow(RangeError);
    }
    expect(stats).toMatchObject({ count: 1, total: 10, sample: [10] });
  });

  it('bounds the sample: 50 values with size 10 give count 50 and 10 sorted values from the range', () => {
    const stats = statsOf(Array.from({ length: 50 }, (_, i) => 100 + i), 10);
    expect(stats.count).toBe(50);
    expect(stats.sample).toHaveLength(10);
    expect(isSorted(stats.sample)).toBe(true);
    expect(stats.sample.every((value) => value >= 100 && value <= 149)).toBe(true);
    expect(stats).toMatchObject({ min: 100, max: 149 });
  });

  it('keeps at most 32 values with the default size', () => {
    expect(statsOf(Array.from({ length: 1000 }, (_, i) => i + 1)).sample).toHaveLength(32);
  });

  it('keeps a uniform sample: every value ends up in it about equally often', () => {
    const values = Array.from({ length: 20 }, (_, i) => i + 1);
    const kept = new Map<number, number>();
    const trials = 4000;
    const rng = seededRng(5);
    for (let trial = 0; trial < trials; trial++) {
      const stats = new RuntimeStats(4);
      for (const value of values) stats.add(value, rng, clock);
      for (const value of stats.sample) kept.set(value, (kept.get(value) ?? 0) + 1);
    }
    for (const value of values) expect(Math.abs((kept.get(value) ?? 0) / trials - 4 / 20)).toBeLessThan(0.03);
  });

  it('stamps lastUpdated with the clock', () => {
    const stats = statsOf([10]);
    const later = new ManualClock(NOW + 5_000);
    stats.add(20, seededRng(1), later);
    expect(stats.lastUpdated).toBe(NOW + 5_000);
  });
});

describe('RuntimeStats: percentiles, mean, deviation, prediction', () => {
  it('has no percentile without data', () => {
    expect(new RuntimeStats().percentile(0.5)).toBeUndefined();
    expect(new RuntimeStats().percentile(0.9)).toBeUndefined();
  });

  it('gives the single value for every percentile', () => {
    const stats = statsOf([100]);
    expect([0, 0.5, 0.9, 1].map((p) => stats.percentile(p))).toEqual([100, 100, 100, 100]);
  });

  it('uses the original index rule floor(p * n), capped at n - 1: 10..100 gives p0 10, p0.5 60, p0.9 100, p1 100', () => {
    const stats = statsOf([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    expect([0, 0.5, 0.9, 1].map((p) => stats.percentile(p))).toEqual([10, 60, 100, 100]);
  });

  it('has no percentile outside [0, 1]', () => {
    const stats = statsOf([100]);
    expect(stats.percentile(-0.1)).toBeUndefined();
    expect(stats.percentile(1.1)).toBeUndefined();
    expect(stats.percentile(Number.NaN)).toBeUndefined();
  });

  it('computes the mean: none, 150, 200', () => {
    expect(new RuntimeStats().mean()).toBeUndefined();
    expect(statsOf([150]).mean()).toBe(150);
    expect(statsOf([100, 200, 300]).mean()).toBe(200);
  });

  it('computes the population standard deviation from 2 values on: none, none, about 8.16 for 10, 20, 30', () => {
    expect(new RuntimeStats().standardDeviation()).toBeUndefined();
    expect(statsOf([100]).standardDeviation()).toBeUndefined();
    expect(statsOf([10, 20, 30]).standardDeviation()).toBeCloseTo(Math.sqrt(200 / 3), 10);
  });

  it('predicts nothing without data, the value itself for one value (any confidence factor)', () => {
    expect(new RuntimeStats().predict()).toBeUndefined();
    expect(statsOf([100]).predict()).toBe(100);
    expect(statsOf([100]).predict(2)).toBe(100);
  });

  it('predicts max(p90, mean + 1.5 sd) by default', () => {
    const stats = statsOf([80, 90, 100, 110, 120, 150]);
    const mean = 650 / 6;
    const sd = stats.standardDeviation() ?? Number.NaN;
    expect(stats.percentile(0.9)).toBe(150);
    expect(stats.predict()).toBeCloseTo(Math.max(150, mean + 1.5 * sd), 10);
  });

  it('predicts mean + cf sd when that exceeds p90: [10, 10, 10, 10, 200] with cf 3', () => {
    const stats = statsOf([10, 10, 10, 10, 200]);
    const conservative = 48 + 3 * (stats.standardDeviation() ?? Number.NaN);
    expect(conservative).toBeGreaterThan(200);
    expect(stats.predict(3)).toBe(conservative);
  });

  it('predicts within realistic ranges: backup 125-150, cleanup 48-60, sync 300-350', () => {
    expect(statsOf([120, 115, 130, 125, 140, 110, 135]).predict()).toBeGreaterThanOrEqual(125);
    expect(statsOf([120, 115, 130, 125, 140, 110, 135]).predict()).toBeLessThanOrEqual(150);
    expect(statsOf([45, 50, 43, 52, 48]).predict()).toBeGreaterThanOrEqual(48);
    expect(statsOf([45, 50, 43, 52, 48]).predict()).toBeLessThanOrEqual(60);
    expect(statsOf([300, 285, 310, 295, 320, 290]).predict()).toBeGreaterThanOrEqual(300);
    expect(statsOf([300, 285, 310, 295, 320, 290]).predict()).toBeLessThanOrEqual(350);
  });

  it('describes itself for logs', () => {
    expect(new RuntimeStats().toString()).toBe('no data');
    const text = statsOf([100, 150, 200]).toString();
    expect(text).toContain('count=3');
    expect(text).toContain('mean=150.0s');
    expect(text).toContain('p50=150.0s');
  });
});

describe('RuntimeStats: the runtime status', () => {
  it('writes every field, the sample sorted', () => {
    expect(statsOf([100, 200, 150]).toStatus()).toEqual({
      count: 3,
      total: 450,
      sumSquares: 100 * 100 + 200 * 200 + 150 * 150,
      min: 100,
      max: 200,
      sample: [100, 150, 200],
      lastUpdated: '2026-03-01T12:00:00.000Z',
    });
  });

  it('writes empty statistics with min and max 0 and no lastUpdated', () => {
    expect(new RuntimeStats().toStatus()).toEqual({ count: 0, total: 0, sumSquares: 0, min: 0, max: 0, sample: [] });
  });

  it('reads what it wrote: count, mean, sample and prediction survive', () => {
    const original = statsOf([100, 120, 110, 130, 105, 125, 115]);
    const copy = read({ runtime: original.toStatus() });
    expect(copy).toMatchObject({ count: 7, total: original.total, sumSquares: original.sumSquares, min: 100, max: 130, lastUpdated: NOW });
    expect(copy.sample).toEqual(original.sample);
    expect(copy.mean()).toBe(original.mean());
    expect(copy.predict()).toBe(original.predict());
  });

  it('reads a status with count 0 as empty statistics', () => {
    expect(read({ runtime: { count: 0, total: 0, sumSquares: 0, min: 0, max: 0, sample: [] } }).count).toBe(0);
  });

  it('sorts a stored sample', () => {
    expect(read({ runtime: { count: 3, total: 6, sumSquares: 14, min: 1, max: 3, sample: [3, 1, 2] } }).sample).toEqual([1, 2, 3]);
  });

  it('thins an oversize sample (150 values, size 100) to evenly spaced values, keeping min, max and percentiles', () => {
    const values = Array.from({ length: 150 }, (_, i) => i + 1);
    const stored: RuntimeStatus = { count: 150, total: 11_325, sumSquares: 1_136_275, min: 1, max: 150, sample: values };
    const stats = read({ runtime: stored }, 100);
    expect(stats.sample).toHaveLength(100);
    expect(isSorted(stats.sample)).toBe(true);
    expect(new Set(stats.sample).size).toBe(100);
    expect([stats.sample[0], stats.sample.at(-1)]).toEqual([1, 150]);
    const full = read({ runtime: stored }, 150);
    for (const p of [0.1, 0.25, 0.5, 0.75, 0.9]) expect(Math.abs((stats.percentile(p) ?? 0) - (full.percentile(p) ?? 0))).toBeLessThanOrEqual(2);
  });

  it('continues sampling after a read, within the sample size', () => {
    const stats = read({ runtime: statsOf(Array.from({ length: 40 }, (_, i) => i + 1)).toStatus() });
    const rng = seededRng(3);
    for (let i = 0; i < 100; i++) stats.add(1000 + i, rng, clock);
    expect(stats.count).toBe(140);
    expect(stats.sample).toHaveLength(32);
    expect(isSorted(stats.sample)).toBe(true);
  });

  it('never shares arrays with the status it read or wrote', () => {
    const runtime: RuntimeStatus = { count: 2, total: 3, sumSquares: 5, min: 1, max: 2, sample: [1, 2] };
    const stats = read({ runtime });
    stats.add(5, seededRng(1), clock);
    expect(runtime.sample).toEqual([1, 2]);
    const written = stats.toStatus();
    written.sample.push(99);
    expect(stats.sample).toEqual([1, 2, 5]);
  });

  it('is absent when the item has neither runtime nor legacy keys', () => {
    expect(RuntimeStats.fromItem({ last_success: '2026-01-01T00:00:00Z' })).toEqual({ kind: 'absent' });
    expect(RuntimeStats.fromItem({ runtime: null } as unknown as ItemStatus)).toEqual({ kind: 'absent' });
  });

  it.each<[string, unknown, RegExp]>([
    ['not an object', 'abc', /runtime must be an object/],
    ['a list', [1, 2], /runtime must be an object/],
    ['a string count', { count: '3', total: 3, sumSquares: 3, min: 1, max: 1, sample: [] }, /runtime\.count must be a number/],
    ['a fractional count', { count: 2.5, total: 3, sumSquares: 3, min: 1, max: 1, sample: [] }, /runtime\.count must be a whole number/],
    ['a negative count', { count: -1, total: 3, sumSquares: 3, min: 1, max: 1, sample: [] }, /runtime\.count must be a whole number/],
    ['a negative total', { count: 1, total: -3, sumSquares: 9, min: 3, max: 3, sample: [] }, /runtime\.total must be a finite number/],
    ['a missing sample', { count: 1, total: 3, sumSquares: 9, min: 3, max: 3 }, /runtime\.sample must be a list of numbers/],
    ['a sample with text', { count: 1, total: 3, sumSquares: 9, min: 3, max: 3, sample: ['3'] }, /runtime\.sample must be a list of numbers/],
    ['a sample with 0', { count: 1, total: 3, sumSquares: 9, min: 3, max: 3, sample: [0] }, /runtime\.sample\[0\] must be a positive number/],
    ['min above max', { count: 2, total: 3, sumSquares: 5, min: 2, max: 1, sample: [1, 2] }, /runtime\.min 2 and runtime\.max 1 are inconsistent/],
    ['a zero total with runs', { count: 2, total: 0, sumSquares: 0, min: 0, max: 0, sample: [] }, /runtime\.total is 0 with runtime\.count 2/],
  ])('drops a runtime status with %s, with a reason', (_, runtime, reason) => {
    const result = RuntimeStats.fromItem({ runtime } as unknown as ItemStatus);
    expect(result).toMatchObject({ kind: 'malformed', source: 'runtime' });
    expect((result as Extract<RuntimeStatsRead, { kind: 'malformed' }>).reason).toMatch(reason);
  });

  it('reads an unparseable lastUpdated as unknown, not as an error', () => {
    for (const lastUpdated of ['not-a-datetime', '2024-13-01T10:00:00Z', '2024-08-32T10:00:00Z', '2024-08-01T25:00:00Z', '', 7]) {
      const stats = read({ runtime: { count: 1, total: 100, sumSquares: 10_000, min: 100, max: 100, sample: [100], lastUpdated } as unknown as RuntimeStatus });
      expect(stats.lastUpdated).toBeUndefined();
      expect(stats.count).toBe(1);
    }
  });
});

describe('RuntimeStats: the original legacy runtime_* strings', () => {
  /** What the original wrote after five runs of 90, 95, 100, 105 and 110 s. */
  const item1: ItemStatus = {
    failure_count: '0',
    last_success: '2024-08-10T10:00:00Z',
    runtime_count: '5',
    runtime_total: '500.0',
    runtime_sum_squares: '50250.0',
    runtime_min: '90.0',
    runtime_max: '110.0',
    runtime_sample: '[90.0, 95.0, 100.0, 105.0, 110.0]',
    runtime_last_updated: '2024-08-10T10:00:00.123456+00:00',
  };

  it('reads the flattened strings: count 5, mean 100, min 90, max 110, prediction >= 100', () => {
    const result = RuntimeStats.fromItem(item1);
    expect(result).toMatchObject({ kind: 'read', source: 'legacy' });
    const stats = read(item1);
    expect(stats).toMatchObject({ count: 5, total: 500, sumSquares: 50_250, min: 90, max: 110, lastUpdated: Date.parse('2024-08-10T10:00:00.123Z') });
    expect(stats.mean()).toBe(100);
    expect(stats.sample).toEqual([90, 95, 100, 105, 110]);
    expect(stats.predict()).toBeGreaterThanOrEqual(100);
  });

  it('reads an item with only count, total and sample (the original test item2): count 3, mean 100', () => {
    const stats = read({ failure_count: '1', last_failure: '2024-08-10T09:00:00Z', runtime_count: '3', runtime_total: '300.0', runtime_sample: '[95, 100, 105]' });
    expect(stats).toMatchObject({ count: 3, total: 300, min: 95, max: 105 });
    expect(stats.mean()).toBe(100);
    expect(stats.standardDeviation()).toBe(0);
  });

  it('fills min and max from the mean when the sample is missing too', () => {
    expect(read({ runtime_count: '4', runtime_total: '200.0' })).toMatchObject({ count: 4, min: 50, max: 50, sumSquares: 10_000, sample: [] });
  });

  it('reads Python float text, integers given as numbers, and exponents', () => {
    const stats = read({ runtime_count: 2, runtime_total: '1e+16', runtime_sum_squares: '5e+31', runtime_min: '1e+15', runtime_max: '9E15', runtime_sample: '[1e+15, 9000000000000000.0]' });
    expect(stats).toMatchObject({ count: 2, total: 1e16, min: 1e15, max: 9e15, sample: [1e15, 9e15] });
  });

  it('reads a count of 0 as empty statistics', () => {
    expect(read({ runtime_count: '0' }).count).toBe(0);
  });

  it('thins a legacy sample of 100 values to 32, keeping its minimum and maximum', () => {
    const values = Array.from({ length: 100 }, (_, i) => 10 + i);
    const legacy: ItemStatus = { runtime_count: '250', runtime_total: '14750.0', runtime_sum_squares: '1000000.0', runtime_min: '1.0', runtime_max: '200.0', runtime_sample: JSON.stringify(values) };
    const stats = read(legacy);
    expect(stats.sample).toHaveLength(32);
    expect([stats.sample[0], stats.sample.at(-1)]).toEqual([10, 109]);
    expect(stats.percentile(0.5)).toBeCloseTo(60, -1);
  });

  it('prefers the runtime status when both forms are present', () => {
    expect(RuntimeStats.fromItem({ ...item1, runtime: statsOf([7]).toStatus() })).toMatchObject({ kind: 'read', source: 'runtime', stats: { count: 1 } });
  });

  it.each<[string, ItemStatus, RegExp]>([
    ['the original malformed test (count and sample garbage)', { runtime_count: 'invalid_number', runtime_sample: 'invalid_json' }, /runtime_count is not a number: "invalid_number"/],
    ['malformed JSON', { runtime_count: '3', runtime_total: '300.0', runtime_sample: 'invalid json string' }, /runtime_sample is not JSON/],
    ['malformed numbers', { runtime_count: 'not_a_number', runtime_total: 'also_not_a_number', runtime_sample: '[]' }, /runtime_count is not a number/],
    ['a fractional count', { runtime_count: '5.0', runtime_total: '500.0' }, /runtime_count is not a number: "5.0"/],
    ['a non-numeric total', { runtime_count: '5', runtime_total: 'abc' }, /runtime_total is not a number/],
    ['infinity', { runtime_count: '5', runtime_total: 'inf' }, /runtime_total is not a number/],
    ['a missing total', { runtime_count: '5', runtime_sample: '[1, 2]' }, /runtime_total is missing with runtime_count 5/],
    ['a sample that is not a list', { runtime_count: '1', runtime_total: '1.0', runtime_sample: '{"a": 1}' }, /runtime_sample is not a list of numbers/],
    ['a sample with a string', { runtime_count: '1', runtime_total: '1.0', runtime_sample: '["1"]' }, /runtime_sample is not a list of numbers/],
    ['a sample with a negative value', { runtime_count: '1', runtime_total: '1.0', runtime_sample: '[-1]' }, /runtime_sample\[0\] must be a positive number/],
    ['a Python NaN in the sample', { runtime_count: '1', runtime_total: '1.0', runtime_sample: '[NaN]' }, /runtime_sample is not JSON/],
  ])('drops legacy statistics with %s, with a reason and without throwing', (_, item, reason) => {
    const result = RuntimeStats.fromItem(item);
    expect(result).toMatchObject({ kind: 'malformed', source: 'legacy' });
    expect((result as Extract<RuntimeStatsRead, { kind: 'malformed' }>).reason).toMatch(reason);
  });

  it('reads an unparseable runtime_last_updated as unknown', () => {
    for (const runtime_last_updated of ['not-a-datetime', '2024-13-01T10:00:00Z', '']) {
      expect(read({ runtime_count: '1', runtime_total: '100.0', runtime_sample: '[100.0]', runtime_last_updated }).lastUpdated).toBeUndefined();
    }
  });

  it('shortens long values in reasons', () => {
    const result = RuntimeStats.fromItem({ runtime_count: 'x'.repeat(500) });
    expect((result as Extract<RuntimeStatsRead, { kind: 'malformed' }>).reason.length).toBeLessThan(120);
  });
});
