/**
 * The simulation's only source of time and order: a virtual clock and a queue of scheduled
 * steps, run one at a time in (time, sequence) order. Every interleaving the simulation
 * explores comes from the seeded random delays that components choose when they schedule a
 * step; the same seed therefore gives the same order of steps, the same trace and the same
 * hash.
 *
 * After each step the loop lets the promise continuations it started run to completion
 * (microtasks drain before the next macrotask), so the operator's async code advances until it
 * waits on the next simulated request, timer or nothing at all.
 */
import { createHash } from 'node:crypto';
import { seededRng, type Rng } from '../../src/services/rng.ts';

interface Step {
  at: number;
  seq: number;
  label: string;
  run: () => void;
  cancelled: boolean;
}

/** A handle to cancel a scheduled step. */
export interface Scheduled {
  cancel(): void;
}

/** An epoch (2026-01-01T00:00:00Z) so that timestamps look real in traces and statuses. */
export const SIM_EPOCH = Date.UTC(2026, 0, 1);

/**
 * While an episode runs, the simulated code must take time and randomness from the loop: the
 * process's clock, Math.random and real timers throw (setImmediate stays: the loop drains with it).
 */
function forbidRealTimeAndRandomness(misuse: string[]): () => void {
  const saved = { random: Math.random, now: Date.now, setTimeout: globalThis.setTimeout, setInterval: globalThis.setInterval };
  const forbidden = (what: string) => (): never => {
    const message = `simulated code used ${what}: take time and randomness from the simulation instead`;
    misuse.push(`${message}\n${new Error().stack ?? ''}`);
    throw new Error(message);
  };
  Math.random = forbidden('Math.random');
  Date.now = forbidden('Date.now');
  globalThis.setTimeout = forbidden('setTimeout') as unknown as typeof setTimeout;
  globalThis.setInterval = forbidden('setInterval');
  return () => {
    Math.random = saved.random;
    Date.now = saved.now;
    globalThis.setTimeout = saved.setTimeout;
    globalThis.setInterval = saved.setInterval;
  };
}

const drain = (): Promise<void> =>
  new Promise((resolve) => {
    setImmediate(resolve);
  });

export class EventLoop {
  readonly rng: Rng;
  /** Calls of the process's clock, Math.random or real timers made while the episode ran. */
  readonly misuse: string[] = [];
  #now = SIM_EPOCH;
  #seq = 0;
  #steps: Step[] = [];
  readonly #trace = createHash('sha256');
  readonly #recent: string[] = [];
  #stepsRun = 0;

  constructor(
    readonly seed: number,
    /** How many trace lines to keep for a failure report. */
    private readonly keepLines = 60,
  ) {
    this.rng = seededRng(seed);
  }

  now(): number {
    return this.#now;
  }

  get stepsRun(): number {
    return this.#stepsRun;
  }

  /** A uniformly chosen number in [min, max). */
  uniform(min: number, max: number): number {
    return min + this.rng.next() * (max - min);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.rng.next() < p;
  }

  /** A uniformly chosen element. */
  pick<T>(list: readonly T[]): T {
    const item = list[Math.floor(this.rng.next() * list.length)];
    if (item === undefined) throw new Error('pick() from an empty list');
    return item;
  }

  /** Runs `run` `delayMs` (>= 0) from now; `label` names it in the trace. */
  schedule(delayMs: number, label: string, run: () => void): Scheduled {
    const step: Step = { at: this.#now + Math.max(0, Math.round(delayMs)), seq: this.#seq++, label, run, cancelled: false };
    this.#insert(step);
    return {
      cancel: () => {
        step.cancelled = true;
      },
    };
  }

  /** Adds a line to the trace (hashed; the last lines are kept for a report). */
  note(line: string): void {
    const text = `${String(this.#now - SIM_EPOCH).padStart(8)} ${line}`;
    this.#trace.update(text).update('\n');
    this.#recent.push(text);
    if (this.#recent.length > this.keepLines) this.#recent.shift();
  }

  /** The steps still to run (cancelled ones excluded). */
  pending(): number {
    return this.#steps.filter((step) => !step.cancelled).length;
  }

  /**
   * Runs steps in order until none is left, the clock passes `until`, `maxSteps` ran, or
   * `stop()` says so after a step. Checks run after every step (and its continuations).
   */
  async run(options: { until: number; maxSteps: number; afterStep?: () => void; stop?: () => boolean }): Promise<void> {
    const restore = forbidRealTimeAndRandomness(this.misuse);
    try {
      await this.#run(options);
    } finally {
      restore();
    }
  }

  async #run(options: { until: number; maxSteps: number; afterStep?: () => void; stop?: () => boolean }): Promise<void> {
    while (this.#steps.length > 0 && this.#stepsRun < options.maxSteps) {
      const step = this.#steps[0];
      if (step === undefined || step.at > options.until) break;
      this.#steps.shift();
      if (step.cancelled) continue;
      this.#now = step.at;
      this.#stepsRun++;
      if (step.label !== '') this.note(step.label);
      step.run();
      await drain();
      options.afterStep?.();
      if (options.stop?.() === true) break;
    }
    if (this.#now < options.until && (this.#steps.length === 0 || (this.#steps[0]?.at ?? Infinity) > options.until)) this.#now = options.until;
  }

  hash(): string {
    return this.#trace.copy().digest('hex').slice(0, 16);
  }

  recentTrace(): string[] {
    return [...this.#recent];
  }

  #insert(step: Step): void {
    // Binary search for the first step that runs after this one; steps are few (hundreds).
    let lo = 0;
    let hi = this.#steps.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const other = this.#steps[mid];
      if (other !== undefined && (other.at < step.at || (other.at === step.at && other.seq < step.seq))) lo = mid + 1;
      else hi = mid;
    }
    this.#steps.splice(lo, 0, step);
  }
}
