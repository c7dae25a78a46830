/**
 * What `kubectl oaat` shows: views of OaatGroups built from their spec and status (plain data,
 * printed as JSON or YAML by `--output`), and their tables. Pure: the time is given.
 */
import { frequencyMs } from '../api/v1/defaults.ts';
import type { OaatGroup } from '../api/v1/types.ts';
import type { Forecast } from '../services/forecast.ts';
import { failureCount } from '../services/group-status.ts';
import { RuntimeStats } from '../services/runtime-stats.ts';

/** One group in `status`. */
export interface GroupStatusView {
  namespace: string;
  group: string;
  paused: boolean;
  /** The run in progress, if any. */
  running?: { item: string; since: string; seconds: number };
  /** status.next as the operator wrote it. */
  next?: { reason: string; item?: string; at?: string; window?: string };
  /** Items whose last run failed, with their consecutive failures. */
  failing: { item: string; failures: number }[];
  /** Items whose last success is older than the frequency plus {@link overdueGraceMs}. */
  overdue: { item: string; lastSuccess?: string }[];
}

/** One item in `history`. */
export interface ItemHistoryView {
  item: string;
  lastSuccess?: string;
  lastFailure?: string;
  failures: number;
  lastOutcome?: string;
  runs: number;
  /** Runtime percentiles of the successful runs, in seconds. */
  p50Seconds?: number;
  p90Seconds?: number;
}

/** How late an item may be before `status` calls it overdue: a tenth of the frequency, at least a minute. */
export function overdueGraceMs(frequency: number): number {
  return Math.max(60_000, frequency / 10);
}

const isoOrUndefined = (text: string | undefined): string | undefined => (Number.isFinite(Date.parse(text ?? '')) ? text : undefined);

/** The `status` view of a group at `now` (epoch ms). A group whose frequency is invalid reports no overdue items. */
export function groupStatusView(group: OaatGroup, now: number): GroupStatusView {
  const spec = group.spec ?? {};
  const status = group.status ?? {};
  const items = [...new Set(spec.oaatItems ?? [])];
  const view: GroupStatusView = {
    namespace: group.metadata?.namespace ?? '',
    group: group.metadata?.name ?? '',
    paused: spec.paused === true,
    failing: items.map((item) => ({ item, failures: failureCount(status.items?.[item]) })).filter((entry) => entry.failures > 0),
    overdue: [],
  };
  const run = status.currentRun;
  if (run !== undefined && run !== null) {
    const since = Date.parse(run.claimedAt);
    view.running = { item: run.item, since: run.claimedAt, seconds: Number.isFinite(since) ? Math.max(0, Math.round((now - since) / 1000)) : 0 };
  }
  if (status.next !== undefined && status.next !== null) view.next = { ...status.next };
  if (spec.mode !== 'EachOnce') {
    let frequency: number | undefined;
    try {
      frequency = frequencyMs(spec);
    } catch {
      frequency = undefined;
    }
    if (frequency !== undefined) {
      const late = frequency + overdueGraceMs(frequency);
      // Typed as a Date by client-node, a string in the JSON read.
      const created = Date.parse(String(group.metadata?.creationTimestamp ?? ''));
      for (const item of items) {
        const lastSuccess = isoOrUndefined(status.items?.[item]?.last_success ?? undefined);
        // An item that never succeeded is late once the group is older than the frequency plus grace.
        const since = lastSuccess === undefined ? created : Date.parse(lastSuccess);
        if (Number.isFinite(since) && now - since > late) view.overdue.push({ item, ...(lastSuccess !== undefined && { lastSuccess }) });
      }
    }
  }
  return view;
}

/** The `history` view of a group: one entry per listed item. */
export function historyView(group: OaatGroup): ItemHistoryView[] {
  const items = [...new Set(group.spec?.oaatItems ?? [])];
  return items.map((item) => {
    const entry = group.status?.items?.[item] ?? undefined;
    const read = entry === undefined ? undefined : RuntimeStats.fromItem(entry);
    const stats = read?.kind === 'read' ? read.stats : undefined;
    const lastSuccess = isoOrUndefined(entry?.last_success);
    const lastFailure = isoOrUndefined(entry?.last_failure);
    const p50 = stats?.percentile(0.5);
    const p90 = stats?.percentile(0.9);
    return {
      item,
      ...(lastSuccess !== undefined && { lastSuccess }),
      ...(lastFailure !== undefined && { lastFailure }),
      failures: failureCount(entry),
      ...(entry?.last_run?.outcome !== undefined && { lastOutcome: entry.last_run.outcome }),
      runs: stats?.count ?? 0,
      ...(p50 !== undefined && { p50Seconds: p50 }),
      ...(p90 !== undefined && { p90Seconds: p90 }),
    };
  });
}

/** A duration for people: its largest unit and the next one unless that is zero, e.g. `3d4h`, `12m5s`, `1h`, `40s`. */
export function humanDuration(ms: number): string {
  let seconds = Math.round(Math.abs(ms) / 1000);
  const counts: [string, number][] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    const count = Math.floor(seconds / size);
    seconds -= count * size;
    if (count > 0 || counts.length > 0) counts.push([unit, count]);
  }
  const [largest, next] = counts;
  if (largest === undefined) return '0s';
  return `${String(largest[1])}${largest[0]}${next !== undefined && next[1] > 0 ? `${String(next[1])}${next[0]}` : ''}`;
}

/** A past or future instant relative to `now`: `5m ago`, `in 2h3m`, or `-` when absent. */
export function relative(iso: string | undefined, now: number): string {
  const at = Date.parse(iso ?? '');
  if (!Number.isFinite(at)) return '-';
  return at <= now ? `${humanDuration(now - at)} ago` : `in ${humanDuration(at - now)}`;
}

/** Rows under a header, columns padded to their widest cell and separated by three spaces, as kubectl prints. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)));
  const line = (cells: readonly string[]): string => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('   ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** The `status` table; with `withNamespace`, a NAMESPACE column first (`--all-namespaces`). */
export function statusTable(views: readonly GroupStatusView[], now: number, withNamespace: boolean): string {
  const header = ['GROUP', 'RUNNING', 'FOR', 'NEXT', 'WHEN', 'WHY', 'FAILING', 'OVERDUE'];
  const rows = views.map((view) => {
    const next = view.next;
    const why = next === undefined ? '-' : next.window !== undefined ? `${next.reason} (${next.window})` : next.reason;
    const row = [
      view.group + (view.paused ? ' (paused)' : ''),
      view.running?.item ?? '-',
      view.running === undefined ? '-' : humanDuration(view.running.seconds * 1000),
      next?.item ?? '-',
      relative(next?.at, now),
      why,
      view.failing.length === 0 ? '-' : view.failing.map((entry) => `${entry.item}(${entry.failures})`).join(','),
      view.overdue.length === 0 ? '-' : view.overdue.map((entry) => entry.item).join(','),
    ];
    return withNamespace ? [view.namespace, ...row] : row;
  });
  return table(withNamespace ? ['NAMESPACE', ...header] : header, rows);
}

const seconds = (value: number | undefined): string => (value === undefined ? '-' : humanDuration(value * 1000));

/** The `history` table. */
export function historyTable(items: readonly ItemHistoryView[], now: number): string {
  return table(
    ['ITEM', 'LAST SUCCESS', 'LAST FAILURE', 'FAILURES', 'LAST OUTCOME', 'RUNS', 'P50', 'P90'],
    items.map((item) => [
      item.item,
      relative(item.lastSuccess, now),
      relative(item.lastFailure, now),
      String(item.failures),
      item.lastOutcome ?? '-',
      String(item.runs),
      seconds(item.p50Seconds),
      seconds(item.p90Seconds),
    ]),
  );
}

/** Why a forecast ended, in words. */
const FORECAST_END: Record<Forecast['end'], string> = {
  horizon: 'end of the forecast period',
  paused: 'the group is paused: no new item starts',
  complete: 'every item has succeeded once (EachOnce)',
  'no-items': 'the group has no items',
  windows: 'windows forbid every start for more than a week',
  'max-runs': 'forecast cut at its maximum number of runs',
};

/** The `plan` table, with the forecast's assumptions in words after it. */
export function planTable(forecast: Forecast, now: number, defaultRuntimeMs: number): string {
  const rows = forecast.runs.map((run, index) => [
    String(index + 1),
    run.item,
    new Date(run.startAt).toISOString().replace(/:\d\d\.\d{3}Z$/, 'Z'),
    run.running ? 'running' : relative(new Date(run.startAt).toISOString(), now),
    humanDuration(run.endAt - run.startAt) + (run.predicted ? '' : '*'),
  ]);
  return (
    table(['#', 'ITEM', 'START', 'WHEN', 'RUNTIME'], rows) +
    `Ends: ${FORECAST_END[forecast.end]}.\n` +
    'Approximate: every run is assumed to succeed and to take its predicted runtime' +
    ` (* no prediction: ${humanDuration(defaultRuntimeMs)} assumed). Among failing items the operator sometimes` +
    ' picks a non-failing one instead (one time in three), and ties are broken at random: the order may differ.\n'
  );
}
