/**
 * How long an item's next run is expected to take (`spec.runtimePrediction`), so that an item
 * starts only if it should end before a `noRunItem` window opens.
 *
 * The prediction: the `percentile` of the item's past successful runtimes (its reservoir sample,
 * runtime-stats.ts), else `defaultRuntime` for an item without history, plus a margin of
 * `marginPercent` of it but at least `minBuffer`; never more than the group's `runTimeout`, past
 * which the operator stops the run anyway. No history and no default, and no run timeout: no
 * prediction (the caller lets such an item start, and says so).
 */
import type { ItemStatus } from '../api/v1/types.ts';
import { RuntimeStats } from './runtime-stats.ts';

/** The rules of a valid spec, in milliseconds and percent. */
export interface PredictionRules {
  /** 1..100. */
  readonly percentile: number;
  readonly marginPercent: number;
  readonly minBufferMs: number;
  readonly defaultRuntimeMs?: number | undefined;
  readonly runTimeoutMs?: number | undefined;
}

/** The predicted runtime of the item's next run in milliseconds, or undefined when nothing is known. */
export function predictedRuntimeMs(item: ItemStatus | null | undefined, rules: PredictionRules): number | undefined {
  const read = item === undefined || item === null ? undefined : RuntimeStats.fromItem(item);
  const seconds = read?.kind === 'read' ? read.stats.percentile(rules.percentile / 100) : undefined;
  const base = seconds !== undefined ? seconds * 1000 : rules.defaultRuntimeMs;
  if (base === undefined) return rules.runTimeoutMs;
  const predicted = base + Math.max((base * rules.marginPercent) / 100, rules.minBufferMs);
  return rules.runTimeoutMs === undefined ? predicted : Math.min(predicted, rules.runTimeoutMs);
}
