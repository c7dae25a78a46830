/**
 * The work queue between event handlers and reconcile workers, with client-go's semantics
 * (util/workqueue: queue.go, delaying_queue.go, rate_limiting_queue.go).
 *
 * A key is waiting (get() hands waiting keys out in the order they became ready), processing
 * (handed out, done() not yet called), or absent. Adding a waiting key does nothing, so a
 * burst of events for one object collapses into one reconcile. Adding a processing key marks
 * it dirty: it waits again once done() is called for it. Hence one key is never handed to two
 * workers at once, and no event that arrives during a reconcile is lost. Delayed adds
 * (addAfter, addRateLimited) sit in a separate schedule and become plain adds when their time
 * comes; they neither cancel nor are cancelled by other adds.
 *
 * Keys are compared as Map keys (SameValueZero): use strings or other primitives, such as
 * requestKey(request); two equal-looking objects are two keys.
 *
 * Unlike client-go, shutting down drops the keys that wait: get() resolves undefined at once,
 * so workers stop after the reconcile they are in, not after the whole backlog.
 *
 * Time comes from the {@link Timers} given (default: `performance.now()` and Node's timers) and
 * delays run on one timer, armed only while delayed keys are pending; shutDown() clears it, so
 * a queue that was shut down never keeps the process alive.
 */
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiter.ts';
import { realTimers, type TimerHandle, type Timers } from './timers.ts';
import { noWorkQueueMetrics, type UnfinishedWork, type WorkQueueMetrics } from './workqueue-metrics.ts';

export interface WorkQueueOptions<K> {
  /** Identifies the queue (e.g. its controller's name) in metrics and logs. */
  name: string;
  /** Decides the delays of addRateLimited(); default defaultControllerRateLimiter(). */
  rateLimiter?: RateLimiter<K>;
  /** Where the queue reports; default nowhere. */
  metrics?: WorkQueueMetrics;
  /** The clock and timers of delays and metrics; default the process's. */
  timers?: Timers;
}

/** The longest delay setTimeout honours (2^31 - 1 ms, about 24.8 days); longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A work queue: dedupes keys, never hands one key to two workers at once, delays and rate
 * limits retries. All methods are synchronous except get() and shutDownWithDrain(); it is
 * meant for one event loop (no locking).
 */
export class WorkQueue<K = string> {
  readonly name: string;
  readonly #rateLimiter: RateLimiter<K>;
  readonly #metrics: WorkQueueMetrics;
  readonly #timers: Timers;
  /** Keys that need processing, with the time each became dirty; each is waiting or processing. */
  readonly #dirty = new Map<K, number>();
  /** Keys handed out and not yet done, with the time each was handed out (oldest first). */
  readonly #processing = new Map<K, number>();
  /** Dirty keys that are not processing, in the order they became ready. */
  readonly #waiting = new Fifo<K>();
  /** get() calls waiting for a key; never non-empty while #waiting is. */
  readonly #getters = new Fifo<(key: K | undefined) => void>();
  readonly #delayed = new DelaySchedule<K>();
  /** The timer that moves due keys from #delayed to #waiting, and when it fires. */
  #timer: TimerHandle;
  #timerDueAt = Infinity;
  /** shutDownWithDrain() calls waiting for #processing to empty. */
  readonly #drainers: (() => void)[] = [];
  #shuttingDown = false;

  constructor(options: WorkQueueOptions<K>) {
    this.name = options.name;
    this.#timers = options.timers ?? realTimers;
    this.#rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter<K>({ timers: this.#timers });
    this.#metrics = options.metrics ?? noWorkQueueMetrics;
    this.#metrics.trackUnfinishedWork(() => this.#unfinishedWork());
  }

  /**
   * Marks key as needing processing. A key already waiting is held once; a key being
   * processed is queued again when done() is called for it, never handed out concurrently.
   * Ignored after shutdown.
   */
  add(key: K): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.set(key, this.#timers.now());
    this.#metrics.added();
    if (!this.#processing.has(key)) this.#makeReady(key);
    this.#metrics.depth(this.#dirty.size);
  }

  /**
   * add(key) after delayMs (<= 0: now). Several pending delays for one key: the earliest wins.
   * Ignored after shutdown.
   */
  addAfter(key: K, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (!(delayMs > 0)) {
      this.add(key);
      return;
    }
    this.#metrics.retried();
    this.#delayed.schedule(key, this.#timers.now() + delayMs);
    this.#armTimer();
  }

  /** addAfter(key, rateLimiter.when(key)): records a failure of key. Ignored after shutdown. */
  addRateLimited(key: K): void {
    if (this.#shuttingDown) return;
    this.addAfter(key, this.#rateLimiter.when(key));
  }

  /** Forgets the failures of key in the rate limiter (call it when key succeeds or is given up). */
  forget(key: K): void {
    this.#rateLimiter.forget(key);
  }

  /** Failures the rate limiter has recorded for key since it was last forgotten. */
  numRequeues(key: K): number {
    return this.#rateLimiter.numRequeues(key);
  }

  /**
   * Resolves with the next key to process (FIFO by readiness), waiting while the queue is
   * empty; resolves undefined once shutDown() was called (queued keys are not handed out any
   * more). The key counts as processing from the moment the promise resolves; the caller must
   * call done(key) when finished with it.
   */
  get(): Promise<K | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    if (this.#waiting.length > 0) return Promise.resolve(this.#handOut(this.#waiting.shift()));
    return new Promise((resolve) => {
      this.#getters.push(resolve);
    });
  }

  /**
   * Marks the end of processing of key (must follow every get()). If key was added meanwhile,
   * it waits again from now on. A key that is not processing is ignored.
   */
  done(key: K): void {
    const handedOutAt = this.#processing.get(key);
    if (handedOutAt === undefined) return;
    this.#processing.delete(key);
    this.#metrics.workedFor((this.#timers.now() - handedOutAt) / 1000);
    if (this.#dirty.has(key)) this.#makeReady(key);
    if (this.#processing.size === 0) {
      for (const drained of this.#drainers.splice(0)) drained();
    }
  }

  /** Keys waiting (not counting delayed ones or those in processing). */
  len(): number {
    return this.#waiting.length;
  }

  /** Stops intake: later add()s are ignored, pending get()s resolve undefined, delayed keys are dropped. */
  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerDueAt = Infinity;
    this.#delayed.clear();
    this.#waiting.clear();
    this.#dirty.clear();
    this.#metrics.depth(0);
    while (this.#getters.length > 0) this.#getters.shift()(undefined);
  }

  /** shutDown(), then resolves once every key handed out by get() is done(). */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#drainers.push(resolve);
    });
  }

  get isShuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Gives a dirty, not processing key to the first waiting get(), or puts it in line. */
  #makeReady(key: K): void {
    if (this.#getters.length > 0) this.#getters.shift()(this.#handOut(key));
    else this.#waiting.push(key);
  }

  /** Moves a ready key from dirty to processing; returns it. */
  #handOut(key: K): K {
    const now = this.#timers.now();
    const dirtySince = this.#dirty.get(key) ?? now;
    this.#dirty.delete(key);
    this.#processing.set(key, now);
    this.#metrics.queuedFor((now - dirtySince) / 1000);
    this.#metrics.depth(this.#dirty.size);
    return key;
  }

  /** Makes sure the timer fires no later than the earliest delayed key is due. */
  #armTimer(): void {
    const dueAt = this.#delayed.nextDueAt();
    if (dueAt >= this.#timerDueAt) return;
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    const now = this.#timers.now();
    const delayMs = Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(dueAt - now)));
    this.#timerDueAt = now + delayMs;
    this.#timer = this.#timers.setTimeout(() => {
      this.#onTimer();
    }, delayMs);
  }

  /** Adds every delayed key that is due, then re-arms for the next one. */
  #onTimer(): void {
    this.#timer = undefined;
    this.#timerDueAt = Infinity;
    const now = this.#timers.now();
    while (this.#delayed.nextDueAt() <= now) this.add(this.#delayed.pop());
    this.#armTimer();
  }

  #unfinishedWork(): UnfinishedWork {
    const now = this.#timers.now();
    let totalMs = 0;
    let longestMs = 0;
    for (const handedOutAt of this.#processing.values()) {
      totalMs += now - handedOutAt;
      longestMs = Math.max(longestMs, now - handedOutAt);
    }
    return { totalSeconds: totalMs / 1000, longestSeconds: longestMs / 1000 };
  }
}

/** A first-in first-out list with amortised O(1) push and shift. */
class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** Removes and returns the oldest item; the list must not be empty. */
  shift(): T {
    const item = this.#items[this.#head] as T;
    this.#items[this.#head] = undefined;
    this.#head += 1;
    if (this.#head === this.#items.length) {
      this.clear();
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  clear(): void {
    this.#items.length = 0;
    this.#head = 0;
  }
}

interface DelayedKey<K> {
  readonly key: K;
  dueAt: number;
  /** Tie-breaker: among keys due at the same time, the one scheduled first comes first. */
  order: number;
  /** Position in the heap. */
  index: number;
}

function dueBefore<K>(a: DelayedKey<K>, b: DelayedKey<K>): boolean {
  return a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.order < b.order);
}

/**
 * Keys with the time each is due, at most one entry per key: a binary min-heap by due time
 * plus an index by key, so schedule() and pop() are O(log n).
 */
class DelaySchedule<K> {
  readonly #heap: DelayedKey<K>[] = [];
  readonly #byKey = new Map<K, DelayedKey<K>>();
  #scheduled = 0;

  /** Schedules key at dueAt; a key already scheduled keeps the earlier of the two times. */
  schedule(key: K, dueAt: number): void {
    const existing = this.#byKey.get(key);
    if (existing !== undefined) {
      if (dueAt < existing.dueAt) {
        existing.dueAt = dueAt;
        existing.order = this.#scheduled++;
        this.#siftUp(existing.index);
      }
      return;
    }
    const entry: DelayedKey<K> = { key, dueAt, order: this.#scheduled++, index: this.#heap.length };
    this.#heap.push(entry);
    this.#byKey.set(key, entry);
    this.#siftUp(entry.index);
  }

  /** When the earliest key is due; Infinity when none is scheduled. */
  nextDueAt(): number {
    return this.#heap[0]?.dueAt ?? Infinity;
  }

  /** Removes and returns the earliest key; the schedule must not be empty. */
  pop(): K {
    const first = this.#heap[0];
    const last = this.#heap.pop();
    if (first === undefined || last === undefined) throw new Error('pop() on an empty delay schedule');
    if (last !== first) {
      this.#place(last, 0);
      this.#siftDown(0);
    }
    this.#byKey.delete(first.key);
    return first.key;
  }

  clear(): void {
    this.#heap.length = 0;
    this.#byKey.clear();
  }

  #place(entry: DelayedKey<K>, index: number): void {
    this.#heap[index] = entry;
    entry.index = index;
  }

  #siftUp(index: number): void {
    const heap = this.#heap;
    const entry = heap[index];
    if (entry === undefined) return;
    let i = index;
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = heap[parentIndex];
      if (parent === undefined || !dueBefore(entry, parent)) break;
      this.#place(parent, i);
      i = parentIndex;
    }
    this.#place(entry, i);
  }

  #siftDown(index: number): void {
    const heap = this.#heap;
    const entry = heap[index];
    if (entry === undefined) return;
    let i = index;
    for (;;) {
      let child = 2 * i + 1;
      let childEntry = heap[child];
      if (childEntry === undefined) break;
      const rightEntry = heap[child + 1];
      if (rightEntry !== undefined && dueBefore(rightEntry, childEntry)) {
        child += 1;
        childEntry = rightEntry;
      }
      if (!dueBefore(childEntry, entry)) break;
      this.#place(childEntry, i);
      i = child;
    }
    this.#place(entry, i);
  }
}
