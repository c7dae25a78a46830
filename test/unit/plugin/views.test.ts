import type { OaatGroup } from '../../../src/api/v1/types.ts';
import { groupStatusView, historyTable, historyView, humanDuration, overdueGraceMs, planTable, relative, statusTable, table } from '../../../src/plugin/views.ts';

const NOW = Date.parse('2026-11-30T12:00:00Z');
const MINUTE = 60_000;
const ago = (minutes: number): string => new Date(NOW - minutes * MINUTE).toISOString();

const group: OaatGroup = {
  metadata: { name: 'nightly', namespace: 'jobs', creationTimestamp: new Date(NOW - 3 * 24 * 60 * MINUTE) },
  spec: { frequency: '1h', oaatItems: ['a', 'b', 'c', 'a'] },
  status: {
    currentRun: { id: 'r1', item: 'c', podName: 'p', claimedAt: ago(4.5) },
    next: { reason: 'Window', item: 'b', at: new Date(NOW + 90 * MINUTE).toISOString(), window: '"nightly"' },
    items: {
      a: { last_success: ago(67), runtime: { count: 2, total: 90, sumSquares: 4500, min: 30, max: 60, sample: [30, 60] }, last_run: { id: 'r0', outcome: 'Succeeded', finishedAt: ago(67) } },
      b: { last_success: ago(65), last_failure: ago(5), failure_count: '3' },
    },
  },
};

describe('humanDuration and relative', () => {
  it('shows the two largest units', () => {
    expect([0, 40_000, 125_000, 3 * 3600_000 + 61_000, 2 * 86_400_000 + 3600_000 + 5000, 3600_000 + 59_000].map(humanDuration)).toEqual(['0s', '40s', '2m5s', '3h1m', '2d1h', '1h']);
    expect([relative(ago(5), NOW), relative(new Date(NOW + 3 * MINUTE).toISOString(), NOW), relative(undefined, NOW)]).toEqual(['5m ago', 'in 3m', '-']);
  });
});

describe('groupStatusView', () => {
  it('reports the running item and for how long, the next run, failing items, and items late by more than the frequency plus the grace', () => {
    expect(overdueGraceMs(60 * MINUTE)).toBe(6 * MINUTE);
    expect(overdueGraceMs(MINUTE)).toBe(MINUTE);
    // a: 67 minutes since its success (> 66), b: 65 (not yet), c: never, in a group 3 days old.
    expect(groupStatusView(group, NOW)).toEqual({
      namespace: 'jobs',
      group: 'nightly',
      paused: false,
      running: { item: 'c', since: ago(4.5), seconds: 270 },
      next: { reason: 'Window', item: 'b', at: new Date(NOW + 90 * MINUTE).toISOString(), window: '"nightly"' },
      failing: [{ item: 'b', failures: 3 }],
      overdue: [{ item: 'a', lastSuccess: ago(67) }, { item: 'c' }],
    });
  });

  it('reports no overdue items for EachOnce groups, nor never-run items of a young group', () => {
    expect(groupStatusView({ ...group, spec: { ...group.spec, mode: 'EachOnce' } }, NOW).overdue).toEqual([]);
    const young = { ...group, metadata: { name: 'nightly', namespace: 'jobs', creationTimestamp: new Date(NOW - 10 * MINUTE) } };
    expect(groupStatusView(young, NOW).overdue.map((entry) => entry.item)).toEqual(['a']);
  });
});

describe('tables', () => {
  it('pads columns as kubectl does', () => {
    expect(table(['A', 'LONGER'], [['xyz', '1'], ['', '22']])).toBe('A     LONGER\nxyz   1\n      22\n');
  });

  it('status: one row per group, the namespace first for --all-namespaces', () => {
    const view = groupStatusView({ ...group, spec: { ...group.spec, paused: true } }, NOW);
    expect(statusTable([view], NOW, false)).toBe(
      'GROUP              RUNNING   FOR     NEXT   WHEN       WHY                  FAILING   OVERDUE\n' +
        'nightly (paused)   c         4m30s   b      in 1h30m   Window ("nightly")   b(3)      a,c\n',
    );
    expect(statusTable([view], NOW, true).split('\n')[1]).toMatch(/^jobs {8}nightly \(paused\)/);
  });

  it('history: each item once, with its runtime percentiles', () => {
    const items = historyView(group);
    expect(items.map((item) => item.item)).toEqual(['a', 'b', 'c']);
    expect(items[0]).toEqual({ item: 'a', lastSuccess: ago(67), failures: 0, lastOutcome: 'Succeeded', runs: 2, p50Seconds: 60, p90Seconds: 60 });
    expect(historyTable(items, NOW).split('\n')[3]).toBe('c      -              -              0          -              0      -     -');
  });

  it('plan: the runs, how the forecast ends and what it assumes', () => {
    const text = planTable(
      {
        runs: [
          { item: 'c', startAt: NOW - 4 * MINUTE, endAt: NOW + MINUTE, predicted: true, running: true },
          { item: 'a', startAt: NOW + MINUTE, endAt: NOW + 6 * MINUTE, predicted: false, running: false },
        ],
        end: 'horizon',
      },
      NOW,
      5 * MINUTE,
    );
    expect(text.split('\n').slice(0, 4)).toEqual([
      '#   ITEM   START               WHEN      RUNTIME',
      '1   c      2026-11-30T11:56Z   running   5m',
      '2   a      2026-11-30T12:01Z   in 1m     5m*',
      'Ends: end of the forecast period.',
    ]);
    expect(text).toContain('(* no prediction: 5m assumed)');
  });
});
