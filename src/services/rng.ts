/**
 * Randomness as the domain services see it: an {@link Rng} is passed in, never read from a
 * global, so every random decision is reproducible in tests with {@link seededRng}.
 */

/** A source of uniformly distributed numbers. */
export interface Rng {
  /** A number in [0, 1), uniformly distributed. */
  next(): number;
}

/** The production source: `Math.random()` (not cryptographic; nothing here needs that). */
export const randomRng: Rng = { next: () => Math.random() };

/**
 * A deterministic source (mulberry32): the same seed always gives the same sequence. Its
 * period is 2^32 and its output passes the usual statistical smoke tests, which is plenty for
 * tie-breaks and reservoir sampling in tests and benchmarks. The seed is taken modulo 2^32.
 */
export function seededRng(seed: number): Rng {
  let state = seed >>> 0;
  return {
    next(): number {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/** A uniformly chosen integer in [0, length); `length` must be a positive integer. */
export function randomIndex(rng: Rng, length: number): number {
  if (!Number.isInteger(length) || length < 1) throw new RangeError(`randomIndex needs a positive integer length, got ${length}`);
  return Math.min(length - 1, Math.floor(rng.next() * length));
}

/** A uniformly chosen element of `list`, undefined when it is empty; `rng` is consulted only for 2+ elements. */
export function pickUniform<T>(rng: Rng, list: readonly T[]): T | undefined {
  return list.length > 1 ? list[randomIndex(rng, list.length)] : list[0];
}
