/**
 * The texts of kawaja.net/v1 blackout windows (`spec.windows[]`): times of day, weekday names
 * and time-zone names. As in duration.ts, one grammar drives both {@link parseTimeOfDay} and the
 * CRD's validation rules, so the API server and the operator accept the same texts and report
 * them with the same words.
 *
 * Time of day: `H:MM`, `HH:MM` or `HH:MM:SS` (00:00 to 23:59:59), optionally followed by blanks
 * and a UTC offset: `Z`, `±H:MM`, `±HH:MM` or `±HHMM`, at most 14 hours (the original's CRD
 * documents `"02:00 +10:00"`). A time names the whole minute (or second, when seconds are given)
 * it starts: `05:00` lasts until 05:00:59.999. Unlike the original, which read what it could
 * not parse as midnight, anything else is rejected.
 *
 * Time zone: an IANA name such as `Europe/Berlin` (as CronJob's `timeZone`), known to the
 * operator's Node.js (checked at run time; the CRD only checks the form: it cannot know the
 * zone database). An offset belongs in the time, not here.
 */
import { celPattern, celString } from './cel.ts';
import type { CelValidation } from './schema.ts';

/** Weekday names, indexed as `Date.prototype.getUTCDay` (0 = Sunday). */
export const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];
/** The weekday names in the order the CRD lists them, Monday first. */
export const WEEKDAY_ENUM: readonly Weekday[] = [...WEEKDAYS.slice(1), WEEKDAYS[0]];

/** The longest time-of-day text accepted, in characters (bounds the cost of the CRD's rule). */
export const MAX_TIME_OF_DAY_LENGTH = 32;
/** The longest time-zone name accepted (the longest IANA name has 32 characters). */
export const MAX_TIME_ZONE_LENGTH = 64;

const CLOCK = '([01]?[0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9]))?';
const OFFSET = 'Z|([+-])(?:(0?[0-9]|1[0-4]):([0-5][0-9])|(0[0-9]|1[0-4])([0-5][0-9]))';
/**
 * The time-of-day grammar as an anchored regular expression in the common subset of ECMAScript
 * and RE2 (the API server's engine).
 */
export const TIME_OF_DAY_PATTERN = `^${CLOCK}(?: *(${OFFSET}))?$`;
/** An IANA time-zone name: words of letters, digits, `_`, `+` and `-`, separated by `/`, the first starting with a letter. */
export const TIME_ZONE_PATTERN = '^[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+)*$';

const TIME_OF_DAY_REGEXP = new RegExp(TIME_OF_DAY_PATTERN);
const TIME_ZONE_REGEXP = new RegExp(TIME_ZONE_PATTERN);

/** What follows the quoted input when it is not a time of day. */
export const NOT_A_TIME_OF_DAY =
  'is not a time of day: write H:MM, HH:MM or HH:MM:SS (00:00 to 23:59:59), optionally followed by a UTC offset (Z, +10:00, -0530), e.g. "02:00" or "02:00 +10:00"';
/** What follows the quoted input when it is not of the form of a time-zone name. */
export const NOT_A_TIME_ZONE_NAME = 'is not a time-zone name: give an IANA name such as "Europe/Berlin" or "UTC" (write a UTC offset in the times instead)';
/** What follows the quoted input when it has the form of a time-zone name but names no zone the operator knows. */
export const UNKNOWN_TIME_ZONE = `is not a time zone of the IANA database the operator has (version ${process.versions.tz ?? 'unknown'})`;

/** A parsed time of day. */
export interface TimeOfDay {
  /** Seconds since midnight of the time's first instant. */
  readonly second: number;
  /** How long the time lasts, in seconds: 60 when written without seconds, else 1. */
  readonly length: 60 | 1;
  /** The UTC offset written after the time, in minutes east of UTC; undefined when none. */
  readonly offsetMinutes: number | undefined;
}

/** `text` read as a time of day. Throws an Error quoting `text` and saying what is accepted. */
export function parseTimeOfDay(text: string): TimeOfDay {
  const match = Array.from(text).length <= MAX_TIME_OF_DAY_LENGTH ? TIME_OF_DAY_REGEXP.exec(text) : null;
  if (match === null) throw new Error(`${JSON.stringify(text)} ${NOT_A_TIME_OF_DAY}`);
  const [, hours, minutes, seconds, offset, sign, colonHours, colonMinutes, bareHours, bareMinutes] = match;
  const second = Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds ?? 0);
  const offsetMagnitude = Number(colonHours ?? bareHours ?? 0) * 60 + Number(colonMinutes ?? bareMinutes ?? 0);
  return {
    second,
    length: seconds === undefined ? 60 : 1,
    offsetMinutes: offset === undefined ? undefined : sign === '-' ? -offsetMagnitude : offsetMagnitude,
  };
}

/** Whether `name` has the form {@link TIME_ZONE_PATTERN} (not whether the zone exists). */
const isTimeZoneName = (name: string): boolean => Array.from(name).length <= MAX_TIME_ZONE_LENGTH && TIME_ZONE_REGEXP.test(name);

/** Throws an Error quoting `name` and saying what is accepted, unless `name` has the form of a time-zone name (it may still name no zone). */
export function checkTimeZoneName(name: string): void {
  if (!isTimeZoneName(name)) throw new Error(`${JSON.stringify(name)} ${NOT_A_TIME_ZONE_NAME}`);
}

/** The zone names found known so far (unknown ones are not kept: their number has no bound). */
const knownZones = new Set<string>();

/**
 * Whether `name` is a time-zone name ({@link isTimeZoneName}) that the zone database of this
 * Node.js (Intl's, the one the windows are computed with) knows, aliases included.
 */
export function isKnownTimeZone(name: string): boolean {
  if (knownZones.has(name)) return true;
  if (!isTimeZoneName(name)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
  } catch {
    return false;
  }
  knownZones.add(name);
  return true;
}

/**
 * A CRD rule for a string field (bounded by a maxLength) that must match `pattern`: the
 * message quotes the value and adds `failure` (a value with a line break, which the API server
 * cannot quote in a message, gets `failure` alone).
 */
function patternValidation(pattern: string, failure: string): CelValidation {
  return { rule: `self.matches(${celPattern(pattern)})`, messageExpression: `'"' + self + '" ' + ${celString(failure)}`, message: failure };
}

/** The CRD rule of a time-of-day field (with `maxLength: MAX_TIME_OF_DAY_LENGTH`): what {@link parseTimeOfDay} accepts, with its message. */
export function timeOfDayValidation(): CelValidation {
  return patternValidation(TIME_OF_DAY_PATTERN, NOT_A_TIME_OF_DAY);
}

/** The CRD rule of a time-zone field (with `maxLength: MAX_TIME_ZONE_LENGTH`): the form {@link isTimeZoneName} checks, with its message. */
export function timeZoneValidation(): CelValidation {
  return patternValidation(TIME_ZONE_PATTERN, NOT_A_TIME_ZONE_NAME);
}
