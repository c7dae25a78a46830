import { defaultControllerRateLimiter, type RateLimiter } from '../../../src/runtime/rate-limiter.ts';
import { WorkQueue, type WorkQueueOptions } from '../../../src/runtime/workqueue.ts';

const queues: WorkQueue[] = [];

function newQueue(options: Partial<WorkQueueOptions<string>> = {}): WorkQueue {
  const queue = new WorkQueue({ name: 'test', ...options });
  queues.push(queue);
  return queue;
}

/** Lets every pending promise continuation run. */
async function settle(): Promise<void> {
  await jest.advanceTimersByTimeAsync(0);
}

/** Tracks whether a promise has settled, and with what. */
function observe<T>(promise: Promise<T>): { settled: boolean; value: T | undefined } {
  const state: { settled: boolean; value: T | undefined } = { settled: false, value: undefined };
  void promise.then((value) => {
    state.settled = true;
    state.value = value;
  });
  return state;
}

/** Gets `count` keys, marking each done at once. */
async function drain(queue: WorkQueue, count: number): Promise<(string | undefined)[]> {
  const keys: (string | undefined)[] = [];
  for (let i = 0; i < count; i++) {
    const key = await queue.get();
    keys.push(key);
    if (key !== undefined) queue.done(key);
  }
  return keys;
}

/** Advances the clock 1 ms at a time until a key waits; returns the milliseconds that took. */
async function msUntilWaiting(queue: WorkQueue): Promise<number> {
  for (let elapsed = 0; elapsed <= 100_000; elapsed++) {
    if (queue.len() > 0) return elapsed;
    await jest.advanceTimersByTimeAsync(1);
  }
  throw new Error('no key became ready within 100 s');
}

/** A small seeded generator (mulberry32), so the concurrency test is reproducible. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

beforeEach(() => {
  jest.useFakeTimers();
});

afterEach(() => {
  for (const queue of queues.splice(0)) queue.shutDown();
  jest.useRealTimers();
});

describe('WorkQueue: adding and getting', () => {
  it('hands keys out in the order they were added', async () => {
    const queue = newQueue();
    for (const key of ['c', 'a', 'b']) queue.add(key);
    expect(await drain(queue, 3)).toEqual(['c', 'a', 'b']);
  });

  it('holds a key that is already waiting once', async () => {
    const queue = newQueue();
    queue.add('a');
    queue.add('b');
    queue.add('a');
    expect(queue.len()).toBe(2);
    expect(await drain(queue, 2)).toEqual(['a', 'b']);
    expect(queue.len()).toBe(0);
  });

  it('makes get() wait for a key, and serves waiting get()s in call order', async () => {
    const queue = newQueue();
    const first = observe(queue.get());
    const second = observe(queue.get());
    await settle();
    expect(first.settled).toBe(false);

    queue.add('a');
    queue.add('b');
    await settle();
    expect(first.value).toBe('a');
    expect(second.value).toBe('b');
    expect(queue.len()).toBe(0);
  });

  it('queues a key added during its processing again only after done(), and never hands it out twice', async () => {
    const queue = newQueue();
    queue.add('a');
    expect(await queue.get()).toBe('a');

    queue.add('a');
    queue.add('a');
    expect(queue.len()).toBe(0);
    const next = observe(queue.get());
    await settle();
    expect(next.settled).toBe(false);

    queue.done('a');
    await settle();
    expect(next.value).toBe('a');

    // It was added twice during processing, but is processed once more, not twice.
    queue.done('a');
    const after = observe(queue.get());
    await settle();
    expect(after.settled).toBe(false);
  });

  it('puts a key re-added during processing behind the keys that were waiting', async () => {
    const queue = newQueue();
    queue.add('a');
    expect(await queue.get()).toBe('a');
    queue.add('a');
    queue.add('b');
    queue.done('a');
    expect(await drain(queue, 2)).toEqual(['b', 'a']);
  });

  it('ignores done() for a key that is not being processed', async () => {
    const queue = newQueue();
    queue.add('a');
    queue.done('a');
    queue.done('never-added');
    expect(queue.len()).toBe(1);
    expect(await drain(queue, 1)).toEqual(['a']);
  });

  it('never processes one key concurrently under many workers, and processes every key after its last add', async () => {
    const queue = newQueue();
    const random = seededRandom(42);
    const keys = ['a', 'b', 'c', 'd', 'e'];
    const inFlight = new Set<string>();
    let concurrentHandOuts = 0;
    let clock = 0; // logical time: one tick per add and per start of processing
    const lastAdded = new Map<string, number>();
    const lastStarted = new Map<string, number>();
    let processed = 0;

    const worker = async (): Promise<void> => {
      for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
        if (inFlight.has(key)) concurrentHandOuts++;
        inFlight.add(key);
        lastStarted.set(key, ++clock);
        await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 20)));
        inFlight.delete(key);
        processed++;
        queue.done(key);
      }
    };
    const workers = Array.from({ length: 8 }, () => worker());

    for (let i = 0; i < 2000; i++) {
      const key = keys[Math.floor(random() * keys.length)] ?? 'a';
      queue.add(key);
      lastAdded.set(key, ++clock);
      if (random() < 0.3) await jest.advanceTimersByTimeAsync(Math.floor(random() * 5));
    }
    await jest.advanceTimersByTimeAsync(1000);

    expect(concurrentHandOuts).toBe(0);
    expect(processed).toBeGreaterThan(keys.length);
    for (const key of keys) expect(lastStarted.get(key)).toBeGreaterThan(lastAdded.get(key) ?? Infinity);
    expect(queue.len()).toBe(0);

    queue.shutDown();
    await Promise.all(workers);
  });
});

describe('WorkQueue: delays', () => {
  it('adds a delayed key when its time comes, earliest first', async () => {
    const queue = newQueue();
    queue.addAfter('slow', 300);
    queue.addAfter('fast', 100);
    queue.addAfter('middle', 200);

    await jest.advanceTimersByTimeAsync(99);
    expect(queue.len()).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(queue.len()).toBe(1);
    await jest.advanceTimersByTimeAsync(200);
    expect(await drain(queue, 3)).toEqual(['fast', 'middle', 'slow']);
  });

  it('keeps the order of scheduling among keys due at the same time', async () => {
    const queue = newQueue();
    for (const key of ['c', 'a', 'b']) queue.addAfter(key, 50);
    await jest.advanceTimersByTimeAsync(50);
    expect(await drain(queue, 3)).toEqual(['c', 'a', 'b']);
  });

  it('moves a delayed key earlier when it is added again with a shorter delay', async () => {
    const queue = newQueue();
    queue.addAfter('a', 1000);
    queue.addAfter('a', 100);
    expect(await msUntilWaiting(queue)).toBe(100);
    expect(await drain(queue, 1)).toEqual(['a']);

    // One schedule entry per key: the longer delay is gone, not still pending.
    await jest.advanceTimersByTimeAsync(1000);
    expect(queue.len()).toBe(0);
  });

  it('keeps the earlier time when a delayed key is added again with a longer delay', async () => {
    const queue = newQueue();
    queue.addAfter('a', 100);
    queue.addAfter('a', 1000);
    expect(await msUntilWaiting(queue)).toBe(100);
    expect(await drain(queue, 1)).toEqual(['a']);
    await jest.advanceTimersByTimeAsync(1000);
    expect(queue.len()).toBe(0);
  });

  it('adds at once when the delay is zero or negative', () => {
    const queue = newQueue();
    queue.addAfter('zero', 0);
    queue.addAfter('negative', -5);
    expect(queue.len()).toBe(2);
  });

  it('neither cancels nor is cancelled by a plain add of the same key', async () => {
    const queue = newQueue();
    queue.addAfter('a', 100);
    queue.add('a');
    expect(await drain(queue, 1)).toEqual(['a']);
    await jest.advanceTimersByTimeAsync(100);
    expect(await drain(queue, 1)).toEqual(['a']);
  });

  it('holds a delayed key once when it comes due while already waiting', async () => {
    const queue = newQueue();
    queue.add('a');
    queue.addAfter('a', 10);
    await jest.advanceTimersByTimeAsync(10);
    expect(queue.len()).toBe(1);
  });

  it('waits out delays longer than a single timer can (about 24.8 days)', async () => {
    const queue = newQueue();
    const day = 24 * 3600 * 1000;
    queue.addAfter('a', 30 * day);
    await jest.advanceTimersByTimeAsync(30 * day - 1);
    expect(queue.len()).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(queue.len()).toBe(1);
  });

  it('hands a due key straight to a waiting get()', async () => {
    const queue = newQueue();
    const next = observe(queue.get());
    queue.addAfter('a', 20);
    await jest.advanceTimersByTimeAsync(20);
    expect(next.value).toBe('a');
  });
});

describe('WorkQueue: rate-limited retries', () => {
  it('backs a failing key off 5, 10, 20 ms ... capped, and starts over after forget', async () => {
    const queue = newQueue({ rateLimiter: defaultControllerRateLimiter({ capMs: 40 }) });
    const waits: number[] = [];
    for (let failure = 0; failure < 5; failure++) {
      queue.addRateLimited('a');
      waits.push(await msUntilWaiting(queue));
      await drain(queue, 1);
    }
    expect(waits).toEqual([5, 10, 20, 40, 40]);
    expect(queue.numRequeues('a')).toBe(5);

    queue.forget('a');
    expect(queue.numRequeues('a')).toBe(0);
    queue.addRateLimited('a');
    expect(await msUntilWaiting(queue)).toBe(5);
  });

  it('uses the default controller rate limiter when none is given', async () => {
    const queue = newQueue();
    queue.addRateLimited('a');
    queue.addRateLimited('b');
    expect(await msUntilWaiting(queue)).toBe(5);
    expect(queue.numRequeues('a')).toBe(1);
  });

  it('asks the given rate limiter, and passes forget and numRequeues through', () => {
    const calls: string[] = [];
    const rateLimiter: RateLimiter<string> = {
      when: (key) => {
        calls.push(`when ${key}`);
        return 50;
      },
      forget: (key) => {
        calls.push(`forget ${key}`);
      },
      numRequeues: () => 3,
    };
    const queue = newQueue({ rateLimiter });
    queue.addRateLimited('a');
    queue.forget('a');
    expect(queue.numRequeues('a')).toBe(3);
    expect(calls).toEqual(['when a', 'forget a']);
  });
});

describe('WorkQueue: shutdown', () => {
  it('resolves waiting and later get()s with undefined', async () => {
    const queue = newQueue();
    const waiting = observe(queue.get());
    queue.shutDown();
    await settle();
    expect(waiting).toEqual({ settled: true, value: undefined });
    expect(await queue.get()).toBeUndefined();
    expect(queue.isShuttingDown).toBe(true);
  });

  it('stops handing out the keys that were waiting', async () => {
    const queue = newQueue();
    queue.add('a');
    queue.add('b');
    queue.shutDown();
    expect(queue.len()).toBe(0);
    expect(await queue.get()).toBeUndefined();
  });

  it('ignores adds of every kind afterwards, and drops delayed keys with their timer', async () => {
    const queue = newQueue();
    queue.addAfter('delayed', 100);
    expect(jest.getTimerCount()).toBe(1);
    queue.shutDown();
    expect(jest.getTimerCount()).toBe(0);

    queue.add('a');
    queue.addAfter('b', 0);
    queue.addAfter('c', 10);
    queue.addRateLimited('d');
    await jest.advanceTimersByTimeAsync(1000);
    expect(queue.len()).toBe(0);
    expect(queue.numRequeues('d')).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('does not queue again a key that was re-added during processing', async () => {
    const queue = newQueue();
    queue.add('a');
    expect(await queue.get()).toBe('a');
    queue.add('a');
    queue.shutDown();
    queue.done('a');
    expect(queue.len()).toBe(0);
    expect(await queue.get()).toBeUndefined();
  });

  it('shutDownWithDrain resolves once every key handed out is done', async () => {
    const queue = newQueue();
    queue.add('a');
    queue.add('b');
    queue.add('c');
    expect(await queue.get()).toBe('a');
    expect(await queue.get()).toBe('b');

    const drained = observe(queue.shutDownWithDrain());
    await settle();
    expect(queue.isShuttingDown).toBe(true);
    expect(await queue.get()).toBeUndefined(); // 'c' is not handed out any more
    expect(drained.settled).toBe(false);

    queue.done('a');
    await settle();
    expect(drained.settled).toBe(false);

    queue.done('b');
    await settle();
    expect(drained.settled).toBe(true);
  });

  it('shutDownWithDrain resolves at once when nothing is being processed', async () => {
    const queue = newQueue();
    queue.add('a');
    await expect(queue.shutDownWithDrain()).resolves.toBeUndefined();
  });
});
