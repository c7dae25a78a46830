/**
 * What a work queue (workqueue.ts) reports about itself, and a prom-client implementation
 * with controller-runtime's metric names.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The work in progress in one queue at one moment. */
export interface UnfinishedWork {
  /** Sum, over the keys being processed, of how long each has been processed (seconds). */
  totalSeconds: number;
  /** How long the key processed longest has been processed (seconds); 0 when none is. */
  longestSeconds: number;
}

/**
 * Hooks the queue calls; the default ({@link noWorkQueueMetrics}) does nothing. Every call is
 * made synchronously from a queue operation, so implementations must be cheap and must not
 * call back into the queue.
 */
export interface WorkQueueMetrics {
  /** A key became dirty (needs processing). Adding a key that is already dirty is not counted. */
  added(): void;
  /**
   * The number of dirty keys is now `n`: keys waiting to be handed out plus keys added again
   * while being processed (client-go's depth). Delayed keys are not counted.
   */
  depth(n: number): void;
  /** A key was scheduled with a delay > 0 (addAfter or addRateLimited). */
  retried(): void;
  /** get() handed out a key that had been dirty for `seconds`. */
  queuedFor(seconds: number): void;
  /** done() ended the processing of a key that get() handed out `seconds` earlier. */
  workedFor(seconds: number): void;
  /**
   * Called once, by the queue's constructor: `read` tells the work in progress whenever the
   * metrics need it (at scrape time), so nothing has to poll.
   */
  trackUnfinishedWork(read: () => UnfinishedWork): void;
}

const ignore = (): void => undefined;

/** Metrics that record nothing. */
export const noWorkQueueMetrics: WorkQueueMetrics = {
  added: ignore,
  depth: ignore,
  retried: ignore,
  queuedFor: ignore,
  workedFor: ignore,
  trackUnfinishedWork: ignore,
};

/** client-go's workqueue histogram buckets: 10 ns to 10 s, a factor of 10 apart. */
const DURATION_BUCKETS = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10];

/** The metric families of one registry, shared by every queue reporting to it. */
class WorkQueueCollectors {
  readonly depth: Gauge<'name'>;
  readonly adds: Counter<'name'>;
  readonly retries: Counter<'name'>;
  readonly queueDuration: Histogram<'name'>;
  readonly workDuration: Histogram<'name'>;
  /** How each queue tells its work in progress, by queue name. */
  readonly unfinishedWork = new Map<string, () => UnfinishedWork>();

  constructor(registry: Registry) {
    const registers = [registry];
    const labelNames = ['name'] as const;
    this.depth = new Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames, registers });
    this.adds = new Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', labelNames, registers });
    this.retries = new Counter({
      name: 'workqueue_retries_total',
      help: 'Total number of items added to the workqueue with a non-zero delay (rate-limited requeues, explicit RequeueAfter or AddAfter calls)',
      labelNames,
      registers,
    });
    this.queueDuration = new Histogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'How long in seconds an item stays in workqueue before being requested',
      buckets: DURATION_BUCKETS,
      labelNames,
      registers,
    });
    this.workDuration = new Histogram({
      name: 'workqueue_work_duration_seconds',
      help: 'How long in seconds processing an item from workqueue takes.',
      buckets: DURATION_BUCKETS,
      labelNames,
      registers,
    });
    const unfinishedWork = this.unfinishedWork;
    new Gauge({
      name: 'workqueue_unfinished_work_seconds',
      help:
        'How many seconds of work has been done that is in progress and hasn\'t been observed by work_duration. ' +
        'Large values indicate stuck threads. One can deduce the number of stuck threads by observing the rate at which this increases.',
      labelNames,
      registers,
      collect() {
        for (const [name, read] of unfinishedWork) this.set({ name }, read().totalSeconds);
      },
    });
    new Gauge({
      name: 'workqueue_longest_running_processor_seconds',
      help: 'How many seconds has the longest running processor for workqueue been running.',
      labelNames,
      registers,
      collect() {
        for (const [name, read] of unfinishedWork) this.set({ name }, read().longestSeconds);
      },
    });
  }
}

const collectorsByRegistry = new WeakMap<Registry, WorkQueueCollectors>();

/**
 * Work-queue metrics in a prom-client registry, with controller-runtime's names and a `name`
 * label per queue: `workqueue_depth`, `workqueue_adds_total`, `workqueue_retries_total`,
 * `workqueue_queue_duration_seconds`, `workqueue_work_duration_seconds`,
 * `workqueue_unfinished_work_seconds`, `workqueue_longest_running_processor_seconds`.
 *
 * The metric families are registered once per registry, however many instances are made for
 * it (registering the same names there by other means makes the constructor throw). Every
 * queue's series exist, at zero, from the moment {@link forQueue} is called. The two
 * unfinished-work gauges are computed at scrape time from the queues themselves.
 */
export class PrometheusWorkQueueMetrics {
  readonly #collectors: WorkQueueCollectors;

  constructor(registry: Registry) {
    let collectors = collectorsByRegistry.get(registry);
    if (collectors === undefined) {
      collectors = new WorkQueueCollectors(registry);
      collectorsByRegistry.set(registry, collectors);
    }
    this.#collectors = collectors;
  }

  /**
   * The hooks for the queue called `name`. Names should be unique per registry: a second queue
   * of the same name adds to the same series, and its work in progress replaces the first's.
   */
  forQueue(name: string): WorkQueueMetrics {
    const collectors = this.#collectors;
    const labels = { name };
    const depth = collectors.depth.labels(labels);
    const adds = collectors.adds.labels(labels);
    const retries = collectors.retries.labels(labels);
    const queueDuration = collectors.queueDuration.labels(labels);
    const workDuration = collectors.workDuration.labels(labels);
    depth.set(0);
    adds.inc(0);
    retries.inc(0);
    collectors.queueDuration.zero(labels);
    collectors.workDuration.zero(labels);
    return {
      added: () => {
        adds.inc();
      },
      depth: (n) => {
        depth.set(n);
      },
      retried: () => {
        retries.inc();
      },
      queuedFor: (seconds) => {
        queueDuration.observe(seconds);
      },
      workedFor: (seconds) => {
        workDuration.observe(seconds);
      },
      trackUnfinishedWork: (read) => {
        collectors.unfinishedWork.set(name, read);
      },
    };
  }
}
