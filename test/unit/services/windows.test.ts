import { NOT_A_TIME_OF_DAY, UNKNOWN_TIME_ZONE } from '../../../src/api/v1/time-of-day.ts';
import type { TimeWindow } from '../../../src/api/v1/types.ts';
import {
  compileWindows,
  nextWindowOpening,
  startAllowed,
  WINDOW_SEARCH_HORIZON,
  windowAt,
  type CompiledWindow,
  type WindowKind,
  type WindowOccurrence,
} from '../../../src/services/windows.ts';

/** An instant given as RFC 3339 text, as epoch milliseconds (the services' "now"). */
const at = (text: string): number => {
  const instant = Date.parse(text);
  if (Number.isNaN(instant)) throw new Error(`not an instant: ${text}`);
  return instant;
};
const iso = (instant: number | undefined): string | undefined => (instant === undefined ? undefined : new Date(instant).toISOString());
const span = (start: string, end: string): { start: { time: string }; end: { time: string } } => ({ start: { time: start }, end: { time: end } });

/** The compiled windows of a valid spec (fails the test on any problem). */
function compile(windows: TimeWindow[], spec: Record<string, unknown> = {}): CompiledWindow[] {
  const compiled = compileWindows({ oaatType: 't', windows, ...spec });
  expect(compiled.problems).toEqual([]);
  return [...compiled.windows];
}

/** [opensAt, closesAt] of an occurrence, as RFC 3339 texts. */
const times = (occurrence: WindowOccurrence | undefined): [string | undefined, string | undefined] | undefined =>
  occurrence === undefined ? undefined : [iso(occurrence.opensAt), iso(occurrence.closesAt)];

/** The occurrence holding the instant, as [opensAt, closesAt]. */
const holding = (windows: CompiledWindow[], instant: string, kind: WindowKind = 'noStartItem'): [string | undefined, string | undefined] | undefined =>
  times(windowAt(windows, kind, at(instant)));

const holds = (windows: CompiledWindow[], instant: string, kind: WindowKind = 'noStartItem'): boolean => windowAt(windows, kind, at(instant)) !== undefined;

/** The hours of a day (UTC, 2026-06-10) at whose start some window of the list holds. */
const hoursHeld = (windows: CompiledWindow[], hours: number[]): number[] =>
  hours.filter((hour) => holds(windows, `2026-06-10T${String(hour).padStart(2, '0')}:00:00Z`));

describe("the original's TimeWindow cases", () => {
  it('02:00-05:00 holds 2, 4 and 5 h, not 0, 1, 6, 12 or 23 h', () => {
    const windows = compile([{ noStartItem: span('02:00', '05:00') }]);
    expect(hoursHeld(windows, [2, 4, 5])).toEqual([2, 4, 5]);
    expect(hoursHeld(windows, [0, 1, 6, 12, 23])).toEqual([]);
  });

  it('15:00-05:00 wraps midnight: it holds 0, 1, 2, 4, 5, 15, 19 and 23 h, not 6 or 12 h', () => {
    const windows = compile([{ noStartItem: span('15:00', '05:00') }]);
    expect(hoursHeld(windows, [0, 1, 2, 4, 5, 15, 19, 23])).toEqual([0, 1, 2, 4, 5, 15, 19, 23]);
    expect(hoursHeld(windows, [6, 12])).toEqual([]);
  });
});

describe('ends', () => {
  it('both are inclusive: from the start of the start time to the end of the end time (its minute)', () => {
    const windows = compile([{ noStartItem: span('2:00', '5:00') }]);
    expect(holds(windows, '2026-06-10T01:59:59.999Z')).toBe(false);
    expect(holding(windows, '2026-06-10T02:00:00.000Z')).toEqual(['2026-06-10T02:00:00.000Z', '2026-06-10T05:01:00.000Z']);
    expect(holds(windows, '2026-06-10T05:00:59.999Z')).toBe(true);
    expect(holds(windows, '2026-06-10T05:01:00.000Z')).toBe(false);
  });

  it('to the end of its second when the time has seconds', () => {
    const windows = compile([{ noStartItem: span('02:00:30', '05:00:30') }]);
    expect(holds(windows, '2026-06-10T02:00:29.999Z')).toBe(false);
    expect(holding(windows, '2026-06-10T02:00:30.000Z')).toEqual(['2026-06-10T02:00:30.000Z', '2026-06-10T05:00:31.000Z']);
  });

  it('a start equal to the end is one minute; a start after the end wraps midnight, even by seconds', () => {
    expect(holding(compile([{ noStartItem: span('02:00', '02:00') }]), '2026-06-10T02:00:30Z')).toEqual(['2026-06-10T02:00:00.000Z', '2026-06-10T02:01:00.000Z']);
    expect(holding(compile([{ noStartItem: span('02:00:30', '02:00') }]), '2026-06-10T12:00:00Z')).toEqual(['2026-06-10T02:00:30.000Z', '2026-06-11T02:01:00.000Z']);
  });

  it('23:59 ends at midnight; a wrapping window holds both sides of midnight and closes the next day', () => {
    expect(holding(compile([{ noStartItem: span('22:00', '23:59') }]), '2026-06-10T23:59:59Z')).toEqual(['2026-06-10T22:00:00.000Z', '2026-06-11T00:00:00.000Z']);
    const wrapping = compile([{ noStartItem: span('22:00', '02:00') }]);
    expect(holding(wrapping, '2026-06-10T23:00:00Z')).toEqual(['2026-06-10T22:00:00.000Z', '2026-06-11T02:01:00.000Z']);
    expect(holding(wrapping, '2026-06-11T01:00:00Z')).toEqual(['2026-06-10T22:00:00.000Z', '2026-06-11T02:01:00.000Z']);
  });
});

describe('days', () => {
  // 2026-06-12 is a Friday.
  const fridayNights = compile([{ noStartItem: span('22:00', '02:00'), days: ['Fri'] }]);

  it('are the days a window starts: a wrapping window ends on the next day', () => {
    expect(holding(fridayNights, '2026-06-12T23:00:00Z')).toEqual(['2026-06-12T22:00:00.000Z', '2026-06-13T02:01:00.000Z']);
    expect(holds(fridayNights, '2026-06-13T01:00:00Z')).toBe(true);
  });

  it('hold on no other day: not the Friday morning (a Thursday start), not Thursday or Saturday night', () => {
    expect(holds(fridayNights, '2026-06-12T01:00:00Z')).toBe(false);
    expect(holds(fridayNights, '2026-06-11T23:00:00Z')).toBe(false);
    expect(holds(fridayNights, '2026-06-13T23:00:00Z')).toBe(false);
  });

  it("count in the window's zone", () => {
    // Friday 22:00 in Tokyo (+09:00) is Friday 13:00 UTC.
    const tokyo = compile([{ noStartItem: span('22:00', '02:00'), days: ['Fri'], timeZone: 'Asia/Tokyo' }]);
    expect(holding(tokyo, '2026-06-12T14:00:00Z')).toEqual(['2026-06-12T13:00:00.000Z', '2026-06-12T17:01:00.000Z']);
    expect(holds(tokyo, '2026-06-13T14:00:00Z')).toBe(false);
  });

  it('the next opening skips the other days', () => {
    expect(times(nextWindowOpening(fridayNights, 'noStartItem', at('2026-06-13T00:00:00Z')))).toEqual(['2026-06-19T22:00:00.000Z', '2026-06-20T02:01:00.000Z']);
  });
});

describe('zones', () => {
  const summer = '2026-06-10T12:00:00Z';

  it('UTC by default', () => {
    expect(times(nextWindowOpening(compile([{ noStartItem: span('14:00', '15:00') }]), 'noStartItem', at(summer)))?.[0]).toBe('2026-06-10T14:00:00.000Z');
  });

  it("spec.timeZone, unless the window names its own; an offset in the times wins over both", () => {
    const windows = compile(
      [
        { name: 'group zone', noStartItem: span('14:00', '15:00') },
        { name: 'own zone', noStartItem: span('14:00', '15:00'), timeZone: 'America/New_York' },
        { name: 'offset', noStartItem: span('14:00 +10:00', '15:00 +1000'), timeZone: 'America/New_York' },
      ],
      { timeZone: 'Europe/Berlin' },
    );
    const opening = (window: CompiledWindow): string | undefined => iso(nextWindowOpening([window], 'noStartItem', at(summer))?.opensAt);
    expect(windows.map((window) => [window.label, window.zone.name, opening(window)])).toEqual([
      ['"group zone"', 'Europe/Berlin', '2026-06-10T12:00:00.000Z'],
      ['"own zone"', 'America/New_York', '2026-06-10T18:00:00.000Z'],
      ['"offset"', 'UTC+10:00', '2026-06-11T04:00:00.000Z'],
    ]);
  });

  it('negative offsets, and offsets written as Z', () => {
    const [minus, zulu] = compile([{ noStartItem: span('14:00 -05:30', '15:00 -0530') }, { noStartItem: span('14:00Z', '15:00Z') }]);
    expect(minus?.zone.name).toBe('UTC-05:30');
    expect(iso(nextWindowOpening(minus ? [minus] : [], 'noStartItem', at(summer))?.opensAt)).toBe('2026-06-10T19:30:00.000Z');
    expect(zulu?.zone.name).toBe('UTC');
  });
});

describe('daylight saving time (Europe/Berlin: 2026-03-29 02:00 CET -> 03:00 CEST, 2026-10-25 03:00 CEST -> 02:00 CET)', () => {
  const berlin = (start: string, end: string): CompiledWindow[] => compile([{ noStartItem: span(start, end), timeZone: 'Europe/Berlin' }]);

  describe('spring forward: the clocks skip 02:00-02:59', () => {
    it('a window starting in the skipped hour opens when the clocks jump past it (03:00 CEST)', () => {
      expect(holding(berlin('02:30', '04:00'), '2026-03-29T01:30:00Z')).toEqual(['2026-03-29T01:00:00.000Z', '2026-03-29T02:01:00.000Z']);
      expect(holds(berlin('02:30', '04:00'), '2026-03-29T00:59:59.999Z')).toBe(false);
      // The day before, 02:30 CET.
      expect(holding(berlin('02:30', '04:00'), '2026-03-28T02:00:00Z')).toEqual(['2026-03-28T01:30:00.000Z', '2026-03-28T03:01:00.000Z']);
    });

    it('a window ending in the skipped hour closes when the clocks jump past it', () => {
      expect(holding(berlin('01:00', '02:30'), '2026-03-29T00:30:00Z')).toEqual(['2026-03-29T00:00:00.000Z', '2026-03-29T01:00:00.000Z']);
      expect(holds(berlin('01:00', '02:30'), '2026-03-29T01:00:00Z')).toBe(false);
    });

    it('a window inside the skipped hour does not happen that day', () => {
      const skipped = berlin('02:00', '02:59');
      expect(holds(skipped, '2026-03-29T01:00:00Z')).toBe(false);
      expect(times(nextWindowOpening(skipped, 'noStartItem', at('2026-03-28T23:00:00Z')))).toEqual(['2026-03-30T00:00:00.000Z', '2026-03-30T01:00:00.000Z']);
    });

    it('a wrapping window over the change is an hour shorter', () => {
      expect(holding(berlin('22:00', '06:00'), '2026-03-29T03:00:00Z')).toEqual(['2026-03-28T21:00:00.000Z', '2026-03-29T04:01:00.000Z']);
    });
  });

  describe('fall back: the clocks show 02:00-02:59 twice (CEST, then CET)', () => {
    it('a window inside the repeated hour lasts from the first time the clocks show its start to the last time they show its end', () => {
      const repeated = berlin('02:15', '02:45');
      expect(holds(repeated, '2026-10-25T00:14:59Z')).toBe(false);
      expect(holding(repeated, '2026-10-25T00:15:00Z')).toEqual(['2026-10-25T00:15:00.000Z', '2026-10-25T01:46:00.000Z']);
      // Between the two: the clocks show 02:50 CEST.
      expect(holds(repeated, '2026-10-25T00:50:00Z')).toBe(true);
      expect(holds(repeated, '2026-10-25T01:45:59Z')).toBe(true);
      expect(holds(repeated, '2026-10-25T01:46:00Z')).toBe(false);
    });

    it('a window ending in the repeated hour closes the second time the clocks leave its end', () => {
      expect(holding(berlin('01:00', '02:30'), '2026-10-25T01:15:00Z')).toEqual(['2026-10-24T23:00:00.000Z', '2026-10-25T01:31:00.000Z']);
    });

    it('a window starting in the repeated hour opens the first time', () => {
      expect(holding(berlin('02:30', '04:00'), '2026-10-25T00:30:00Z')).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-25T03:01:00.000Z']);
    });

    it('a window after the change is not moved: 03:00 comes once, in CET', () => {
      expect(holding(berlin('03:00', '04:00'), '2026-10-25T02:30:00Z')).toEqual(['2026-10-25T02:00:00.000Z', '2026-10-25T03:01:00.000Z']);
      expect(holds(berlin('03:00', '04:00'), '2026-10-25T01:30:00Z')).toBe(false);
    });
  });

  it('America/New_York too (2026-03-08 02:00 EST -> 03:00 EDT, 2026-11-01 02:00 EDT -> 01:00 EST)', () => {
    const newYork = (start: string, end: string): CompiledWindow[] => compile([{ noStartItem: span(start, end), timeZone: 'America/New_York' }]);
    expect(holding(newYork('02:30', '03:30'), '2026-03-08T07:10:00Z')).toEqual(['2026-03-08T07:00:00.000Z', '2026-03-08T07:31:00.000Z']);
    expect(holding(newYork('01:30', '01:45'), '2026-11-01T06:40:00Z')).toEqual(['2026-11-01T05:30:00.000Z', '2026-11-01T06:46:00.000Z']);
  });
});

describe('kinds', () => {
  const windows = compile([
    { name: 'no starts', noStartItem: span('01:00', '02:00') },
    { name: 'no runs', noRunItem: span('03:00', '05:00') },
  ]);

  it('are asked about separately', () => {
    expect(windowAt(windows, 'noStartItem', at('2026-06-10T01:30:00Z'))?.window.label).toBe('"no starts"');
    expect(windowAt(windows, 'noRunItem', at('2026-06-10T01:30:00Z'))).toBeUndefined();
    expect(windowAt(windows, 'noRunItem', at('2026-06-10T04:00:00Z'))?.window.label).toBe('"no runs"');
    expect(windowAt(windows, 'noStartItem', at('2026-06-10T04:00:00Z'))).toBeUndefined();
  });

  it('the next noRunItem opening: what a predicted end must come before', () => {
    expect(times(nextWindowOpening(windows, 'noRunItem', at('2026-06-10T00:30:00Z')))).toEqual(['2026-06-10T03:00:00.000Z', '2026-06-10T05:01:00.000Z']);
    // At its opening instant it counts; once open, the next one is tomorrow's.
    expect(iso(nextWindowOpening(windows, 'noRunItem', at('2026-06-10T03:00:00Z'))?.opensAt)).toBe('2026-06-10T03:00:00.000Z');
    expect(iso(nextWindowOpening(windows, 'noRunItem', at('2026-06-10T03:00:00.001Z'))?.opensAt)).toBe('2026-06-11T03:00:00.000Z');
  });
});

describe('several windows', () => {
  it('the one holding an instant is the one that closes last', () => {
    const windows = compile([
      { name: 'short', noStartItem: span('01:00', '02:00') },
      { name: 'long', noStartItem: span('00:30', '04:00') },
    ]);
    expect(windowAt(windows, 'noStartItem', at('2026-06-10T01:30:00Z'))?.window.label).toBe('"long"');
  });

  it('the next opening is the earliest', () => {
    const windows = compile([{ noStartItem: span('05:00', '06:00') }, { noStartItem: span('03:00', '04:00') }]);
    expect(nextWindowOpening(windows, 'noStartItem', at('2026-06-10T00:00:00Z'))?.window.label).toBe('windows[1]');
  });

  it('a start is allowed again once windows of either kind that touch or overlap have all closed', () => {
    const windows = compile([{ name: 'a', noStartItem: span('01:00', '02:59') }, { noRunItem: span('03:00', '04:00') }, { noStartItem: span('03:30', '04:30') }]);
    const blocked = startAllowed(windows, at('2026-06-10T01:30:00Z'));
    expect(iso(blocked.at)).toBe('2026-06-10T04:31:00.000Z');
    expect(blocked.blockedBy?.window.label).toBe('"a"');
    // Inside a noRunItem window no item starts either.
    expect(startAllowed(windows, at('2026-06-10T03:10:00Z')).blockedBy?.window.kind).toBe('noRunItem');
    expect(startAllowed(windows, at('2026-06-10T12:00:00Z'))).toEqual({ at: at('2026-06-10T12:00:00Z'), blockedBy: undefined });
    expect(startAllowed([], at('2026-06-10T12:00:00Z'))).toEqual({ at: at('2026-06-10T12:00:00Z'), blockedBy: undefined });
  });

  it(`none when windows hold every instant up to ${WINDOW_SEARCH_HORIZON / 86_400_000} days ahead`, () => {
    const always = compile([{ noStartItem: span('00:00', '23:59:59') }]);
    expect(startAllowed(always, at('2026-06-10T12:00:00Z')).at).toBeUndefined();
    expect(nextWindowOpening(compile([{ noRunItem: span('1:00', '2:00') }]), 'noStartItem', at('2026-06-10T12:00:00Z'))).toBeUndefined();
  });
});

describe('compileWindows', () => {
  it('leaves out a window with a problem, and a window whose zone is spec.timeZone when that has one; names each', () => {
    const { windows, problems } = compileWindows({
      oaatType: 't',
      timeZone: 'Nowhere/Town',
      windows: [
        { name: 'bad time', noStartItem: span('2am', '5am'), timeZone: 'UTC' },
        { name: 'own zone', noStartItem: span('02:00', '05:00'), timeZone: 'Europe/Berlin' },
        { name: 'group zone', noStartItem: span('02:00', '05:00') },
      ],
    });
    expect(windows.map((window) => window.label)).toEqual(['"own zone"']);
    expect(problems).toEqual([
      { path: 'spec.windows[0].noStartItem.start.time', message: `window "bad time": "2am" ${NOT_A_TIME_OF_DAY}` },
      { path: 'spec.windows[0].noStartItem.end.time', message: `window "bad time": "5am" ${NOT_A_TIME_OF_DAY}` },
      { path: 'spec.timeZone', message: `"Nowhere/Town" ${UNKNOWN_TIME_ZONE}` },
    ]);
  });

  it('has nothing to compile in a spec without windows, or in no spec', () => {
    expect(compileWindows({ oaatType: 't' })).toEqual({ windows: [], problems: [] });
    expect(compileWindows(undefined)).toEqual({ windows: [], problems: [] });
    expect(compileWindows({ oaatType: 't', windows: [null] })).toEqual({ windows: [], problems: [] });
    expect(compileWindows({ oaatType: 't', windows: 'all night' })).toEqual({ windows: [], problems: [{ path: 'spec.windows', message: 'Invalid value: must be of type array' }] });
  });
});
