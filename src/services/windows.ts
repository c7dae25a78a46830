/**
 * Blackout windows (`spec.windows[]`): which window, if any, holds an instant, when it closes,
 * and when the next one opens. Pure: instants are epoch milliseconds passed in, never read.
 *
 * The rules (README, `windows`):
 * - A window runs from the start of its start time to the end of its end time (both inclusive:
 *   `05:00` lasts until 05:00:59.999, `05:00:30` until 05:00:30.999). A start after the end
 *   wraps midnight: the window ends on the next day. A start equal to the end is one minute (or
 *   second) long.
 * - `days` lists the weekdays on which a window starts (a wrapping window ends the day after).
 * - The times are wall-clock times of the window's zone: the UTC offset written in them, else
 *   the window's `timeZone`, else `spec.timeZone`, else UTC. Offsets come from the zone
 *   database of Node.js's Intl, through @date-fns/tz.
 * - Daylight-saving days: a window opens the first time the zone's clocks reach its start and
 *   closes the last time they leave its end. So a time the clocks skip (spring forward) opens or
 *   closes the window when they jump past it, and a window entirely inside the skipped hour
 *   does not happen that day; a window touching a repeated hour (fall back) covers every instant
 *   the clocks show a time inside it, and the stretch between. Kubernetes CronJob (robfig/cron)
 *   instead skips a schedule inside the skipped hour and fires twice in the repeated one: for a
 *   blackout, the safe reading is to block, not to skip.
 *
 * A window of one kind is independent of the other kind: a caller that must not start an item
 * inside a `noRunItem` window asks about both.
 */
import { tzOffset } from '@date-fns/tz/tzOffset';
import { parseTimeOfDay, WEEKDAYS } from '../api/v1/time-of-day.ts';
import type { TimeWindow, WindowSpan } from '../api/v1/types.ts';
import { validateWindows, windowLabel, type Problem } from '../api/v1/validation.ts';

/** `noStartItem`: no item starts inside the window. `noRunItem`: no item runs inside it. */
export type WindowKind = 'noStartItem' | 'noRunItem';
const KINDS: readonly WindowKind[] = ['noStartItem', 'noRunItem'];

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** How far {@link nextWindowOpening} and {@link startAllowed} look ahead: a week and a day, so every weekday is seen. */
export const WINDOW_SEARCH_HORIZON = 8 * DAY;

/** The zone of a window's times. */
export interface WindowZone {
  /** How messages call it, e.g. `Europe/Berlin` or `UTC+10:00`. */
  readonly name: string;
  /** How far its clocks are ahead of UTC at `instant`, in milliseconds. */
  offsetAt(instant: number): number;
}

/** A window ready to be asked about. */
export interface CompiledWindow {
  /** Its index in `spec.windows`. */
  readonly index: number;
  /** How messages call it: its name, quoted, or `windows[<index>]`. */
  readonly label: string;
  readonly kind: WindowKind;
  readonly zone: WindowZone;
  /** Seconds since midnight at which it opens, and after which it closes (its end time's last second + 1, up to 86400). */
  readonly openSecond: number;
  readonly closeSecond: number;
  /** Whether it closes on the day after it opens. */
  readonly wraps: boolean;
  /** The weekdays (0 = Sunday) it opens on. */
  readonly days: ReadonlySet<number>;
  /** A noRunItem window that stops an item still running when it opens. */
  readonly stopRunning: boolean;
}

/** One occurrence of a window: the instants from `opensAt` (inclusive) to `closesAt` (exclusive). */
export interface WindowOccurrence {
  readonly window: CompiledWindow;
  readonly opensAt: number;
  readonly closesAt: number;
}

/** The result of {@link compileWindows}. */
export interface CompiledWindows {
  /** The windows without problems, in spec order. */
  readonly windows: readonly CompiledWindow[];
  /** The problems of `spec.windows` and `spec.timeZone`: exactly validateWindows's (a part of validateGroupSpec's errors). */
  readonly problems: readonly Problem[];
}

const UTC: WindowZone = { name: 'UTC', offsetAt: () => 0 };

function fixedZone(offsetMinutes: number): WindowZone {
  if (offsetMinutes === 0) return UTC;
  const magnitude = Math.abs(offsetMinutes);
  const name = `UTC${offsetMinutes < 0 ? '-' : '+'}${String(Math.floor(magnitude / 60)).padStart(2, '0')}:${String(magnitude % 60).padStart(2, '0')}`;
  return { name, offsetAt: () => offsetMinutes * MINUTE };
}

/** An IANA zone known to Intl (validated before). */
function namedZone(name: string): WindowZone {
  return { name, offsetAt: (instant) => Math.round(tzOffset(name, new Date(instant)) * MINUTE) };
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The window's kind and span (the spec was validated: exactly one is there). */
function kindOf(window: TimeWindow): [WindowKind, WindowSpan] {
  for (const kind of KINDS) {
    const span = window[kind];
    if (span !== undefined) return [kind, span];
  }
  throw new Error('a validated window without a kind');
}

/**
 * The windows of an OaatGroup spec, compiled, and the problems of its windows and zone (a window
 * with a problem, or whose zone has one, is left out). Accepts any value: a spec read from the
 * API server may predate the CRD's rules.
 */
export function compileWindows(spec: unknown): CompiledWindows {
  const problems = validateWindows(spec);
  if (!isRecord(spec) || !Array.isArray(spec.windows)) return { windows: [], problems };
  const failed = (path: string): boolean => problems.some((problem) => problem.path === path || problem.path.startsWith(`${path}.`));
  const groupZone = typeof spec.timeZone === 'string' ? spec.timeZone : undefined;
  const windows: CompiledWindow[] = [];
  (spec.windows as unknown[]).forEach((entry, index) => {
    const path = `spec.windows[${index}]`;
    // A null entry: the validator leaves nulls alone; there is no window to compile.
    if (!isRecord(entry)) return;
    const window = entry as TimeWindow;
    const zoneName = window.timeZone ?? groupZone;
    if (failed(path) || (window.timeZone === undefined && groupZone !== undefined && failed('spec.timeZone'))) return;
    const [kind, span] = kindOf(window);
    const start = parseTimeOfDay(span.start?.time ?? '');
    const end = parseTimeOfDay(span.end?.time ?? '');
    windows.push({
      index,
      label: windowLabel(spec.windows, index),
      kind,
      zone: start.offsetMinutes !== undefined ? fixedZone(start.offsetMinutes) : zoneName === undefined ? UTC : namedZone(zoneName),
      openSecond: start.second,
      closeSecond: end.second + end.length,
      wraps: start.second > end.second,
      days: new Set((window.days ?? WEEKDAYS).map((day) => WEEKDAYS.indexOf(day))),
      stopRunning: kind === 'noRunItem' && window.stopRunning === true,
    });
  });
  return { windows, problems };
}

/** The instant's wall-clock reading in `zone`, as epoch milliseconds of the same reading in UTC. */
const wallClock = (zone: WindowZone, instant: number): number => instant + zone.offsetAt(instant);

/**
 * The instants at which `zone`'s clocks read `wall` (0 when the clocks skip it, 2 when they repeat
 * it), earliest first; with none, the instant the clocks jump past it.
 */
function instantsReading(zone: WindowZone, wall: number): { instants: number[]; jump: number } {
  const before = zone.offsetAt(wall - DAY);
  const after = zone.offsetAt(wall + DAY);
  const instants = [...new Set([before, after])].map((offset) => wall - offset).filter((instant) => wallClock(zone, instant) === wall).sort((a, b) => a - b);
  if (instants.length > 0) return { instants, jump: Number.NaN };
  // Skipped: the jump is after wall - after (still before it) and at or before wall - before (already after it).
  let earlier = wall - after;
  let later = wall - before;
  while (later - earlier > 1) {
    const middle = Math.floor((earlier + later) / 2);
    if (zone.offsetAt(middle) === after) later = middle;
    else earlier = middle;
  }
  return { instants, jump: later };
}

/** The first instant at which `zone`'s clocks reach `wall`. */
function firstReaching(zone: WindowZone, wall: number): number {
  const { instants, jump } = instantsReading(zone, wall);
  return instants[0] ?? jump;
}

/** The last instant at which `zone`'s clocks reach `wall`. */
function lastReaching(zone: WindowZone, wall: number): number {
  const { instants, jump } = instantsReading(zone, wall);
  return instants.at(-1) ?? jump;
}

/** The zone's calendar day (days since 1970-01-01) at `instant`. */
const dayAt = (zone: WindowZone, instant: number): number => Math.floor(wallClock(zone, instant) / DAY);

/** The occurrence of `window` that opens on calendar day `day` of its zone; undefined when it does not open that day, or is empty (inside skipped hours). */
function occurrenceOn(window: CompiledWindow, day: number): WindowOccurrence | undefined {
  // 1970-01-01 was a Thursday (4).
  if (!window.days.has((((day + 4) % 7) + 7) % 7)) return undefined;
  const opensAt = firstReaching(window.zone, day * DAY + window.openSecond * SECOND);
  const closesAt = lastReaching(window.zone, (day + (window.wraps ? 1 : 0)) * DAY + window.closeSecond * SECOND);
  return closesAt > opensAt ? { window, opensAt, closesAt } : undefined;
}

/** The occurrences of `window` opening on the calendar days from `first` to `last` days around `instant`'s day. */
function occurrencesAround(window: CompiledWindow, instant: number, first: number, last: number): WindowOccurrence[] {
  const today = dayAt(window.zone, instant);
  const occurrences: WindowOccurrence[] = [];
  for (let day = today + first; day <= today + last; day++) {
    const occurrence = occurrenceOn(window, day);
    if (occurrence !== undefined) occurrences.push(occurrence);
  }
  return occurrences;
}

/**
 * The occurrence of a window of `kind` that holds `instant` (opensAt <= instant < closesAt);
 * when several do, the one that closes last (then the first listed). Undefined when none does.
 */
export function windowAt(windows: readonly CompiledWindow[], kind: WindowKind, instant: number): WindowOccurrence | undefined {
  let found: WindowOccurrence | undefined;
  for (const window of windows) {
    if (window.kind !== kind) continue;
    // A window lasts at most a day and the hours a clock change adds: it opened on one of the two days before, or today.
    for (const occurrence of occurrencesAround(window, instant, -2, 0)) {
      if (occurrence.opensAt <= instant && instant < occurrence.closesAt && (found === undefined || occurrence.closesAt > found.closesAt)) found = occurrence;
    }
  }
  return found;
}

/**
 * The first occurrence of a window of `kind` that opens at or after `instant` (an occurrence
 * already open at `instant` is not one: ask {@link windowAt}); the first listed when several open
 * together. Undefined when none opens within {@link WINDOW_SEARCH_HORIZON}.
 */
export function nextWindowOpening(windows: readonly CompiledWindow[], kind: WindowKind, instant: number): WindowOccurrence | undefined {
  let found: WindowOccurrence | undefined;
  for (const window of windows) {
    if (window.kind !== kind) continue;
    for (const occurrence of occurrencesAround(window, instant, -1, WINDOW_SEARCH_HORIZON / DAY)) {
      const inReach = occurrence.opensAt >= instant && occurrence.opensAt < instant + WINDOW_SEARCH_HORIZON;
      if (inReach && (found === undefined || occurrence.opensAt < found.opensAt)) found = occurrence;
    }
  }
  return found;
}

/**
 * When an item may start, seen from `instant`: not inside a window of either kind (a `noRunItem`
 * window forbids starting inside it too). `blockedBy` is the window holding `instant`, if one
 * does, and `at` the first instant no window holds (`instant` itself when none does); `at` is
 * undefined when windows hold every instant up to {@link WINDOW_SEARCH_HORIZON} ahead.
 */
export function startAllowed(windows: readonly CompiledWindow[], instant: number): { at: number | undefined; blockedBy: WindowOccurrence | undefined } {
  const holding = (at: number): WindowOccurrence | undefined => windowAt(windows, 'noStartItem', at) ?? windowAt(windows, 'noRunItem', at);
  const blockedBy = holding(instant);
  // Windows that touch or overlap (of either kind) block one after another.
  let free = instant;
  for (let window = blockedBy; window !== undefined; window = holding(free)) {
    free = window.closesAt;
    if (free >= instant + WINDOW_SEARCH_HORIZON) return { at: undefined, blockedBy };
  }
  return { at: free, blockedBy };
}
