import {
  DURATION_IS_ZERO,
  DURATION_PATTERN,
  DURATION_TOO_LONG,
  DURATION_UNITS,
  MAX_DURATION_LENGTH,
  NOT_A_DURATION,
  durationValidation,
  parseDuration,
} from '../../../src/api/v1/duration.ts';
import { ACCEPTED, ACCEPTED_QUIRKS, REJECTED, REJECTED_QUIRKS, TOO_LONG, ZERO } from '../../fixtures/duration-examples.ts';

/** The message parseDuration throws for `text`, or undefined when it parses. */
function failure(text: string, allowZero = false): string | undefined {
  try {
    parseDuration(text, { allowZero });
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

describe('parseDuration', () => {
  it.each(ACCEPTED)('accepts the original example %j as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(ACCEPTED_QUIRKS)('accepts %j as %d ms: %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(REJECTED)('rejects %j, quoting it and naming the accepted format', (text) => {
    expect(failure(text)).toBe(`${JSON.stringify(text)} ${NOT_A_DURATION}`);
  });

  it.each(REJECTED_QUIRKS)('rejects %j (%s)', (text) => {
    expect(failure(text)).toBe(`${JSON.stringify(text)} ${NOT_A_DURATION}`);
  });

  it.each(ZERO)('rejects the zero total %j unless zero is allowed, then gives 0', (text) => {
    expect(failure(text)).toBe(`${JSON.stringify(text)} ${DURATION_IS_ZERO}`);
    expect(parseDuration(text, { allowZero: true })).toBe(0);
  });

  it.each(TOO_LONG)('rejects %j as longer than the maximum, even when zero is allowed', (text) => {
    expect(failure(text)).toBe(`${JSON.stringify(text)} ${DURATION_TOO_LONG}`);
    expect(failure(text, true)).toBe(`${JSON.stringify(text)} ${DURATION_TOO_LONG}`);
  });

  it('accepts a text of the maximum length and rejects a longer one, before looking at it', () => {
    const longest = `1s${' '.repeat(MAX_DURATION_LENGTH - 2)}`;
    expect(parseDuration(longest)).toBe(1000);
    const tooLong = `${longest} `;
    expect(failure(tooLong)).toBe(`${JSON.stringify(tooLong)} is longer than ${MAX_DURATION_LENGTH} characters`);
  });

  it('quotes control characters of the input readably', () => {
    expect(failure('5\nm')).toMatch(/^"5\\nm" is not a duration/);
  });
});

describe('the duration grammar', () => {
  it('spells every unit uniquely', () => {
    const names = DURATION_UNITS.flatMap((unit) => unit.names);
    expect(new Set(names).size).toBe(names.length);
  });

  it('is the regular expression of the CRD rule (one grammar for both)', () => {
    for (const options of [{}, { allowZero: true }]) {
      const validation = durationValidation(options);
      expect(validation.rule).toContain(`self.matches(r'${DURATION_PATTERN}')`);
      expect(validation.messageExpression).toContain(`'${NOT_A_DURATION}'`);
      expect(validation.messageExpression).toContain(`'${DURATION_TOO_LONG}'`);
    }
  });

  it('has a CRD rule that rejects zero only when zero is not allowed', () => {
    expect(durationValidation().messageExpression).toContain(`'${DURATION_IS_ZERO}'`);
    expect(durationValidation({ allowZero: true }).messageExpression).not.toContain(DURATION_IS_ZERO);
  });

  it('gives every unit its seconds in the CRD rule', () => {
    const { rule } = durationValidation();
    for (const unit of DURATION_UNITS.slice(0, -1)) {
      expect(rule).toContain(`in [${unit.names.map((name) => `'${name}'`).join(', ')}] ? ${unit.seconds}.0`);
    }
  });
});
