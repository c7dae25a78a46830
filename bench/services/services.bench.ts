/**
 * Domain-services benchmark: the selection policy for a 1,000-item group with a realistic mixed
 * history, the pod templater for one pod, and the runtime statistics of one item. Run with
 * `npm run bench:services`; prints a Markdown table. Not a test: nothing here asserts anything.
 *
 * Each row times batches of calls and reports the median and the 90th percentile of the
 * per-call time over the batches, after a warm-up batch set (so the JIT has optimised the code).
 */
import os from 'node:os';
import type { ItemStatus, OaatGroup, OaatType } from '../../src/api/v1/types.ts';
import { ManualClock } from '../../src/services/clock.ts';
import { renderPod } from '../../src/services/pod-templater.ts';
import { seededRng } from '../../src/services/rng.ts';
import { RuntimeStats } from '../../src/services/runtime-stats.ts';
import { describeVerdict, type ItemHistory, selectItem, type SelectionInput } from '../../src/services/selection-policy.ts';

const ITEMS = 1_000;
const BATCHES = 200;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const NOW = Date.parse('2026-03-01T12:00:00Z');
const clock = new ManualClock(NOW);
const rng = seededRng(2026);

/** A number in [low, high) from the benchmark's seeded rng. */
const between = (low: number, high: number): number => low + rng.next() * (high - low);

/**
 * A group whose items run every hour: 5 % never ran, 70 % succeeded within the hour (waiting),
 * 15 % are due, 10 % are failing (1-5 consecutive failures, the last one 0-20 minutes ago).
 */
function mixedHistory(): Map<string, ItemHistory> {
  const history = new Map<string, ItemHistory>();
  for (let i = 0; i < ITEMS; i++) {
    const item = `backup-target-${String(i).padStart(4, '0')}.example.com`;
    const kind = rng.next();
    if (kind < 0.05) continue;
    if (kind < 0.75) history.set(item, { lastSuccess: Math.round(NOW - between(0, HOUR)), failureCount: 0 });
    else if (kind < 0.9) history.set(item, { lastSuccess: Math.round(NOW - between(HOUR, 3 * HOUR)), failureCount: 0 });
    else history.set(item, { lastSuccess: Math.round(NOW - between(HOUR, 48 * HOUR)), lastFailure: Math.round(NOW - between(0, 20 * MINUTE)), failureCount: 1 + Math.floor(between(0, 5)) });
  }
  return history;
}

const history = mixedHistory();
const items = Array.from({ length: ITEMS }, (_, i) => `backup-target-${String(i).padStart(4, '0')}.example.com`);
const selection: SelectionInput = { items, history, frequencyMs: HOUR, retryFloorMs: MINUTE, clock, rng };
const selectionWithCoolOff: SelectionInput = { ...selection, coolOffMs: 10 * MINUTE };
/** The same group with every item waiting (nothing chosen): the reconcile that computes requeueAfter. */
const allWaiting: SelectionInput = {
  ...selection,
  history: new Map(items.map((item) => [item, { lastSuccess: Math.round(NOW - between(0, HOUR)), failureCount: 0 }])),
};
/** The item status a reconciler would convert into `history` (RFC 3339 strings, as stored). */
const statusItems: Record<string, ItemStatus> = Object.fromEntries(
  [...history].map(([item, h]) => [
    item,
    {
      ...(h.lastSuccess !== undefined && { last_success: new Date(h.lastSuccess).toISOString() }),
      ...(h.lastFailure !== undefined && { last_failure: new Date(h.lastFailure).toISOString() }),
      failure_count: h.failureCount,
    },
  ]),
);
const verdicts = selectItem(selection).verdicts;

const group: OaatGroup = {
  apiVersion: 'kawaja.net/v1',
  kind: 'OaatGroup',
  metadata: { name: 'nightly-backups', namespace: 'backup', uid: '0b7e3b52-6f4c-4f3e-9a53-3f0a4e8f2c11', labels: { team: 'storage', tier: 'batch' } },
  spec: { oaatType: 'restic', oaatItems: items },
};
const oaatType: OaatType = {
  apiVersion: 'kawaja.net/v1',
  kind: 'OaatType',
  metadata: { name: 'restic', namespace: 'backup' },
  spec: {
    type: 'pod',
    podspec: {
      container: {
        name: 'restic',
        image: 'restic/restic:0.17.3',
        command: ['sh', '-c', 'restic backup --host %%oaat_item%% /data/{{oaat_item}}'],
        args: ['--tag', 'oaat', '--tag', '%%oaat_item%%'],
        env: [
          { name: 'RESTIC_REPOSITORY', value: 's3:https://s3.example.com/backups/%%oaat_item%%' },
          { name: 'RESTIC_PASSWORD', valueFrom: { secretKeyRef: { name: 'restic', key: 'password' } } },
          { name: 'TARGET', value: '{{oaat_item}}' },
        ],
        resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
        volumeMounts: [{ name: 'cache', mountPath: '/cache' }],
      },
      volumes: [{ name: 'cache', emptyDir: {} }],
      serviceAccountName: 'backup-runner',
      securityContext: { runAsNonRoot: true, runAsUser: 1000 },
      nodeSelector: { 'kubernetes.io/os': 'linux' },
    },
  },
};
const legacyStats: ItemStatus = {
  runtime_count: '250',
  runtime_total: '31250.0',
  runtime_sum_squares: '3915000.0',
  runtime_min: '95.0',
  runtime_max: '160.5',
  runtime_sample: JSON.stringify(Array.from({ length: 100 }, (_, i) => 95 + i * 0.655)),
  runtime_last_updated: '2024-08-10T10:00:00.123456+00:00',
};
const fullStats = new RuntimeStats();
for (let i = 0; i < 500; i++) fullStats.add(between(95, 160), rng, clock);
const fullStatus: ItemStatus = { runtime: fullStats.toStatus() };

interface Row {
  what: string;
  medianUs: number;
  p90Us: number;
  note: string;
}

/** A value every call feeds, so the JIT cannot drop the work. */
let sink = 0;

/** Per-call time of `body`: median and p90 over BATCHES batches of `batch` calls, after a warm-up. */
function measure(what: string, batch: number, body: () => unknown, note = ''): Row {
  const perCall: number[] = [];
  for (let round = 0; round < 2; round++) {
    perCall.length = 0;
    for (let b = 0; b < BATCHES; b++) {
      const start = performance.now();
      for (let i = 0; i < batch; i++) if (body() !== undefined) sink++;
      perCall.push(((performance.now() - start) * 1000) / batch);
    }
  }
  perCall.sort((a, b) => a - b);
  return { what, medianUs: perCall[Math.floor(BATCHES / 2)] ?? Number.NaN, p90Us: perCall[Math.floor(BATCHES * 0.9)] ?? Number.NaN, note };
}

const chosen = (input: SelectionInput): string => {
  const result = selectItem(input);
  return result.item === undefined ? 'none' : (result.rule ?? '');
};

const rows: Row[] = [
  measure(`selectItem, ${ITEMS} items, mixed history`, 20, () => selectItem(selection), `chooses: ${chosen(selection)}`),
  measure(`selectItem, ${ITEMS} items, mixed history, cool-off 10m`, 20, () => selectItem(selectionWithCoolOff), `chooses: ${chosen(selectionWithCoolOff)}`),
  measure(`selectItem, ${ITEMS} items, all waiting`, 20, () => selectItem(allWaiting), 'chooses none; gives nextEligibleAt'),
  measure(`(context) status strings to history, ${ITEMS} items`, 20, () => {
    const converted = new Map<string, ItemHistory>();
    for (const [item, status] of Object.entries(statusItems)) {
      converted.set(item, {
        lastSuccess: status.last_success === undefined ? undefined : Date.parse(status.last_success),
        lastFailure: status.last_failure === undefined ? undefined : Date.parse(status.last_failure),
        failureCount: Number(status.failure_count ?? 0),
      });
    }
    return converted;
  }, "the reconciler's conversion (Date.parse)"),
  measure(`describeVerdict, all ${ITEMS} verdicts`, 5, () => verdicts.map(describeVerdict), 'only when every reason is logged'),
  measure('renderPod, one pod', 500, () => renderPod({ type: oaatType, group, item: 'backup-target-0042.example.com', runId: 'k3j9x2qa', restrictions: new Set() }), 'incl. validation, deep copy, pod name hash'),
  measure('RuntimeStats.fromItem, runtime status (32 values)', 500, () => RuntimeStats.fromItem(fullStatus)),
  measure('RuntimeStats.fromItem, legacy strings (100 values)', 500, () => RuntimeStats.fromItem(legacyStats), 'JSON parse + thinning to 32'),
  measure('RuntimeStats read + add + toStatus (a success is closed)', 500, () => {
    const read = RuntimeStats.fromItem(fullStatus);
    if (read.kind !== 'read') throw new Error(`unexpected ${read.kind}`);
    read.stats.add(120, rng, clock);
    return read.stats.toStatus();
  }),
  measure('RuntimeStats.predict (32 values)', 500, () => fullStats.predict()),
];

const cpus = os.cpus();
console.log(
  `Services; Node ${process.version}, ${process.platform}/${process.arch}, ${cpus.length} x ${cpus[0]?.model ?? 'unknown CPU'}, ` +
    `load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, ${new Date().toISOString().slice(0, 10)}`,
);
console.log(`per call: median and p90 over ${BATCHES} batches, after a warm-up\n`);
console.log('| operation | median (µs) | p90 (µs) | note |');
console.log('| --- | ---: | ---: | --- |');
for (const row of rows) console.log(`| ${row.what} | ${row.medianUs.toFixed(2)} | ${row.p90Us.toFixed(2)} | ${row.note} |`);
if (sink < 0) console.log(sink);
