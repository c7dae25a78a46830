import { pickUniform, randomIndex, randomRng, type Rng, seededRng } from '../../../src/services/rng.ts';

const draws = (rng: Rng, count: number): number[] => Array.from({ length: count }, () => rng.next());

describe('seededRng', () => {
  it('gives the same sequence for the same seed and different ones for different seeds', () => {
    expect(draws(seededRng(42), 20)).toEqual(draws(seededRng(42), 20));
    expect(draws(seededRng(42), 20)).not.toEqual(draws(seededRng(43), 20));
  });

  it('takes the seed modulo 2^32', () => {
    expect(draws(seededRng(2 ** 32 + 5), 5)).toEqual(draws(seededRng(5), 5));
  });

  it('stays in [0, 1) and is roughly uniform', () => {
    const values = draws(seededRng(1), 100_000);
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    const buckets = new Array<number>(10).fill(0);
    for (const v of values) buckets[Math.floor(v * 10)] = (buckets[Math.floor(v * 10)] ?? 0) + 1;
    for (const count of buckets) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });
});

describe('randomRng', () => {
  it('stays in [0, 1)', () => {
    expect(draws(randomRng, 1000).every((v) => v >= 0 && v < 1)).toBe(true);
  });
});

describe('randomIndex', () => {
  it('maps [0, 1) onto every index of the range', () => {
    expect(randomIndex({ next: () => 0 }, 3)).toBe(0);
    expect(randomIndex({ next: () => 0.34 }, 3)).toBe(1);
    expect(randomIndex({ next: () => 0.9999999999 }, 3)).toBe(2);
  });

  it('never returns length, even for an rng that misbehaves at 1', () => {
    expect(randomIndex({ next: () => 1 }, 3)).toBe(2);
  });

  it('rejects a length that is not a positive integer', () => {
    expect(() => randomIndex(seededRng(1), 0)).toThrow(RangeError);
    expect(() => randomIndex(seededRng(1), 1.5)).toThrow(RangeError);
  });
});

describe('pickUniform', () => {
  const untouchable: Rng = {
    next: () => {
      throw new Error('consulted');
    },
  };

  it('gives undefined for an empty list and the element of a single-element list without consulting the rng', () => {
    expect(pickUniform<string>(untouchable, [])).toBeUndefined();
    expect(pickUniform(untouchable, ['only'])).toBe('only');
  });

  it('picks by the rng otherwise', () => {
    expect(pickUniform({ next: () => 0.5 }, ['a', 'b', 'c', 'd'])).toBe('c');
  });
});
