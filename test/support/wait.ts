/**
 * Polling with a deadline and a failure message that says what was awaited and what was last
 * seen, so a timed-out test explains itself.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';

export interface WaitOptions {
  /** What is awaited, in words: "pod p1 to be Running". */
  what: string;
  timeoutMs?: number;
  intervalMs?: number;
}

/** Thrown by a probe to end the wait at once (the awaited thing can no longer happen). */
export class WaitAborted extends Error {
  override name = 'WaitAborted';
}

/** A probe's verdict: `done` ends the wait with `value`; otherwise `observed` is reported on timeout. */
export type Probe<T> = () => Promise<{ done: true; value: T } | { done: false; observed: unknown }>;

/**
 * Calls `probe` until it reports done, and returns its value. A probe that throws counts as not
 * done (its error is the observation), except {@link WaitAborted}, which ends the wait. On
 * timeout, throws an Error naming `what`, the time waited and the last observation.
 */
export async function waitFor<T>(probe: Probe<T>, options: WaitOptions): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const verdict = await probe();
      if (verdict.done) return verdict.value;
      last = verdict.observed;
    } catch (error) {
      if (error instanceof WaitAborted) throw error;
      last = error;
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `timed out after ${(timeoutMs / 1000).toFixed(1)} s waiting for ${options.what}; last observed: ${describe(last)}`,
      );
    }
    await sleep(intervalMs);
  }
}

/**
 * Waits until `read` returns a value that satisfies `accept`, and returns that value. The last
 * value read (or error) appears in the timeout message.
 */
export async function waitUntil<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  options: WaitOptions,
): Promise<T> {
  return waitFor(async () => {
    const value = await read();
    return accept(value) ? { done: true, value } : { done: false, observed: value };
  }, options);
}

function describe(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  return inspect(value, { depth: 6, breakLength: Infinity, maxStringLength: 2000 });
}
