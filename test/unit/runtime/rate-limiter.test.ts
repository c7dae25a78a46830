import {
  defaultControllerRateLimiter,
  ExponentialFailureRateLimiter,
  MaxOfRateLimiter,
  type RateLimiter,
  TokenBucketRateLimiter,
} from '../../../src/runtime/rate-limiter.ts';

/** Calls when(key) `times` times and returns the delays. */
function delays<K>(limiter: RateLimiter<K>, key: K, times: number): number[] {
  return Array.from({ length: times }, () => limiter.when(key));
}

describe('ExponentialFailureRateLimiter', () => {
  it('doubles the delay with every failure, from the base up to the cap', () => {
    const limiter = new ExponentialFailureRateLimiter<string>({ baseMs: 5, capMs: 100 });
    expect(delays(limiter, 'a', 7)).toEqual([5, 10, 20, 40, 80, 100, 100]);
  });

  it('counts failures per key', () => {
    const limiter = new ExponentialFailureRateLimiter<string>({ baseMs: 5, capMs: 1000 });
    delays(limiter, 'a', 3);
    expect(limiter.when('b')).toBe(5);
    expect(limiter.numRequeues('a')).toBe(3);
    expect(limiter.numRequeues('b')).toBe(1);
    expect(limiter.numRequeues('never-failed')).toBe(0);
  });

  it('starts from the base again after forget', () => {
    const limiter = new ExponentialFailureRateLimiter<string>({ baseMs: 5, capMs: 1000 });
    delays(limiter, 'a', 4);
    limiter.forget('a');
    expect(limiter.numRequeues('a')).toBe(0);
    expect(delays(limiter, 'a', 2)).toEqual([5, 10]);
  });

  it('stays at the cap however many failures there were', () => {
    const limiter = new ExponentialFailureRateLimiter<string>({ baseMs: 5, capMs: 60_000 });
    const all = delays(limiter, 'a', 2000);
    expect(all.at(-1)).toBe(60_000);
    expect(all.every((delay) => Number.isFinite(delay) && delay <= 60_000)).toBe(true);
  });

  it('rejects a negative base or a cap below the base', () => {
    expect(() => new ExponentialFailureRateLimiter({ baseMs: -1, capMs: 10 })).toThrow(RangeError);
    expect(() => new ExponentialFailureRateLimiter({ baseMs: 10, capMs: 5 })).toThrow(RangeError);
    expect(() => new ExponentialFailureRateLimiter({ baseMs: Number.NaN, capMs: 5 })).toThrow(RangeError);
  });
});

describe('TokenBucketRateLimiter', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('lets a burst through at once, then spaces calls 1/qps apart', () => {
    const limiter = new TokenBucketRateLimiter<string>({ qps: 10, burst: 3 });
    expect(delays(limiter, 'a', 6)).toEqual([0, 0, 0, 100, 200, 300]);
  });

  it('is shared by all keys', () => {
    const limiter = new TokenBucketRateLimiter<string>({ qps: 10, burst: 2 });
    expect([limiter.when('a'), limiter.when('b'), limiter.when('c'), limiter.when('d')]).toEqual([0, 0, 100, 200]);
  });

  it('refills at qps, never beyond the burst', () => {
    const limiter = new TokenBucketRateLimiter<string>({ qps: 10, burst: 3 });
    delays(limiter, 'a', 3);
    jest.advanceTimersByTime(50);
    expect(limiter.when('a')).toBeCloseTo(50, 6);

    // Long idle: the bucket is full again, but holds only `burst` tokens.
    jest.advanceTimersByTime(60_000);
    expect(delays(limiter, 'a', 4).map((delay) => Math.round(delay))).toEqual([0, 0, 0, 100]);
  });

  it('allows while a token is there and takes nothing when it refuses', () => {
    const limiter = new TokenBucketRateLimiter<string>({ qps: 10, burst: 2 });
    expect([limiter.allow(), limiter.allow(), limiter.allow(), limiter.allow()]).toEqual([true, true, false, false]);
    jest.advanceTimersByTime(100);
    expect([limiter.allow(), limiter.allow()]).toEqual([true, false]);
    // The refusals borrowed nothing: after one more refill interval a reservation waits 0.
    jest.advanceTimersByTime(100);
    expect(limiter.when('a')).toBe(0);
  });

  it('pays back reservations before it lets calls through again', () => {
    const limiter = new TokenBucketRateLimiter<string>({ qps: 10, burst: 1 });
    expect(delays(limiter, 'a', 3)).toEqual([0, 100, 200]);
    jest.advanceTimersByTime(200);
    // The two borrowed tokens were refilled in those 200 ms; the bucket is empty, not full.
    expect(limiter.when('a')).toBeCloseTo(100, 6);
  });

  it('keeps no failures', () => {
    const limiter = new TokenBucketRateLimiter<string>({ qps: 10, burst: 1 });
    delays(limiter, 'a', 3);
    expect(limiter.numRequeues('a')).toBe(0);
    limiter.forget('a');
    expect(limiter.when('a')).toBeCloseTo(300, 6);
  });

  it('rejects a rate or burst that lets nothing through', () => {
    expect(() => new TokenBucketRateLimiter({ qps: 0, burst: 1 })).toThrow(RangeError);
    expect(() => new TokenBucketRateLimiter({ qps: 1, burst: 0 })).toThrow(RangeError);
    expect(() => new TokenBucketRateLimiter({ qps: 1, burst: 1.5 })).toThrow(RangeError);
  });
});

/** A limiter with a fixed delay that records what it was asked. */
class FixedRateLimiter implements RateLimiter<string> {
  readonly asked: string[] = [];
  readonly forgotten: string[] = [];
  readonly #delayMs: number;
  readonly #requeues: number;

  constructor(delayMs: number, requeues: number) {
    this.#delayMs = delayMs;
    this.#requeues = requeues;
  }

  when(key: string): number {
    this.asked.push(key);
    return this.#delayMs;
  }

  forget(key: string): void {
    this.forgotten.push(key);
  }

  numRequeues(): number {
    return this.#requeues;
  }
}

describe('MaxOfRateLimiter', () => {
  it('asks every limiter and returns the longest delay', () => {
    const short = new FixedRateLimiter(10, 0);
    const long = new FixedRateLimiter(300, 0);
    const limiter = new MaxOfRateLimiter(short, long, new FixedRateLimiter(20, 0));
    expect(limiter.when('a')).toBe(300);
    expect(short.asked).toEqual(['a']);
    expect(long.asked).toEqual(['a']);
  });

  it('reports the largest failure count and forgets in all limiters', () => {
    const first = new FixedRateLimiter(0, 2);
    const second = new FixedRateLimiter(0, 7);
    const limiter = new MaxOfRateLimiter(first, second);
    expect(limiter.numRequeues('a')).toBe(7);
    limiter.forget('a');
    expect(first.forgotten).toEqual(['a']);
    expect(second.forgotten).toEqual(['a']);
  });
});

describe('defaultControllerRateLimiter', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('backs a key off exponentially from 5 ms, capped at 60 s', () => {
    const limiter = defaultControllerRateLimiter<string>();
    const all = delays(limiter, 'a', 16);
    expect(all.slice(0, 5)).toEqual([5, 10, 20, 40, 80]);
    expect(all.at(-1)).toBe(60_000);
    expect(limiter.numRequeues('a')).toBe(16);
    limiter.forget('a');
    expect(limiter.when('a')).toBe(5);
  });

  it('holds all keys together to 10 retries per second after a burst of 100', () => {
    const limiter = defaultControllerRateLimiter<string>();
    const firstFailures = Array.from({ length: 102 }, (_, i) => limiter.when(`key-${i}`));
    expect(firstFailures.slice(0, 100).every((delay) => delay === 5)).toBe(true);
    expect(firstFailures.slice(100)).toEqual([100, 200]);
  });

  it('takes every setting from its options', () => {
    const backoff = defaultControllerRateLimiter<string>({ baseMs: 1000, capMs: 3000 });
    expect(delays(backoff, 'a', 4)).toEqual([1000, 2000, 3000, 3000]);

    const bucket = defaultControllerRateLimiter<string>({ baseMs: 1, qps: 1, burst: 2 });
    expect([bucket.when('a'), bucket.when('b'), bucket.when('c')]).toEqual([1, 1, 1000]);
  });
});
