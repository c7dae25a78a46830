/**
 * Time as the domain services see it: a {@link Clock} is passed in, never read from a global,
 * so every decision that depends on "now" is reproducible in tests.
 */

/** A source of the current time. */
export interface Clock {
  /** The current time in milliseconds since the Unix epoch (UTC). */
  now(): number;
}

/** The operator's clock: the machine's wall-clock time (`Date.now()`). */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock that shows whatever time it was last set to; for tests and benchmarks. */
export class ManualClock implements Clock {
  #now: number;

  constructor(startMs: number) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  set(ms: number): void {
    this.#now = ms;
  }

  advance(ms: number): void {
    this.#now += ms;
  }
}
