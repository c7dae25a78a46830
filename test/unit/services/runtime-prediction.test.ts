import type { ItemStatus } from '../../../src/api/v1/types.ts';
import { predictedRuntimeMs, type PredictionRules } from '../../../src/services/runtime-prediction.ts';

const MINUTE = 60_000;
const RULES: PredictionRules = { percentile: 90, marginPercent: 50, minBufferMs: 5 * MINUTE };

/** An item whose successful runs took these seconds. */
function ran(...seconds: number[]): ItemStatus {
  const sorted = [...seconds].sort((a, b) => a - b);
  const total = seconds.reduce((sum, s) => sum + s, 0);
  return {
    runtime: { count: seconds.length, total, sumSquares: seconds.reduce((sum, s) => sum + s * s, 0), min: sorted[0] ?? 0, max: sorted.at(-1) ?? 0, sample: sorted },
  };
}

describe('predictedRuntimeMs', () => {
  it('is the percentile of past runtimes plus a margin of marginPercent, at least minBuffer', () => {
    // Ten runs of 1..10 minutes: the 90th percentile is 10 minutes, the margin 5 (50%).
    const history = ran(...Array.from({ length: 10 }, (_, i) => (i + 1) * 60));
    expect(predictedRuntimeMs(history, RULES)).toBe(15 * MINUTE);
    expect(predictedRuntimeMs(history, { ...RULES, percentile: 50 })).toBe(6 * MINUTE + 5 * MINUTE); // margin 3m < minBuffer 5m
    expect(predictedRuntimeMs(history, { ...RULES, marginPercent: 200 })).toBe(30 * MINUTE);
    expect(predictedRuntimeMs(history, { ...RULES, minBufferMs: 0, marginPercent: 0 })).toBe(10 * MINUTE);
  });

  it('assumes defaultRuntime for an item without history, and predicts nothing without one', () => {
    expect(predictedRuntimeMs(undefined, { ...RULES, defaultRuntimeMs: 30 * MINUTE })).toBe(45 * MINUTE);
    expect(predictedRuntimeMs({ last_failure: '2026-11-30T10:00:00Z', failure_count: 2 }, RULES)).toBeUndefined();
    expect(predictedRuntimeMs(null, RULES)).toBeUndefined();
  });

  it('never predicts more than the run timeout, which also bounds an item without history', () => {
    expect(predictedRuntimeMs(ran(3_600), { ...RULES, runTimeoutMs: 20 * MINUTE })).toBe(20 * MINUTE);
    expect(predictedRuntimeMs(undefined, { ...RULES, runTimeoutMs: 20 * MINUTE })).toBe(20 * MINUTE);
    expect(predictedRuntimeMs(ran(60), { ...RULES, runTimeoutMs: 20 * MINUTE })).toBe(6 * MINUTE);
  });
});
