import type { OaatGroupSpec, OaatGroupStatus } from '../../../src/api/v1/types.ts';
import { forecastRuns, type ForecastInput } from '../../../src/services/forecast.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const NOW = Date.parse('2026-11-30T10:00:00Z');
const at = (iso: string): number => Date.parse(iso);

function forecast(spec: OaatGroupSpec, status: OaatGroupStatus = {}, overrides: Partial<ForecastInput> = {}) {
  return forecastRuns({ spec, status, now: NOW, horizonMs: 4 * HOUR, retryFloorMs: MINUTE, defaultRuntimeMs: 10 * MINUTE, ...overrides });
}

const summary = (runs: readonly { item: string; startAt: number }[]): string[] => runs.map((run) => `${run.item}@${new Date(run.startAt).toISOString().slice(11, 16)}`);

describe('forecastRuns', () => {
  it('runs never-run items first in list order, then by oldest success, each for the default runtime, and repeats at the frequency', () => {
    const result = forecast(
      { frequency: '1h', oaatItems: ['a', 'b', 'c'] },
      { items: { a: { last_success: '2026-11-30T08:00:00Z' }, c: { last_success: '2026-11-30T07:00:00Z' } } },
      { horizonMs: 90 * MINUTE },
    );
    // b has never run; then c (older success) before a; each takes 10 minutes; b is due again at 11:10.
    expect(summary(result.runs)).toEqual(['b@10:00', 'c@10:10', 'a@10:20', 'b@11:10', 'c@11:20']);
    expect(result.runs.every((run) => !run.predicted && !run.running)).toBe(true);
    expect(result.end).toBe('horizon');
  });

  it('uses the predicted runtime of an item with history', () => {
    const sample = [600, 600];
    const runtime = { count: 2, total: 1200, sumSquares: 720_000, min: 600, max: 600, sample };
    const result = forecast({ oaatItems: ['a', 'b'], runtimePrediction: { marginPercent: 0, minBuffer: '0s' } }, { items: { a: { runtime } } }, { horizonMs: 30 * MINUTE });
    expect(result.runs[0]).toMatchObject({ item: 'a', startAt: NOW, endAt: NOW + 10 * MINUTE, predicted: true });
    expect(result.runs[1]).toMatchObject({ item: 'b', startAt: NOW + 10 * MINUTE, predicted: false });
  });

  it('lets the run in progress finish first, from its claim', () => {
    const status: OaatGroupStatus = { currentRun: { id: 'r1', item: 'b', podName: 'p', claimedAt: '2026-11-30T09:55:00Z' } };
    const result = forecast({ oaatItems: ['a', 'b'] }, status, { horizonMs: 30 * MINUTE });
    expect(result.runs[0]).toMatchObject({ item: 'b', startAt: at('2026-11-30T09:55:00Z'), endAt: at('2026-11-30T10:05:00Z'), running: true });
    expect(summary(result.runs.slice(1))).toEqual(['a@10:05']);
  });

  it('forecasts nothing new for a paused group', () => {
    expect(forecast({ oaatItems: ['a'], paused: true })).toEqual({ runs: [], end: 'paused' });
  });

  it('runs each item of an EachOnce group until it has succeeded once', () => {
    const result = forecast({ mode: 'EachOnce', oaatItems: ['a', 'b', 'c'] }, { items: { b: { last_success: '2026-11-29T00:00:00Z' } } });
    expect(summary(result.runs)).toEqual(['a@10:00', 'c@10:10']);
    expect(result.end).toBe('complete');
  });

  it('retries failed items first, by oldest failure, once their failure wait has passed', () => {
    const result = forecast(
      { oaatItems: ['a', 'b', 'c'], failureCoolOff: '30m' },
      {
        items: {
          a: { last_success: '2026-11-30T08:00:00Z' },
          b: { last_failure: '2026-11-30T09:50:00Z', failure_count: 1 },
          c: { last_failure: '2026-11-30T09:40:00Z', failure_count: 2 },
        },
      },
      { horizonMs: 40 * MINUTE },
    );
    // Until 10:10 only a is eligible; then c (failed 09:40) is; b from 10:20.
    expect(summary(result.runs)).toEqual(['a@10:00', 'c@10:10', 'b@10:20']);
  });

  it('waits for a noStartItem window to close, and for a noRunItem window the predicted runtime would reach', () => {
    const noStart = forecast({ oaatItems: ['a'], windows: [{ noStartItem: { start: { time: '09:00' }, end: { time: '10:59' } } }] }, {}, { horizonMs: 90 * MINUTE });
    expect(summary(noStart.runs)).toEqual(['a@11:00']);

    const noRun = forecast(
      { oaatItems: ['a'], runtimePrediction: { defaultRuntime: '20m', marginPercent: 0, minBuffer: '0s' }, windows: [{ noRunItem: { start: { time: '10:15' }, end: { time: '10:29' } } }] },
      {},
      { horizonMs: HOUR },
    );
    expect(summary(noRun.runs)).toEqual(['a@10:30']);
  });

  it('stops at maxRuns', () => {
    const result = forecast({ frequency: '1m', oaatItems: ['a'] }, {}, { maxRuns: 3, defaultRuntimeMs: MINUTE });
    expect(result.runs).toHaveLength(3);
    expect(result.end).toBe('max-runs');
  });
});
