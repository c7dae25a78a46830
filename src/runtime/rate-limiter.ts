/**
 * Rate limiters for work-queue retries, after client-go's util/workqueue/default_rate_limiters.go.
 *
 * A rate limiter answers one question: after a failure, how long must a key wait before it is
 * processed again? It keeps what it needs per key (failure counts) until the key is forgotten,
 * so callers must call {@link RateLimiter.forget} once a key succeeds or is given up, or the
 * limiter tracks it forever.
 *
 * Delays are in milliseconds. Time comes from a {@link Timers} clock (default `performance.now()`).
 */
import { realTimers, type Timers } from './timers.ts';

/** Decides how long a key waits before it is retried after a failure. */
export interface RateLimiter<K> {
  /** The delay (ms) before `key` may be processed again; records one more failure of it. */
  when(key: K): number;
  /** Forgets the failures of `key` (its next delay starts from the base again). */
  forget(key: K): void;
  /** Failures recorded for `key` since it was last forgotten. */
  numRequeues(key: K): number;
}

export interface ExponentialFailureOptions {
  /** Delay after the first failure (ms, >= 0). */
  baseMs: number;
  /** Longest delay (ms, >= baseMs). */
  capMs: number;
}

/**
 * Per-key exponential backoff: the n-th failure since the key was last forgotten waits
 * `baseMs * 2^(n-1)`, never more than `capMs`. Keys do not affect each other.
 */
export class ExponentialFailureRateLimiter<K> implements RateLimiter<K> {
  readonly #baseMs: number;
  readonly #capMs: number;
  readonly #failures = new Map<K, number>();

  constructor(options: ExponentialFailureOptions) {
    if (!(options.baseMs >= 0) || !(options.capMs >= options.baseMs)) {
      throw new RangeError(`exponential backoff needs 0 <= baseMs <= capMs, got baseMs=${options.baseMs} capMs=${options.capMs}`);
    }
    this.#baseMs = options.baseMs;
    this.#capMs = options.capMs;
  }

  when(key: K): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    return Math.min(this.#baseMs * 2 ** failures, this.#capMs);
  }

  forget(key: K): void {
    this.#failures.delete(key);
  }

  numRequeues(key: K): number {
    return this.#failures.get(key) ?? 0;
  }
}

export interface TokenBucketOptions {
  /** Tokens added per second (> 0): the sustained rate of retries. */
  qps: number;
  /** Bucket size (an integer >= 1): how many retries may go at once; the bucket starts full. */
  burst: number;
  /** The clock the bucket refills by; default the process's. */
  timers?: Pick<Timers, 'now'>;
}

/**
 * An overall rate for all keys together (golang.org/x/time/rate's reservation semantics).
 *
 * The bucket holds up to `burst` tokens and refills at `qps` tokens per second. Every
 * {@link when} takes one token, borrowing against the future when the bucket is empty, and
 * returns how long until that token exists: the first `burst` calls at one instant wait 0,
 * then each further call waits another `1000 / qps` ms. Failure counts are not kept:
 * {@link numRequeues} is always 0 and {@link forget} does nothing.
 */
export class TokenBucketRateLimiter<K> implements RateLimiter<K> {
  readonly #tokensPerMs: number;
  readonly #burst: number;
  /** Tokens at #updatedAt; negative when reservations run ahead of the refill. */
  #tokens: number;
  readonly #clock: Pick<Timers, 'now'>;
  #updatedAt: number;

  constructor(options: TokenBucketOptions) {
    if (!(options.qps > 0) || !Number.isInteger(options.burst) || options.burst < 1) {
      throw new RangeError(`token bucket needs qps > 0 and an integer burst >= 1, got qps=${options.qps} burst=${options.burst}`);
    }
    this.#tokensPerMs = options.qps / 1000;
    this.#burst = options.burst;
    this.#tokens = options.burst;
    this.#clock = options.timers ?? realTimers;
    this.#updatedAt = this.#clock.now();
  }

  when(_key: K): number {
    this.#refill();
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : -this.#tokens / this.#tokensPerMs;
  }

  /**
   * Takes a token if one is there now and returns true; else takes nothing and returns false
   * (golang.org/x/time/rate's Allow): for work that is dropped rather than delayed.
   */
  allow(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  forget(_key: K): void {
    // Nothing is kept per key.
  }

  numRequeues(_key: K): number {
    return 0;
  }

  #refill(): void {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#updatedAt) * this.#tokensPerMs);
    this.#updatedAt = now;
  }
}

/**
 * Combines limiters: {@link when} asks every one of them (so each records the failure or takes
 * its token) and returns the longest delay; {@link numRequeues} is the largest count;
 * {@link forget} forgets the key in all of them.
 */
export class MaxOfRateLimiter<K> implements RateLimiter<K> {
  readonly #limiters: readonly RateLimiter<K>[];

  constructor(...limiters: RateLimiter<K>[]) {
    this.#limiters = limiters;
  }

  when(key: K): number {
    return this.#limiters.reduce((longest, limiter) => Math.max(longest, limiter.when(key)), 0);
  }

  forget(key: K): void {
    for (const limiter of this.#limiters) limiter.forget(key);
  }

  numRequeues(key: K): number {
    return this.#limiters.reduce((most, limiter) => Math.max(most, limiter.numRequeues(key)), 0);
  }
}

/** Settings of {@link defaultControllerRateLimiter}; each one has client-go's default but the cap. */
export interface ControllerRateLimiterOptions {
  /** First per-key delay; default 5 ms. */
  baseMs?: number;
  /** Longest per-key delay; default 60 s (client-go: 1000 s). */
  capMs?: number;
  /** Overall retry rate; default 10 per second. */
  qps?: number;
  /** Overall retry burst; default 100. */
  burst?: number;
  /** The clock of the overall bucket; default the process's. */
  timers?: Pick<Timers, 'now'>;
}

/** client-go's default controller rate limiter: max(exponential 5 ms .. cap 60 s, bucket 10 qps / burst 100), all configurable. */
export function defaultControllerRateLimiter<K>(options: ControllerRateLimiterOptions = {}): RateLimiter<K> {
  return new MaxOfRateLimiter<K>(
    new ExponentialFailureRateLimiter<K>({ baseMs: options.baseMs ?? 5, capMs: options.capMs ?? 60_000 }),
    new TokenBucketRateLimiter<K>({ qps: options.qps ?? 10, burst: options.burst ?? 100, ...(options.timers && { timers: options.timers }) }),
  );
}
