/**
 * What one Prometheus scrape of the operator's `/metrics` costs at scale: the domain gauges
 * (controllers/group-metrics.ts) are computed from the group cache at every scrape, so a
 * scrape's time grows with the groups and items, and it runs on the event loop that also
 * serves the reconciles. Groups of BENCH_ITEMS (20) items with a history (every item
 * succeeded within its frequency, one in ten failing), per-item series as `auto` decides
 * (off above 2,000 items) and forced on. Prints a Markdown table: time of a whole scrape
 * (`registry.metrics()`), median and max over the rounds, and the series it returned.
 *
 * Run: `npm run bench:scrape`. Not a test: nothing here asserts anything.
 */
import os from 'node:os';
import { Registry } from 'prom-client';
import type { ItemStatus, OaatGroup } from '../../src/api/v1/types.ts';
import { GroupMetricsCollector } from '../../src/controllers/group-metrics.ts';
import type { Cache } from '../../src/runtime/informer.ts';
import { seededRng } from '../../src/services/rng.ts';

const ITEMS = Number(process.env.BENCH_ITEMS ?? 20);
const ROUNDS = 7;
const NOW = Date.parse('2026-03-01T12:00:00Z');
const HOUR = 3_600_000;
const rng = seededRng(2026);

function groupOf(index: number): OaatGroup {
  const items: Record<string, ItemStatus> = {};
  const names = Array.from({ length: ITEMS }, (_, i) => `item-${String(i)}`);
  for (const item of names) {
    const lastSuccess = new Date(NOW - rng.next() * HOUR).toISOString();
    items[item] =
      rng.next() < 0.1
        ? { last_success: lastSuccess, last_failure: new Date(NOW - rng.next() * 600_000).toISOString(), failure_count: 1 }
        : { last_success: lastSuccess, failure_count: 0 };
  }
  return {
    apiVersion: 'kawaja.net/v1',
    kind: 'OaatGroup',
    metadata: { name: `group-${String(index)}`, namespace: 'bench', uid: `uid-${String(index)}`, creationTimestamp: new Date(NOW - 30 * 24 * HOUR) },
    spec: { frequency: '1h', oaatType: 'runner', oaatItems: names },
    status: { runSeq: 100, currentRun: null, items },
  };
}

/** A cache holding `groups`, as the collector reads it (list only). */
function cacheOf(groups: readonly OaatGroup[]): Cache<OaatGroup> {
  return {
    get: (namespace, name) => groups.find((group) => group.metadata?.namespace === namespace && group.metadata.name === name),
    list: () => [...groups],
    byIndex: () => [],
  };
}

interface Row {
  groups: number;
  itemMetrics: 'auto' | 'on';
  medianMs: number;
  maxMs: number;
  series: number;
}

async function measure(groupCount: number, itemMetrics: 'auto' | 'on'): Promise<Row> {
  const registry = new Registry();
  const groups = Array.from({ length: groupCount }, (_, i) => groupOf(i));
  // The clock moves on by more than the collector's snapshot reuse between rounds: every round computes.
  let now = NOW;
  new GroupMetricsCollector({ groups: cacheOf(groups), registry, clock: { now: () => now }, settings: { retryFloorMs: 60_000, itemMetrics } });
  const times: number[] = [];
  let text = '';
  for (let round = 0; round < ROUNDS + 1; round++) {
    now += 15_000;
    const started = performance.now();
    text = await registry.metrics();
    if (round > 0) times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const series = text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;
  return { groups: groupCount, itemMetrics, medianMs: times[Math.floor(times.length / 2)] ?? Number.NaN, maxMs: times.at(-1) ?? Number.NaN, series };
}

const rows: Row[] = [];
for (const groups of [100, 1_000, 5_000]) {
  rows.push(await measure(groups, 'auto'));
  if (groups * ITEMS > 2_000) rows.push(await measure(groups, 'on'));
}

const cpus = os.cpus();
console.log(
  `One /metrics scrape; Node ${process.version}, ${cpus.length} x ${cpus[0]?.model ?? 'unknown CPU'}, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, ` +
    `${new Date().toISOString().slice(0, 10)}; ${String(ITEMS)} items a group; ${String(ROUNDS)} rounds after a warm-up\n`,
);
console.log('| groups | per-item series | scrape median (ms) | max (ms) | series |');
console.log('| ---: | --- | ---: | ---: | ---: |');
for (const row of rows) console.log(`| ${row.groups.toLocaleString('en')} | ${row.itemMetrics} | ${row.medianMs.toFixed(1)} | ${row.maxMs.toFixed(1)} | ${row.series.toLocaleString('en')} |`);
