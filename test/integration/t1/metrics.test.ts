/**
 * The domain metrics on the operator's /metrics: the run counters and the duration histogram
 * move as runs close, the group and item gauges follow the cache at each scrape (a removed item
 * and a deleted group lose their series), and OAAT_ITEM_METRICS switches the per-item series.
 */
import type { OperatorProcess } from '../../support/operator-process.ts';
import { GROUP_API, operatorSuite, type OaatNamespace } from '../../support/oaat.ts';
import { waitUntil } from '../../support/wait.ts';

const suite = operatorSuite('T1', 'metrics');
const ns = (): OaatNamespace => suite.ns;

/** One sample of the text exposition: its metric name, labels and value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a /metrics text (prom-client writes label values without escaped quotes here). */
function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="([^"]*)"/g)].map(([, key, value]) => [key ?? '', value ?? '']));
    samples.push({ name: match[1] ?? '', labels, value: Number(match[3]) });
  }
  return samples;
}

/** The samples of this test's namespace, by a scrape of the operator. */
async function scrape(operator: OperatorProcess): Promise<Sample[]> {
  const { status, text } = await operator.http('/metrics');
  if (status !== 200) throw new Error(`/metrics answered ${String(status)}`);
  return parseSamples(text).filter((sample) => sample.labels.namespace === undefined || sample.labels.namespace === ns().name);
}

/** The value of the one sample named `name` whose labels include `labels`; undefined when none. */
function valueOf(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
  if (found.length > 1) throw new Error(`${String(found.length)} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

function waitForMetrics(operator: OperatorProcess, accept: (samples: Sample[]) => boolean, what: string): Promise<Sample[]> {
  return waitUntil(() => scrape(operator), accept, { what, timeoutMs: 30_000, intervalMs: 200 });
}

it('counts closed runs by group and outcome, follows item states, and drops the series of a removed item and of a deleted group', async () => {
  await ns().group('metered', ['a', 'b'], { frequency: '1h' });
  await ns().group('idle', ['x'], { paused: true });
  const operator = ns().startOperator();
  const group = { group: 'metered' };

  const first = await ns().runningPod('metered');
  const firstItem = first.metadata?.labels?.['oaat-name'] ?? '';
  await ns().end(first, { outcome: 'succeed', after: '1s' });
  const remaining = firstItem === 'a' ? 'b' : 'a';
  await ns().waitForGroup('metered', (g) => g.status?.currentRun?.item === remaining, `${remaining} claimed after ${firstItem} succeeded`);
  const second = await ns().runningPod('metered');
  const afterSuccess = await waitForMetrics(operator, (s) => valueOf(s, 'oaat_runs_total', { ...group, outcome: 'Succeeded' }) === 1, 'a success counted');
  expect(valueOf(afterSuccess, 'oaat_run_duration_seconds_count', group)).toBe(1);
  expect(valueOf(afterSuccess, 'oaat_runs_total', { ...group, outcome: 'Failed' })).toBeUndefined();
  // Per-item series are on (auto, 3 items in all).
  expect(valueOf(afterSuccess, 'oaat_item_metrics_enabled')).toBe(1);
  const lastSuccess = Date.parse((await ns().readGroup('metered')).status?.items?.[firstItem]?.last_success ?? '');
  expect(valueOf(afterSuccess, 'oaat_item_last_success_timestamp_seconds', { ...group, item: firstItem })).toBe(lastSuccess / 1000);
  expect(valueOf(afterSuccess, 'oaat_item_overdue', { ...group, item: firstItem })).toBe(0);
  // The item that succeeded waits for its frequency while the other runs.
  expect(valueOf(afterSuccess, 'oaat_group_running', group)).toBe(1);
  expect(valueOf(afterSuccess, 'oaat_group_items', { ...group, state: 'running' })).toBe(1);
  expect(valueOf(afterSuccess, 'oaat_group_items', { ...group, state: 'waiting' })).toBe(1);
  expect(valueOf(afterSuccess, 'oaat_group_items', { ...group, state: 'eligible' })).toBe(0);
  expect(valueOf(afterSuccess, 'oaat_group_running', { group: 'idle' })).toBe(0);

  await ns().end(second, { outcome: 'fail' });
  const afterFailure = await waitForMetrics(operator, (s) => valueOf(s, 'oaat_runs_total', { ...group, outcome: 'Failed' }) === 1, 'a failure counted');
  expect(valueOf(afterFailure, 'oaat_runs_total', { ...group, outcome: 'Succeeded' })).toBe(1);
  // Failures are not in the duration histogram.
  expect(valueOf(afterFailure, 'oaat_run_duration_seconds_count', group)).toBe(1);

  // The item that succeeded leaves the list: its series go at the next scrape after the cache saw it.
  await ns().group('metered', [remaining], { frequency: '1h' });
  await waitForMetrics(
    operator,
    (s) => valueOf(s, 'oaat_item_overdue', { ...group, item: firstItem }) === undefined && valueOf(s, 'oaat_item_overdue', { ...group, item: remaining }) !== undefined,
    `the series of the removed item ${firstItem} gone`,
  );

  await suite.cluster.custom.deleteNamespacedCustomObject({ ...GROUP_API, namespace: ns().name, plural: 'oaatgroups', name: 'idle' });
  const afterDelete = await waitForMetrics(operator, (s) => valueOf(s, 'oaat_group_running', { group: 'idle' }) === undefined, 'the series of the deleted group gone');
  expect(afterDelete.filter((sample) => sample.labels.group === 'idle' && /^oaat_(group|item)_/.test(sample.name))).toEqual([]);
});

it('exports no per-item series with OAAT_ITEM_METRICS=off, and the group series still', async () => {
  await ns().group('quiet', ['a', 'b'], { paused: true });
  const operator = ns().startOperator({ OAAT_ITEM_METRICS: 'off' });
  const samples = await waitForMetrics(operator, (s) => valueOf(s, 'oaat_group_running', { group: 'quiet' }) === 0, 'the group series of quiet');
  expect(valueOf(samples, 'oaat_item_metrics_enabled')).toBe(0);
  expect(samples.filter((sample) => sample.name.startsWith('oaat_item_') && sample.name !== 'oaat_item_metrics_enabled')).toEqual([]);
  expect(valueOf(samples, 'oaat_group_items', { group: 'quiet', state: 'eligible' })).toBe(2);
});
