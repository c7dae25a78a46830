import type { OaatGroup, OaatGroupSpec, OaatGroupStatus } from '../../../src/api/v1/types.ts';
import { groupMetrics, ITEM_METRICS_AUTO_LIMIT, overdueGraceMs, type GroupMetricsSettings } from '../../../src/services/group-metrics.ts';

const HOUR = 3_600_000;
const NOW = Date.parse('2026-06-01T12:00:00Z');
const ago = (ms: number): string => new Date(NOW - ms).toISOString();
const SETTINGS: GroupMetricsSettings = { retryFloorMs: 60_000, itemMetrics: 'on' };

function group(name: string, spec: Partial<OaatGroupSpec>, status: OaatGroupStatus = {}, extra: { annotations?: Record<string, string>; created?: string } = {}): OaatGroup {
  return {
    apiVersion: 'kawaja.net/v1',
    kind: 'OaatGroup',
    metadata: { namespace: 'ns', name, creationTimestamp: new Date(extra.created ?? ago(100 * HOUR)), ...(extra.annotations && { annotations: extra.annotations }) },
    spec: { oaatType: 't', frequency: '1h', ...spec },
    status,
  };
}

const overdueOf = (groups: OaatGroup[], now = NOW): Record<string, boolean> =>
  Object.fromEntries((groupMetrics(groups, now, SETTINGS).items ?? []).map((sample) => [sample.item, sample.overdue]));

describe('groupMetrics', () => {
  it('counts a group\'s items by state: running, eligible, waiting for the frequency, cooling off after a failure', () => {
    const snapshot = groupMetrics(
      [
        group('g', { oaatItems: ['run', 'fresh', 'never', 'failed', 'dup', 'dup'] }, {
          currentRun: { id: 'r1', item: 'run', podName: 'p', claimedAt: ago(60_000) },
          items: {
            fresh: { last_success: ago(10 * 60_000), failure_count: 0 },
            failed: { last_success: ago(5 * HOUR), last_failure: ago(30_000), failure_count: 1 },
            dup: { last_success: ago(2 * HOUR), failure_count: 0 },
          },
        }),
      ],
      NOW,
      SETTINGS,
    );
    expect(snapshot.groups).toEqual([
      {
        namespace: 'ns',
        group: 'g',
        running: true,
        paused: false,
        items: { running: 1, eligible: 2, waiting: 1, coolingOff: 1 },
        frequencySeconds: 3_600,
        // The newest success of a listed item.
        lastSuccessSeconds: (NOW - 10 * 60_000) / 1000,
      },
    ]);
  });

  it('exports each item\'s last success in seconds, and none for an item that never succeeded', () => {
    const items = groupMetrics([group('g', { oaatItems: ['a', 'b'] }, { items: { a: { last_success: ago(HOUR) } } })], NOW, SETTINGS).items;
    expect(items).toEqual([
      { namespace: 'ns', group: 'g', item: 'a', lastSuccessSeconds: (NOW - HOUR) / 1000, overdue: false },
      { namespace: 'ns', group: 'g', item: 'b', lastSuccessSeconds: undefined, overdue: true },
    ]);
  });

  it('counts an item overdue once its last success is older than the frequency plus the grace', () => {
    const grace = overdueGraceMs(HOUR);
    expect(grace).toBe(6 * 60_000);
    expect(overdueGraceMs(60_000)).toBe(5 * 60_000);
    const spec = { oaatItems: ['late', 'onTime'] };
    const status = { items: { late: { last_success: ago(HOUR + grace + 1) }, onTime: { last_success: ago(HOUR + grace) } } };
    expect(overdueOf([group('g', spec, status)])).toEqual({ late: true, onTime: false });
  });

  it('measures an item that never succeeded from the group\'s creation', () => {
    expect(overdueOf([group('young', { oaatItems: ['a'] }, {}, { created: ago(HOUR) })])).toEqual({ a: false });
    expect(overdueOf([group('old', { oaatItems: ['a'] }, {}, { created: ago(2 * HOUR) })])).toEqual({ a: true });
  });

  it('never counts overdue the items of a paused group, of a group inside a window, or done EachOnce items', () => {
    const old = { items: { a: { last_success: ago(10 * HOUR) } } };
    expect(overdueOf([group('paused', { oaatItems: ['a'], paused: true }, old)])).toEqual({ a: false });
    expect(groupMetrics([group('paused', { oaatItems: ['a'], paused: true }, old)], NOW, SETTINGS).groups[0]?.paused).toBe(true);
    expect(overdueOf([group('annotated', { oaatItems: ['a'] }, old, { annotations: { pause_new_jobs: 'yes' } })])).toEqual({ a: false });
    const window = { noStartItem: { start: { time: '11:00' }, end: { time: '13:00' } } };
    expect(overdueOf([group('windowed', { oaatItems: ['a'], windows: [window] }, old)])).toEqual({ a: false });
    expect(overdueOf([group('windowed', { oaatItems: ['a'], windows: [window] }, old)], NOW + 2 * HOUR)).toEqual({ a: true });
    const once = groupMetrics([group('once', { oaatItems: ['a', 'b'], mode: 'EachOnce' }, old, { created: ago(10 * HOUR) })], NOW, SETTINGS);
    expect(once.items?.map((sample) => [sample.item, sample.overdue])).toEqual([['a', false], ['b', true]]);
    // A done item is in no state.
    expect(once.groups[0]?.items).toEqual({ running: 0, eligible: 1, waiting: 0, coolingOff: 0 });
  });

  it('gives a group whose spec has errors no item counts and no item series', () => {
    const snapshot = groupMetrics([group('bad', { oaatItems: ['a'], frequency: 'often' })], NOW, SETTINGS);
    expect(snapshot.groups).toEqual([
      { namespace: 'ns', group: 'bad', running: false, paused: false, items: undefined, frequencySeconds: undefined, lastSuccessSeconds: undefined },
    ]);
    expect(snapshot.items).toEqual([]);
  });

  it('counts the items of ConfigMap sources with the listed ones; a source that cannot be read leaves the group unjudged', () => {
    const sourced = groupMetrics([group('g', { oaatItems: ['a'] })], NOW, SETTINGS, (_group, listed) => {
      expect(listed).toEqual(['a']);
      return { items: ['b', 'c'], problems: [] };
    });
    expect(sourced.groups[0]?.items).toEqual({ running: 0, eligible: 3, waiting: 0, coolingOff: 0 });
    expect(sourced.items?.map((sample) => sample.item)).toEqual(['a', 'b', 'c']);
    const unread = groupMetrics([group('g', { oaatItems: ['a'] })], NOW, SETTINGS, () => ({ items: [], problems: [{ path: 'spec.oaatItemsFrom[0]', message: 'missing' }] }));
    expect(unread.groups[0]?.items).toBeUndefined();
    expect(unread.items).toEqual([]);
  });

  it('exports per-item series with auto only up to the limit of items in all; on and off force them', () => {
    const items = (count: number, prefix: string): string[] => Array.from({ length: count }, (_, i) => `${prefix}${String(i)}`);
    // A group lists at most 1,000 items.
    const atLimit = [group('a', { oaatItems: items(ITEM_METRICS_AUTO_LIMIT / 2, 'a') }), group('b', { oaatItems: items(ITEM_METRICS_AUTO_LIMIT / 2, 'b') })];
    const overLimit = [...atLimit, group('c', { oaatItems: ['c'] })];
    const auto = { ...SETTINGS, itemMetrics: 'auto' } as const;
    expect(groupMetrics(atLimit, NOW, auto).items).toHaveLength(ITEM_METRICS_AUTO_LIMIT);
    expect(groupMetrics(overLimit, NOW, auto).items).toBeUndefined();
    expect(groupMetrics(overLimit, NOW, { ...SETTINGS, itemMetrics: 'on' }).items).toHaveLength(ITEM_METRICS_AUTO_LIMIT + 1);
    expect(groupMetrics(atLimit, NOW, { ...SETTINGS, itemMetrics: 'off' }).items).toBeUndefined();
    // The group gauges do not depend on the switch.
    expect(groupMetrics(overLimit, NOW, auto).groups).toHaveLength(3);
  });
});
