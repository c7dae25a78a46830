/**
 * Durations of kawaja.net/v1 (`spec.frequency`, `spec.failureCoolOff`): one grammar and one
 * table of units. {@link parseDuration} and the CRD's validation rules
 * ({@link durationValidation}) are both generated from them, so the API server and the
 * operator accept exactly the same texts and report them with the same words.
 *
 * Grammar: an optional leading `every`, then one or more tokens `<digits><blanks><unit>`,
 * optionally separated by blanks, a comma, or `and` (with blanks, after a comma or blanks),
 * optionally ended by a comma. Blanks are spaces and tabs. Units are case-sensitive:
 * s/sec/secs/second/seconds, m/min/mins/minute/minutes, h/hr/hrs/hour/hours,
 * d/dy/dys/day/days, w/wk/wks/week/weeks. Tokens add up (`65m1h0s` is 2 h 5 min).
 *
 * Every example the Python original accepted parses to the same value. Where the original's
 * search-based parser was lenient by accident, the decisions are:
 * - `every 5m`: accepted (= 5 min). The original's README-style phrasing; only the leading
 *   word `every` is allowed, not arbitrary words around the tokens.
 * - `5m,` (trailing comma), `5\tm` (tab), `5m 5m` (repeated unit, = 10 min): accepted, as before.
 * - `dy`, `dys`: accepted as day units, because the original accepted (and tested) them.
 * - `1.5h` (original: 5 h), `-5m` (original: 5 min), `1h-30m` (original: 1 h 30 min),
 *   `1h30` and `10s5` (original: the trailing number was ignored): rejected. Each was a silent
 *   misreading; a reader cannot tell what the writer meant.
 * - Digits other than ASCII 0-9 (the original's `\d` matched e.g. Arabic-Indic digits):
 *   rejected; the API server's regular expressions (RE2) only know ASCII digits too.
 * - Huge values (the original crashed on `99999999999w`): a total above
 *   {@link MAX_DURATION_SECONDS} (36500 days, about 100 years) is rejected, so every accepted
 *   duration added to any timestamp stays a valid date.
 * - A zero total (`0s`, `0s0m0h`) is rejected unless the caller allows it (a zero
 *   `failureCoolOff` means "no cool-off", as in the original; a zero `frequency` is an error).
 * - Longer than {@link MAX_DURATION_LENGTH} characters: rejected (bounds the cost of the CRD's
 *   CEL rules).
 */
import { celPattern, celString } from './cel.ts';
import type { CelValidation } from './schema.ts';

/** One unit of the grammar: its spellings and its length in seconds. */
export interface DurationUnit {
  readonly seconds: number;
  readonly names: readonly string[];
}

/** The units, shortest first. Every spelling is unique. */
export const DURATION_UNITS: readonly DurationUnit[] = [
  { seconds: 1, names: ['s', 'sec', 'secs', 'second', 'seconds'] },
  { seconds: 60, names: ['m', 'min', 'mins', 'minute', 'minutes'] },
  { seconds: 3_600, names: ['h', 'hr', 'hrs', 'hour', 'hours'] },
  { seconds: 86_400, names: ['d', 'dy', 'dys', 'day', 'days'] },
  { seconds: 604_800, names: ['w', 'wk', 'wks', 'week', 'weeks'] },
];

/** The longest duration text accepted, in characters. */
export const MAX_DURATION_LENGTH = 64;

/** The longest duration accepted: 36500 days (about 100 years). */
export const MAX_DURATION_SECONDS = 36_500 * 86_400;

/** How to write a duration, for messages. */
const FORMAT = 'write whole numbers with a unit (s, m, h, d or w), e.g. "5m", "1h30m", "2d 3h" or "5 minutes and 3 seconds"';
/** What follows the quoted input when it does not match the grammar. */
export const NOT_A_DURATION = `is not a duration: ${FORMAT}`;
/** What follows the quoted input when its total is above {@link MAX_DURATION_SECONDS}. */
export const DURATION_TOO_LONG = `is longer than the maximum of ${MAX_DURATION_SECONDS / 86_400}d (about 100 years)`;
/** What follows the quoted input when its total is zero and zero is not allowed. */
export const DURATION_IS_ZERO = 'is zero: give a duration of at least 1s';

const BLANK = '[ \\t]';
const NUMBER = '[0-9]+';
/** Every spelling, longest first, so that leftmost-first matching takes whole words. */
const UNIT = `(?:${DURATION_UNITS.flatMap((unit) => unit.names)
  .sort((a, b) => b.length - a.length || a.localeCompare(b))
  .join('|')})`;
const TOKEN = `${NUMBER}${BLANK}*${UNIT}`;
const SEPARATOR = `(?:(?:${BLANK}*,${BLANK}*|${BLANK}+)(?:and${BLANK}+)?)?`;

/**
 * The whole grammar as an anchored regular expression in the common subset of ECMAScript and
 * RE2 (the API server's engine): same meaning in both.
 */
export const DURATION_PATTERN = `^${BLANK}*(?:every${BLANK}+)?${TOKEN}(?:${SEPARATOR}${TOKEN})*(?:${BLANK}*,)?${BLANK}*$`;

const DURATION_REGEXP = new RegExp(DURATION_PATTERN);
const TOKEN_REGEXP = new RegExp(`(${NUMBER})${BLANK}*(${UNIT})`, 'g');
const SECONDS_BY_NAME = new Map(DURATION_UNITS.flatMap((unit) => unit.names.map((name) => [name, unit.seconds] as const)));

export interface ParseDurationOptions {
  /** Accept a zero total (e.g. `0s`) and return 0. Default: a zero total is an error. */
  allowZero?: boolean;
}

/**
 * The length of `text` in milliseconds. Throws an Error whose message quotes `text` and says
 * what is accepted, when `text` does not match the grammar, is longer than
 * {@link MAX_DURATION_LENGTH} characters, adds up to more than {@link MAX_DURATION_SECONDS},
 * or adds up to zero (unless `allowZero`).
 */
export function parseDuration(text: string, options: ParseDurationOptions = {}): number {
  const quoted = JSON.stringify(text);
  if (Array.from(text).length > MAX_DURATION_LENGTH) {
    throw new Error(`${quoted} is longer than ${MAX_DURATION_LENGTH} characters`);
  }
  if (!DURATION_REGEXP.test(text)) throw new Error(`${quoted} ${NOT_A_DURATION}`);
  let seconds = 0;
  for (const [, digits, unit] of text.matchAll(TOKEN_REGEXP)) {
    seconds += Number(digits) * (SECONDS_BY_NAME.get(unit ?? '') ?? Number.NaN);
  }
  if (seconds === 0 && options.allowZero !== true) throw new Error(`${quoted} ${DURATION_IS_ZERO}`);
  if (!(seconds <= MAX_DURATION_SECONDS)) throw new Error(`${quoted} ${DURATION_TOO_LONG}`);
  return seconds * 1000;
}

/**
 * The CEL expression for the total of `self` in seconds (a double, so that no number overflows),
 * assuming `self` matches the grammar: each token's number times the seconds of its unit.
 */
function celTotalSeconds(): string {
  const [fallback, ...others] = [...DURATION_UNITS].reverse();
  if (fallback === undefined) throw new Error('no duration units');
  const unitSeconds = others.reduce(
    (otherwise, unit) => `t.find('[a-z]+$') in [${unit.names.map(celString).join(', ')}] ? ${unit.seconds}.0 : ${otherwise}`,
    `${fallback.seconds}.0`,
  );
  return `self.findAll(${celPattern(TOKEN)}).map(t, double(t.find('^[0-9]+')) * (${unitSeconds})).sum()`;
}

/**
 * The CRD validation rule of a duration string field (which must also carry
 * `maxLength: MAX_DURATION_LENGTH`): it accepts what {@link parseDuration} accepts, and its
 * message is the one parseDuration throws (one message per bad text, the first that applies:
 * not a duration, zero, too long), except for a text with a line break
 * ({@link durationFallbackMessage}).
 */
export function durationValidation(options: ParseDurationOptions = {}): CelValidation {
  // Only the numbers hold digits, so a text of the grammar adds up to zero unless it has a nonzero digit.
  const checks: (readonly [condition: string, failure: string])[] = [
    [`self.matches(${celPattern(DURATION_PATTERN)})`, NOT_A_DURATION],
    ...(options.allowZero === true ? [] : [[`self.matches('[1-9]')`, DURATION_IS_ZERO] as const]),
    [`${celTotalSeconds()} <= ${MAX_DURATION_SECONDS}.0`, DURATION_TOO_LONG],
  ];
  const [last, ...earlier] = [...checks].reverse();
  if (last === undefined) throw new Error('no duration checks');
  const failure = earlier.reduce((otherwise, [condition, message]) => `!${condition} ? ${celString(message)} : ${otherwise}`, celString(last[1]));
  return {
    rule: checks.map(([condition]) => condition).join(' && '),
    messageExpression: `'"' + self + '" ' + (${failure})`,
    message: durationFallbackMessage(options),
  };
}

/**
 * The message of the CRD rule when its message expression cannot be used: the API server
 * refuses messages with line breaks, so a text holding one gets this instead of the quoted text.
 */
export function durationFallbackMessage(options: ParseDurationOptions = {}): string {
  return `is not a valid duration (${options.allowZero === true ? '' : 'at least 1s, '}at most ${MAX_DURATION_SECONDS / 86_400}d): ${FORMAT}`;
}
