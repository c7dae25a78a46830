import { DEFAULT_FREQUENCY, failureBackoff, failureCoolOffMs, frequencyMs } from '../../../src/api/v1/defaults.ts';

describe('frequencyMs', () => {
  it('is one hour when spec.frequency is absent, as in the original', () => {
    expect(DEFAULT_FREQUENCY).toBe('1h');
    expect(frequencyMs({})).toBe(3_600_000);
  });

  it('is spec.frequency when present', () => {
    expect(frequencyMs({ frequency: '5 minutes and 3 seconds' })).toBe(303_000);
  });

  it('throws the duration message for a frequency the validator rejects', () => {
    expect(() => frequencyMs({ frequency: '0s' })).toThrow('"0s" is zero');
    expect(() => frequencyMs({ frequency: '1.5h' })).toThrow('"1.5h" is not a duration');
  });
});

describe('failureCoolOffMs', () => {
  it('is undefined (no cool-off) when spec.failureCoolOff is absent or zero, as in the original', () => {
    expect(failureCoolOffMs({})).toBeUndefined();
    expect(failureCoolOffMs({ failureCoolOff: '0s' })).toBeUndefined();
  });

  it('is spec.failureCoolOff when present and not zero', () => {
    expect(failureCoolOffMs({ failureCoolOff: '10m' })).toBe(600_000);
  });

  it('throws the duration message for a cool-off the validator rejects', () => {
    expect(() => failureCoolOffMs({ failureCoolOff: '-5m' })).toThrow('"-5m" is not a duration');
  });
});

describe('failureBackoff', () => {
  it('is undefined (no growth) without spec.failureBackoff, and fills in multiplier 2 and maximum 24h', () => {
    expect(failureBackoff({})).toBeUndefined();
    expect(failureBackoff({ failureBackoff: {} })).toEqual({ multiplier: 2, maxMs: 24 * 3_600_000 });
    expect(failureBackoff({ failureBackoff: { multiplier: 3, max: '90m' } })).toEqual({ multiplier: 3, maxMs: 90 * 60_000 });
  });
});
