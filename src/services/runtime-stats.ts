/**
 * Runtime statistics of an item's successful runs (seconds from the container's start to its
 * end), kept in the item's status: exact aggregates (count, total, sum of squares, min, max)
 * and a bounded uniform reservoir sample from which percentiles and a runtime prediction are
 * computed. The Python original's `JobRuntimeStats`, with a sample of 32 values instead of
 * 100 (status size: a 1,000-item group stays well under 1 MB) and typed storage.
 *
 * Reading never throws: stored statistics that do not make sense are dropped with a reason,
 * and the next success starts them again at count 1 (as the original did).
 *
 * **Sample size and oversize samples.** A stored sample longer than the sample size (the
 * original's legacy samples hold up to 100 values) is thinned to evenly spaced order
 * statistics: the values at ranks `round(i * (n - 1) / (size - 1))`, i = 0 .. size - 1, of the
 * sorted sample. That keeps its minimum, maximum and percentiles (the original kept the
 * largest values, which would turn 100 values into their top third and skew every percentile
 * and the prediction upwards).
 */
import type { ItemStatus, RuntimeStatus } from '../api/v1/types.ts';
import type { Clock } from './clock.ts';
import { randomIndex, type Rng } from './rng.ts';

/** The number of runtimes kept in an item's sample (architecture.md §5). */
export const RUNTIME_SAMPLE_SIZE = 32;

/** How many standard deviations above the mean {@link RuntimeStats.predict} allows by default. */
export const DEFAULT_CONFIDENCE_FACTOR = 1.5;

/** Which stored form statistics were read from: `runtime`, or the original's `runtime_*` strings. */
export type RuntimeStatsSource = 'runtime' | 'legacy';

/** The result of reading an item's stored statistics. */
export type RuntimeStatsRead =
  | { readonly kind: 'absent' }
  | { readonly kind: 'read'; readonly source: RuntimeStatsSource; readonly stats: RuntimeStats }
  | { readonly kind: 'malformed'; readonly source: RuntimeStatsSource; readonly reason: string };

/** Stored statistics in numbers, before their consistency is checked. */
interface StoredStats {
  readonly count: number;
  readonly total: number;
  readonly sumSquares: number;
  readonly min: number;
  readonly max: number;
  readonly sample: readonly number[];
  readonly lastUpdated: unknown;
}

/** The name of each stored field in messages. */
type FieldNames = Readonly<Record<Exclude<keyof StoredStats, 'lastUpdated'>, string>>;

/** Thrown inside this module only, turned into a `malformed` read. */
class MalformedStats extends Error {}

/**
 * Runtime statistics of one item. Mutable: {@link add} updates it in place. Instances made by
 * {@link RuntimeStats.fromItem} own copies of the stored data; mutating one never touches its
 * source. Unlike the original, `min` and `max` are undefined (not +inf and 0) while there is
 * no runtime.
 */
export class RuntimeStats {
  readonly sampleSize: number;
  #count = 0;
  #total = 0;
  #sumSquares = 0;
  #min = Number.POSITIVE_INFINITY;
  #max = 0;
  #sample: number[] = [];
  #lastUpdated: number | undefined;

  /** Empty statistics keeping at most `sampleSize` (a positive integer) values in the sample. */
  constructor(sampleSize = RUNTIME_SAMPLE_SIZE) {
    if (!Number.isInteger(sampleSize) || sampleSize < 1) throw new RangeError(`sample size must be a positive integer, got ${sampleSize}`);
    this.sampleSize = sampleSize;
  }

  get count(): number {
    return this.#count;
  }

  /** Sum of all runtimes. */
  get total(): number {
    return this.#total;
  }

  /** Sum of the squares of all runtimes. */
  get sumSquares(): number {
    return this.#sumSquares;
  }

  /** The shortest runtime; undefined when there is none. */
  get min(): number | undefined {
    return this.#count === 0 ? undefined : this.#min;
  }

  /** The longest runtime; undefined when there is none. */
  get max(): number | undefined {
    return this.#count === 0 ? undefined : this.#max;
  }

  /** The reservoir sample, sorted ascending, at most {@link sampleSize} values. */
  get sample(): readonly number[] {
    return this.#sample;
  }

  /** Epoch ms of the last {@link add}, or as read from status; undefined when unknown. */
  get lastUpdated(): number | undefined {
    return this.#lastUpdated;
  }

  /**
   * Records one runtime: the aggregates always, the sample by reservoir sampling (while the
   * sample is not full the value is added; after that it replaces a uniformly chosen sample
   * value with probability sampleSize/count, so the sample stays a uniform sample of all
   * runtimes). Throws RangeError unless `runtimeSeconds` is a finite number > 0.
   */
  add(runtimeSeconds: number, rng: Rng, clock: Clock): void {
    if (!(Number.isFinite(runtimeSeconds) && runtimeSeconds > 0)) throw new RangeError(`runtime must be a positive number of seconds, got ${runtimeSeconds}`);
    this.#count += 1;
    this.#total += runtimeSeconds;
    this.#sumSquares += runtimeSeconds * runtimeSeconds;
    this.#min = Math.min(this.#min, runtimeSeconds);
    this.#max = Math.max(this.#max, runtimeSeconds);
    this.#lastUpdated = clock.now();
    if (this.#sample.length < this.sampleSize) {
      insertSorted(this.#sample, runtimeSeconds);
    } else if (rng.next() < this.sampleSize / this.#count) {
      this.#sample.splice(randomIndex(rng, this.#sample.length), 1);
      insertSorted(this.#sample, runtimeSeconds);
    }
  }

  /**
   * The sample value at quantile `p` (0..1) by the original's rule: index `floor(p * n)`,
   * capped at `n - 1`. Undefined when the sample is empty or `p` is outside [0, 1].
   */
  percentile(p: number): number | undefined {
    const n = this.#sample.length;
    if (n === 0 || !(p >= 0 && p <= 1)) return undefined;
    return this.#sample[Math.min(Math.floor(p * n), n - 1)];
  }

  /** total / count; undefined when there is no runtime. */
  mean(): number | undefined {
    return this.#count === 0 ? undefined : this.#total / this.#count;
  }

  /** Population standard deviation from the aggregates; undefined for fewer than 2 runtimes. */
  standardDeviation(): number | undefined {
    if (this.#count < 2) return undefined;
    const mean = this.#total / this.#count;
    return Math.sqrt(Math.max(0, this.#sumSquares / this.#count - mean * mean));
  }

  /**
   * A conservative runtime estimate: the larger of the sample's 90th percentile and
   * `mean + confidenceFactor * standardDeviation` (just the mean while there is no standard
   * deviation). Undefined when there is no runtime.
   */
  predict(confidenceFactor = DEFAULT_CONFIDENCE_FACTOR): number | undefined {
    const mean = this.mean();
    if (mean === undefined) return undefined;
    const sd = this.standardDeviation();
    const estimate = sd === undefined ? mean : mean + confidenceFactor * sd;
    const p90 = this.percentile(0.9);
    return p90 === undefined ? estimate : Math.max(p90, estimate);
  }

  /** The status form (a copy): min and max are 0 while there is no runtime. */
  toStatus(): RuntimeStatus {
    return {
      count: this.#count,
      total: this.#total,
      sumSquares: this.#sumSquares,
      min: this.min ?? 0,
      max: this.max ?? 0,
      sample: [...this.#sample],
      ...(this.#lastUpdated !== undefined && { lastUpdated: new Date(this.#lastUpdated).toISOString() }),
    };
  }

  /** For logs: `no data`, or `count=3, mean=150.0s, p50=150.0s, p90=200.0s, predicted=190.8s`. */
  toString(): string {
    const seconds = (value: number | undefined): string => (value === undefined ? '-' : `${value.toFixed(1)}s`);
    if (this.#count === 0) return 'no data';
    return (
      `count=${this.#count}, mean=${seconds(this.mean())}, p50=${seconds(this.percentile(0.5))}, ` +
      `p90=${seconds(this.percentile(0.9))}, predicted=${seconds(this.predict())}`
    );
  }

  /**
   * An item's stored statistics: `runtime` when present, else the original's legacy
   * `runtime_*` strings when `runtime_count` is present, else `absent`. Never throws. Samples
   * longer than `sampleSize` are thinned (see the file comment).
   *
   * Legacy strings: `runtime_count` a whole number (`'5'`), the other numbers Python float
   * text (`'120.0'`, `'1e+16'`), `runtime_sample` JSON (`'[90.0, 95.5]'`),
   * `runtime_last_updated` an ISO time (unparseable: unknown, not an error). As in the
   * original, only `runtime_count` is required, and `runtime_total` besides when the count is
   * positive; a missing sample is empty, a missing sum of squares means no spread
   * (total² / count), and a missing min or max comes from the sample (or the mean when the
   * sample is empty).
   */
  static fromItem(item: ItemStatus, sampleSize = RUNTIME_SAMPLE_SIZE): RuntimeStatsRead {
    const runtime: unknown = item.runtime;
    if (runtime !== undefined && runtime !== null) return RuntimeStats.#attempt('runtime', sampleSize, () => storedFromRuntimeStatus(runtime));
    const legacy = item as Readonly<Record<string, unknown>>;
    if (legacy.runtime_count !== undefined && legacy.runtime_count !== null) return RuntimeStats.#attempt('legacy', sampleSize, () => storedFromLegacy(legacy));
    return { kind: 'absent' };
  }

  static #attempt(source: RuntimeStatsSource, sampleSize: number, read: () => StoredStats): RuntimeStatsRead {
    try {
      return { kind: 'read', source, stats: RuntimeStats.#restore(read(), source === 'runtime' ? STATUS_NAMES : LEGACY_NAMES, sampleSize) };
    } catch (error) {
      if (error instanceof MalformedStats) return { kind: 'malformed', source, reason: error.message };
      throw error;
    }
  }

  /** Statistics holding `stored`, after checking that it is consistent (throws MalformedStats). */
  static #restore(stored: StoredStats, names: FieldNames, sampleSize: number): RuntimeStats {
    const stats = new RuntimeStats(sampleSize);
    const { count } = stored;
    if (!Number.isSafeInteger(count) || count < 0) throw new MalformedStats(`${names.count} must be a whole number >= 0, got ${count}`);
    stored.sample.forEach((value, index) => {
      if (!(Number.isFinite(value) && value > 0)) throw new MalformedStats(`${names.sample}[${index}] must be a positive number, got ${value}`);
    });
    for (const field of ['total', 'sumSquares', 'min', 'max'] as const) {
      const value = stored[field];
      if (!(Number.isFinite(value) && value >= 0)) throw new MalformedStats(`${names[field]} must be a finite number >= 0, got ${value}`);
    }
    if (count === 0) return stats;
    if (stored.total === 0) throw new MalformedStats(`${names.total} is 0 with ${names.count} ${count}`);
    if (stored.min === 0 || stored.min > stored.max) throw new MalformedStats(`${names.min} ${stored.min} and ${names.max} ${stored.max} are inconsistent`);
    stats.#count = count;
    stats.#total = stored.total;
    stats.#sumSquares = stored.sumSquares;
    stats.#min = stored.min;
    stats.#max = stored.max;
    stats.#sample = thin([...stored.sample].sort((a, b) => a - b), sampleSize);
    stats.#lastUpdated = typeof stored.lastUpdated === 'string' ? finiteOrUndefined(Date.parse(stored.lastUpdated)) : undefined;
    return stats;
  }
}

const STATUS_NAMES: FieldNames = {
  count: 'runtime.count',
  total: 'runtime.total',
  sumSquares: 'runtime.sumSquares',
  min: 'runtime.min',
  max: 'runtime.max',
  sample: 'runtime.sample',
};

/** The numbers of a `runtime` status object, type-checked only (throws MalformedStats). */
function storedFromRuntimeStatus(runtime: unknown): StoredStats {
  if (typeof runtime !== 'object' || runtime === null || Array.isArray(runtime)) throw new MalformedStats('runtime must be an object');
  const status = runtime as Readonly<Record<string, unknown>>;
  const number = (field: 'count' | 'total' | 'sumSquares' | 'min' | 'max'): number => {
    const value = status[field];
    if (typeof value !== 'number') throw new MalformedStats(`${STATUS_NAMES[field]} must be a number, got ${describe(value)}`);
    return value;
  };
  const sample = status.sample;
  if (!Array.isArray(sample) || !sample.every((value) => typeof value === 'number')) throw new MalformedStats(`${STATUS_NAMES.sample} must be a list of numbers`);
  return {
    count: number('count'),
    total: number('total'),
    sumSquares: number('sumSquares'),
    min: number('min'),
    max: number('max'),
    sample,
    lastUpdated: status.lastUpdated,
  };
}

const LEGACY_NAMES = {
  count: 'runtime_count',
  total: 'runtime_total',
  sumSquares: 'runtime_sum_squares',
  min: 'runtime_min',
  max: 'runtime_max',
  sample: 'runtime_sample',
} as const satisfies FieldNames;

/** What Python's `str(int)` and `str(float)` write (finite values only). */
const PYTHON_INT = /^\s*[+-]?\d+\s*$/;
const PYTHON_FLOAT = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/** The numbers of the legacy `runtime_*` keys, parsed and completed (throws MalformedStats). */
function storedFromLegacy(legacy: Readonly<Record<string, unknown>>): StoredStats {
  const number = (field: 'count' | 'total' | 'sumSquares' | 'min' | 'max', syntax: RegExp): number | undefined => {
    const value = legacy[LEGACY_NAMES[field]];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'number') return value;
    if (typeof value === 'string' && syntax.test(value)) return Number(value);
    throw new MalformedStats(`${LEGACY_NAMES[field]} is not a number: ${describe(value)}`);
  };
  const count = number('count', PYTHON_INT) ?? 0;
  const sample = legacySample(legacy.runtime_sample);
  const total = number('total', PYTHON_FLOAT) ?? (count === 0 ? 0 : undefined);
  if (total === undefined) throw new MalformedStats(`${LEGACY_NAMES.total} is missing with ${LEGACY_NAMES.count} ${count}`);
  const mean = count === 0 ? 0 : total / count;
  return {
    count,
    total,
    sumSquares: number('sumSquares', PYTHON_FLOAT) ?? total * mean,
    min: number('min', PYTHON_FLOAT) ?? sample.reduce((a, b) => Math.min(a, b), sample[0] ?? mean),
    max: number('max', PYTHON_FLOAT) ?? sample.reduce((a, b) => Math.max(a, b), sample[0] ?? mean),
    sample,
    lastUpdated: legacy.runtime_last_updated,
  };
}

/** `runtime_sample`: JSON text of a number list (a list itself is accepted too); missing: empty. */
function legacySample(value: unknown): number[] {
  if (value === undefined || value === null) return [];
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new MalformedStats(`${LEGACY_NAMES.sample} is not JSON: ${describe(value)}`);
    }
  }
  if (!Array.isArray(parsed) || !parsed.every((entry) => typeof entry === 'number')) throw new MalformedStats(`${LEGACY_NAMES.sample} is not a list of numbers: ${describe(value)}`);
  return parsed;
}

/** `sorted` itself when it fits, else `size` evenly spaced order statistics of it (see the file comment). */
function thin(sorted: number[], size: number): number[] {
  const n = sorted.length;
  if (n <= size) return sorted;
  const ranks = new Set(size === 1 ? [Math.floor((n - 1) / 2)] : Array.from({ length: size }, (_, i) => Math.round((i * (n - 1)) / (size - 1))));
  return sorted.filter((_, rank) => ranks.has(rank));
}

/** Inserts `value` into the ascending array `sorted`, after any equal values (linear: samples are small). */
function insertSorted(sorted: number[], value: number): void {
  const at = sorted.findIndex((existing) => existing > value);
  sorted.splice(at === -1 ? sorted.length : at, 0, value);
}

function finiteOrUndefined(value: number): number | undefined {
  return Number.isFinite(value) ? value : undefined;
}

/** A stored value, quoted and shortened for a message. */
function describe(value: unknown): string {
  const text = (JSON.stringify(value) as string | undefined) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
