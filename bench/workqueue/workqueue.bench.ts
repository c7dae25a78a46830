/**
 * Work-queue benchmark: throughput of the queue operations and memory held per key, for
 * 100,000 distinct keys. Run with `npm run bench:workqueue` (Node 24, --expose-gc); prints a
 * Markdown table. Not a test: nothing here asserts anything.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkQueue } from '../../src/runtime/workqueue.ts';

const KEYS = 100_000;
const WORKERS = 4;
/** Measured repetitions per throughput case (after one warm-up); the median is reported. */
const RUNS = 5;
/** addAfter delays are drawn uniformly from [1, MAX_DELAY_MS]. */
const MAX_DELAY_MS = 1000;

/** Keys shaped like the controller's (namespace/name), made once so their memory is not counted. */
const keys = Array.from({ length: KEYS }, (_, i) => `namespace-${i % 100}/group-${i}`);

function collectGarbage(): void {
  if (globalThis.gc === undefined) throw new Error('run with --expose-gc (npm run bench:workqueue)');
  globalThis.gc();
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const format = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const mib = (bytes: number): string => format(bytes / 2 ** 20, 1);

/** Runs `workers` async loops of get() + done() until the queue is shut down. */
async function startWorkers(queue: WorkQueue, workers: number, onKey: (key: string) => void): Promise<void> {
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
        onKey(key);
        queue.done(key);
      }
    }),
  );
}

/** Resolves once `count` keys were processed; the workers stop afterwards. */
async function processAll(queue: WorkQueue, count: number, onKey: (key: string) => void = () => undefined): Promise<void> {
  let processed = 0;
  let allDone = (): void => undefined;
  const finished = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  const workers = startWorkers(queue, WORKERS, (key) => {
    onKey(key);
    if (++processed === count) allDone();
  });
  await finished;
  queue.shutDown();
  await workers;
}

interface Row {
  what: string;
  ms: number;
  opsPerSecond: number;
  note: string;
}

/** Times `body` over RUNS runs after a warm-up; each run gets a fresh queue from `setUp`. */
async function throughput(what: string, setUp: () => WorkQueue, body: (queue: WorkQueue) => Promise<void> | void, note = ''): Promise<Row> {
  const times: number[] = [];
  for (let run = 0; run <= RUNS; run++) {
    const queue = setUp();
    collectGarbage();
    const start = performance.now();
    await body(queue);
    const elapsed = performance.now() - start;
    queue.shutDown();
    if (run > 0) times.push(elapsed);
  }
  const ms = median(times);
  return { what, ms, opsPerSecond: (KEYS / ms) * 1000, note };
}

function filled(): WorkQueue {
  const queue = new WorkQueue({ name: 'bench' });
  for (const key of keys) queue.add(key);
  return queue;
}

/** The delays of addAfter, drawn once so every run schedules the same thing. */
const delays = keys.map(() => 1 + Math.floor(Math.random() * MAX_DELAY_MS));

/**
 * Schedules every key with a random delay, then drains with WORKERS workers. Lateness is how
 * long after its due time a key was handed out, for the keys due after the scheduling loop
 * ended (the others are all released at once when it ends, and wait their turn in line).
 */
async function delayedDrain(): Promise<{ totalMs: number; lateness: number[] }> {
  const queue = new WorkQueue({ name: 'bench' });
  const dueAt = new Map<string, number>();
  const lateness: number[] = [];
  collectGarbage();
  const start = performance.now();
  keys.forEach((key, i) => {
    const delay = delays[i] ?? 0;
    dueAt.set(key, performance.now() + delay);
    queue.addAfter(key, delay);
  });
  const scheduled = performance.now();
  await processAll(queue, KEYS, (key) => {
    const due = dueAt.get(key) ?? 0;
    if (due > scheduled) lateness.push(performance.now() - due);
  });
  return { totalMs: performance.now() - start, lateness: lateness.sort((a, b) => a - b) };
}

/** For comparison: how late a plain 5 ms setTimeout fires on this machine right now. */
async function timerLateness(samples: number): Promise<number[]> {
  const lateness: number[] = [];
  for (let i = 0; i < samples; i++) {
    const start = performance.now();
    await sleep(5);
    lateness.push(performance.now() - start - 5);
  }
  return lateness.sort((a, b) => a - b);
}

interface MemoryRow {
  what: string;
  heapBytes: number;
  rssBytes: number;
}

async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  collectGarbage();
  await sleep(50);
  collectGarbage();
  return process.memoryUsage();
}

/**
 * Heap and RSS growth, after full garbage collections, as 100,000 waiting keys and then
 * 100,000 delayed keys (in a second queue, the first one still alive) are added. Runs before
 * anything else, while the heap has not yet grown for the throughput runs.
 */
async function memoryHeld(): Promise<MemoryRow[]> {
  const baseline = await settledMemory();
  const waiting = filled();
  const withWaiting = await settledMemory();
  const delayed = new WorkQueue({ name: 'bench' });
  keys.forEach((key, i) => {
    delayed.addAfter(key, 60_000 + (delays[i] ?? 0));
  });
  const withDelayed = await settledMemory();
  waiting.shutDown();
  delayed.shutDown();
  return [
    { what: `${format(KEYS)} keys waiting`, heapBytes: withWaiting.heapUsed - baseline.heapUsed, rssBytes: withWaiting.rss - baseline.rss },
    { what: `+ ${format(KEYS)} keys delayed`, heapBytes: withDelayed.heapUsed - withWaiting.heapUsed, rssBytes: withDelayed.rss - withWaiting.rss },
  ];
}

const memoryRows = await memoryHeld();

const rows: Row[] = [];
rows.push(await throughput('add (new keys)', () => new WorkQueue({ name: 'bench' }), (queue) => {
  for (const key of keys) queue.add(key);
}));
rows.push(await throughput('add (keys already waiting)', filled, (queue) => {
  for (const key of keys) queue.add(key);
}, 'dedupe path'));
rows.push(await throughput(`get + done (${WORKERS} async workers)`, filled, (queue) => processAll(queue, KEYS)));
rows.push(await throughput(`addAfter (random 1..${MAX_DELAY_MS} ms)`, () => new WorkQueue({ name: 'bench' }), (queue) => {
  keys.forEach((key, i) => {
    queue.addAfter(key, delays[i] ?? 0);
  });
}, 'scheduling only'));
rows.push(await throughput('addRateLimited (default limiter)', () => new WorkQueue({ name: 'bench' }), (queue) => {
  for (const key of keys) queue.addRateLimited(key);
}, 'scheduling only'));

const drains = [];
for (let run = 0; run < 3; run++) drains.push(await delayedDrain());
const drain = drains.sort((a, b) => a.totalMs - b.totalMs)[1] ?? drains[0];
const timer = await timerLateness(200);

console.log(`Work queue, ${format(KEYS)} distinct keys; Node ${process.version}, ${process.platform}/${process.arch}, ${new Date().toISOString().slice(0, 10)}`);
console.log(`throughput: median of ${RUNS} runs after a warm-up\n`);
console.log('| operation | time for all keys (ms) | keys/s | note |');
console.log('| --- | ---: | ---: | --- |');
for (const row of rows) console.log(`| ${row.what} | ${format(row.ms, 1)} | ${format(row.opsPerSecond)} | ${row.note} |`);
if (drain !== undefined) {
  const late = drain.lateness;
  console.log(
    `| addAfter + drain (${WORKERS} workers), median of 3 | ${format(drain.totalMs, 1)} | — | ` +
      `${format((100 * late.length) / KEYS)} % of keys due after scheduling, handed out late by: p50 ${format(percentile(late, 50), 1)} ms, p90 ${format(percentile(late, 90), 1)} ms, p99 ${format(percentile(late, 99), 1)} ms, max ${format(late.at(-1) ?? Number.NaN, 1)} ms |`,
  );
}
console.log(
  `| (baseline) setTimeout(5 ms), 200 times | — | — | fired late by: p50 ${format(percentile(timer, 50), 1)} ms, ` +
    `p99 ${format(percentile(timer, 99), 1)} ms, max ${format(timer.at(-1) ?? Number.NaN, 1)} ms |`,
);
console.log('\n| memory held | heap used (MiB) | RSS (MiB) | heap bytes per key |');
console.log('| --- | ---: | ---: | ---: |');
for (const row of memoryRows) console.log(`| ${row.what} | ${mib(row.heapBytes)} | ${mib(row.rssBytes)} | ${format(row.heapBytes / KEYS)} |`);
