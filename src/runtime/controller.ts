/**
 * A controller: turns cache events into requests on one work queue and runs a reconciler on
 * them with N workers.
 *
 * Guarantees (controller-runtime's): one request is never reconciled concurrently with itself;
 * events for the same object that arrive while it waits collapse into one reconcile, and those
 * that arrive while it is being reconciled cause exactly one more; every object in the primary
 * cache is reconciled at least once after start; the reconciler's outcome decides what happens
 * next (see {@link Reconciler}). A reconciler that throws never stops a worker.
 */
import { randomUUID } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { ConflictError } from './api-error.ts';
import type { ControllerMetrics } from './controller-metrics.ts';
import { objectKey, type EventHandler, type EventSource } from './informer.ts';
import { errorMeta, type Logger } from './logger.ts';
import { ExponentialFailureRateLimiter, type RateLimiter } from './rate-limiter.ts';
import { requestFromKey, requestKey, TerminalError, type Reconciler, type Request } from './reconciler.ts';
import { realTimers, type Timers } from './timers.ts';
import { WorkQueue } from './workqueue.ts';
import type { WorkQueueMetrics } from './workqueue-metrics.ts';

/** A secondary type whose changes wake primary objects (e.g. a Pod wakes its owning group). */
export interface SecondaryWatch<S extends KubernetesObject> {
  informer: EventSource<S>;
  /** The primary requests a change of `object` concerns; may be none. */
  map(object: S): readonly Request[];
}

export interface ControllerOptions<P extends KubernetesObject> {
  /** Names the controller in logs and metrics (`controller` label). */
  name: string;
  reconciler: Reconciler;
  /** Changes of these objects request their own reconcile. */
  primary: EventSource<P>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- heterogeneous secondary types
  secondaries?: readonly SecondaryWatch<any>[];
  /** Concurrent reconciles; default 4. */
  workers?: number;
  /** Backoff of failed requests; default defaultControllerRateLimiter()'s (5 ms doubling to 60 s, 10 qps overall). */
  rateLimiter?: RateLimiter<string>;
  logger: Logger;
  metrics: ControllerMetrics;
  queueMetrics?: WorkQueueMetrics;
  /** The clock and timers of the work queue and of reconcile durations; default the process's. */
  timers?: Timers;
}

export class Controller<P extends KubernetesObject = KubernetesObject> {
  private readonly queue: WorkQueue;
  /** Backoff of requests whose reconcile met a conflict: 5 ms doubling to 1 s, per key. */
  private readonly conflicts = new ExponentialFailureRateLimiter<string>({ baseMs: 5, capMs: 1_000 });
  private readonly log: Logger;
  private readonly timers: Timers;
  private workers: Promise<void>[] = [];

  constructor(private readonly options: ControllerOptions<P>) {
    this.timers = options.timers ?? realTimers;
    this.queue = new WorkQueue({
      name: options.name,
      timers: this.timers,
      ...(options.rateLimiter && { rateLimiter: options.rateLimiter }),
      ...(options.queueMetrics && { metrics: options.queueMetrics }),
    });
    this.log = options.logger.child({ controller: options.name });
  }

  get name(): string {
    return this.options.name;
  }

  /**
   * Connects the caches to the queue (every cached primary object is queued once) and starts
   * the workers. The caches should have synced; the controller does not wait for them.
   */
  start(): void {
    if (this.workers.length > 0) throw new Error(`controller ${this.name} already started`);
    const enqueue = (object: KubernetesObject): void => {
      this.queue.add(objectKey(object));
    };
    this.options.primary.addEventHandler({ onAdd: enqueue, onUpdate: (_old, object) => { enqueue(object); }, onDelete: enqueue });
    for (const secondary of this.options.secondaries ?? []) {
      secondary.informer.addEventHandler(this.mapped(secondary));
    }
    const count = this.options.workers ?? 4;
    this.workers = Array.from({ length: count }, () => this.work());
    this.log.info('controller started', { workers: count });
  }

  /**
   * Stops intake and waits until the reconciles in flight have finished (however long they
   * take: callers bound it). Queued requests are dropped.
   */
  async stop(): Promise<void> {
    await this.queue.shutDownWithDrain();
    await Promise.all(this.workers);
    this.log.info('controller stopped');
  }

  private mapped<S extends KubernetesObject>(secondary: SecondaryWatch<S>): EventHandler<S> {
    const enqueue = (object: S): void => {
      for (const request of secondary.map(object)) this.queue.add(requestKey(request));
    };
    return {
      onAdd: enqueue,
      onUpdate: (old, object) => {
        enqueue(old);
        enqueue(object);
      },
      onDelete: enqueue,
    };
  }

  private async work(): Promise<void> {
    const metrics = this.options.metrics;
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      metrics.workerStarted();
      try {
        await this.reconcile(key);
      } finally {
        metrics.workerStopped();
        this.queue.done(key);
      }
    }
  }

  private async reconcile(key: string): Promise<void> {
    const request = requestFromKey(key);
    const metrics = this.options.metrics;
    const log = this.log.child({ namespace: request.namespace, name: request.name, reconcileID: randomUUID() });
    const started = this.timers.now();
    const seconds = (): number => (this.timers.now() - started) / 1000;
    try {
      const result = await this.options.reconciler.reconcile(request, { log });
      this.queue.forget(key);
      this.conflicts.forget(key);
      if (result.requeueAfter !== undefined && result.requeueAfter > 0) {
        this.queue.addAfter(key, result.requeueAfter);
        metrics.reconciled('requeue_after', seconds());
      } else {
        metrics.reconciled('success', seconds());
      }
    } catch (error) {
      if (error instanceof ConflictError) {
        // A conflict says the state moved (often: our own write, not yet in the cache). Retry
        // soon on fresher state, with a backoff of this key's own: the overall token bucket of
        // error retries must not hold back every group after a burst of ordinary conflicts.
        this.queue.addAfter(key, this.conflicts.when(key));
        metrics.reconciled('requeue', seconds());
        log.debug('state moved during reconcile; requeued', { reason: error.message });
      } else if (error instanceof TerminalError) {
        this.queue.forget(key);
        metrics.reconciled('error', seconds());
        metrics.failed(true);
        log.error('reconcile failed; not retrying until the object changes', errorMeta(error));
      } else {
        this.queue.addRateLimited(key);
        metrics.reconciled('error', seconds());
        metrics.failed(false);
        if (!(error instanceof Error)) metrics.panicked();
        log.error('reconcile failed; retrying with backoff', { ...errorMeta(error), retries: this.queue.numRequeues(key) });
      }
    }
  }
}
