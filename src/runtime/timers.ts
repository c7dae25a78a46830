/**
 * Time as the runtime sees it: a monotonic clock and one-shot timers, passed in rather than
 * read from globals, so the work queue, its rate limiters and the controller run unchanged on
 * a virtual clock (the deterministic simulation in test/sim/ drives them that way).
 */

/** What {@link Timers.setTimeout} returns; only ever handed back to {@link Timers.clearTimeout}. */
export type TimerHandle = unknown;

/** A monotonic clock in milliseconds and one-shot timers on it. */
export interface Timers {
  /** Milliseconds on a monotonic clock (arbitrary origin; only differences mean something). */
  now(): number;
  /**
   * Calls `callback` once, `delayMs` (>= 1) from now, unless cleared first.
   */
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  /** Cancels a timer that has not fired; a handle that fired or was cleared is ignored. */
  clearTimeout(handle: TimerHandle): void;
}

/** The process's clock (`performance.now()`) and Node's timers. */
export const realTimers: Timers = {
  now: () => performance.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => {
    clearTimeout(handle as NodeJS.Timeout);
  },
};
