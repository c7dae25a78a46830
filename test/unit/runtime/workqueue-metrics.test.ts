import { Registry } from 'prom-client';
import { PrometheusWorkQueueMetrics } from '../../../src/runtime/workqueue-metrics.ts';
import { WorkQueue } from '../../../src/runtime/workqueue.ts';

const METRIC_NAMES = [
  'workqueue_depth',
  'workqueue_adds_total',
  'workqueue_retries_total',
  'workqueue_queue_duration_seconds',
  'workqueue_work_duration_seconds',
  'workqueue_unfinished_work_seconds',
  'workqueue_longest_running_processor_seconds',
];

/** The value of the series `metric{name="<queue>"}` in the registry's exposition text. */
async function sample(registry: Registry, metric: string, queue: string): Promise<number> {
  const prefix = `${metric}{name="${queue}"} `;
  const line = (await registry.metrics()).split('\n').find((candidate) => candidate.startsWith(prefix));
  if (line === undefined) throw new Error(`no series ${prefix.trim()} in the registry`);
  return Number(line.slice(prefix.length));
}

const queues: WorkQueue[] = [];

function newQueue(registry: Registry, name: string): WorkQueue {
  const queue = new WorkQueue({ name, metrics: new PrometheusWorkQueueMetrics(registry).forQueue(name) });
  queues.push(queue);
  return queue;
}

beforeEach(() => {
  jest.useFakeTimers();
});

afterEach(() => {
  for (const queue of queues.splice(0)) queue.shutDown();
  jest.useRealTimers();
});

describe('PrometheusWorkQueueMetrics', () => {
  it('exposes every metric of a queue, at zero, as soon as the queue exists', async () => {
    const registry = new Registry();
    newQueue(registry, 'groups');
    const text = await registry.metrics();
    for (const metric of METRIC_NAMES) {
      // Histograms show as _bucket, _sum and _count series; their count is the one checked.
      expect(text).toMatch(new RegExp(`^${metric}(_count)?\\{name="groups"\\} 0$`, 'm'));
    }
  });

  it('counts adds and follows the depth', async () => {
    const registry = new Registry();
    const queue = newQueue(registry, 'groups');
    queue.add('a');
    queue.add('a');
    queue.add('b');
    expect(await sample(registry, 'workqueue_adds_total', 'groups')).toBe(2);
    expect(await sample(registry, 'workqueue_depth', 'groups')).toBe(2);

    expect(await queue.get()).toBe('a');
    expect(await sample(registry, 'workqueue_depth', 'groups')).toBe(1);

    // Added again while processing: counted, and part of the depth until handed out again.
    queue.add('a');
    expect(await sample(registry, 'workqueue_adds_total', 'groups')).toBe(3);
    expect(await sample(registry, 'workqueue_depth', 'groups')).toBe(2);

    queue.shutDown();
    expect(await sample(registry, 'workqueue_depth', 'groups')).toBe(0);
  });

  it('counts delayed adds as retries, but not adds without a delay', async () => {
    const registry = new Registry();
    const queue = newQueue(registry, 'groups');
    queue.addAfter('a', 10);
    queue.addRateLimited('b');
    queue.addAfter('c', 0);
    expect(await sample(registry, 'workqueue_retries_total', 'groups')).toBe(2);
    expect(await sample(registry, 'workqueue_adds_total', 'groups')).toBe(1);
  });

  it('observes how long keys wait and how long they are processed', async () => {
    const registry = new Registry();
    const queue = newQueue(registry, 'groups');
    queue.add('a');
    await jest.advanceTimersByTimeAsync(2000);
    expect(await queue.get()).toBe('a');
    await jest.advanceTimersByTimeAsync(500);
    queue.done('a');

    expect(await sample(registry, 'workqueue_queue_duration_seconds_count', 'groups')).toBe(1);
    expect(await sample(registry, 'workqueue_queue_duration_seconds_sum', 'groups')).toBeCloseTo(2, 6);
    expect(await sample(registry, 'workqueue_work_duration_seconds_count', 'groups')).toBe(1);
    expect(await sample(registry, 'workqueue_work_duration_seconds_sum', 'groups')).toBeCloseTo(0.5, 6);
  });

  it("uses client-go's buckets, 10 ns to 10 s", async () => {
    const registry = new Registry();
    newQueue(registry, 'groups');
    const bounds = (await registry.metrics())
      .split('\n')
      .filter((line) => line.startsWith('workqueue_work_duration_seconds_bucket{'))
      .map((line) => /le="([^"]+)"/.exec(line)?.[1]);
    expect(bounds).toEqual(['1e-8', '1e-7', '0.000001', '0.00001', '0.0001', '0.001', '0.01', '0.1', '1', '10', '+Inf']);
  });

  it('reports the work in progress at scrape time', async () => {
    const registry = new Registry();
    const queue = newQueue(registry, 'groups');
    queue.add('a');
    queue.add('b');
    expect(await queue.get()).toBe('a');
    await jest.advanceTimersByTimeAsync(1000);
    expect(await queue.get()).toBe('b');
    await jest.advanceTimersByTimeAsync(2000);

    expect(await sample(registry, 'workqueue_unfinished_work_seconds', 'groups')).toBeCloseTo(5, 6);
    expect(await sample(registry, 'workqueue_longest_running_processor_seconds', 'groups')).toBeCloseTo(3, 6);

    queue.done('a');
    queue.done('b');
    expect(await sample(registry, 'workqueue_unfinished_work_seconds', 'groups')).toBe(0);
    expect(await sample(registry, 'workqueue_longest_running_processor_seconds', 'groups')).toBe(0);
  });

  it('registers once per registry and keeps one series per queue', async () => {
    const registry = new Registry();
    const groups = newQueue(registry, 'groups');
    const pods = newQueue(registry, 'pods');
    groups.add('a');
    pods.add('a');
    pods.add('b');
    expect(await sample(registry, 'workqueue_adds_total', 'groups')).toBe(1);
    expect(await sample(registry, 'workqueue_adds_total', 'pods')).toBe(2);
    expect(registry.getMetricsAsArray()).toHaveLength(METRIC_NAMES.length);

    const elsewhere = new Registry();
    newQueue(elsewhere, 'groups');
    expect(await sample(elsewhere, 'workqueue_adds_total', 'groups')).toBe(0);
  });
});
