import { readdirSync, readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { DURATION_IS_ZERO, DURATION_TOO_LONG, NOT_A_DURATION } from '../../../src/api/v1/duration.ts';
import { MAX_ITEMS, MAX_WINDOWS, OAAT_TYPE_RULES, WINDOW_RULES } from '../../../src/api/v1/schema.ts';
import { NOT_A_TIME_OF_DAY, NOT_A_TIME_ZONE_NAME, UNKNOWN_TIME_ZONE } from '../../../src/api/v1/time-of-day.ts';
import { validateGroupSpec, validateOaatType, validateWindows, type Problem } from '../../../src/api/v1/validation.ts';

const REPO = new URL('../../../', import.meta.url);

/** The documents of a YAML file of the repository. */
function documents(path: string): Record<string, unknown>[] {
  return parseAllDocuments(readFileSync(new URL(path, REPO), 'utf8')).map((document) => document.toJS() as Record<string, unknown>);
}

const validSpec = { frequency: '5m', oaatType: 'oaattest', oaatItems: ['item1', 'item2'] };
const errorsOf = (spec: unknown): Problem[] => validateGroupSpec(spec).errors;
const withSpec = (changes: Record<string, unknown>): Record<string, unknown> => ({ ...validSpec, ...changes });

const validType = {
  apiVersion: 'kawaja.net/v1',
  kind: 'OaatType',
  metadata: { name: 'oaattest' },
  spec: { type: 'pod', podspec: { container: { name: 'test', image: 'busybox' } } },
};
const withPodspec = (podspec: unknown): unknown => ({ ...validType, spec: { type: 'pod', podspec } });

describe('validateGroupSpec', () => {
  it('accepts a valid spec and lists its items', () => {
    expect(validateGroupSpec(validSpec)).toEqual({ errors: [], warnings: [], items: ['item1', 'item2'], duplicates: [] });
  });

  it('requires a spec', () => {
    expect(errorsOf(undefined)).toEqual([{ path: 'spec', message: 'Required value' }]);
    expect(errorsOf(null)).toEqual([{ path: 'spec', message: 'Required value' }]);
    expect(errorsOf('5m')).toEqual([{ path: 'spec', message: 'Invalid value: must be of type object' }]);
  });

  describe('spec.oaatType', () => {
    it('is required', () => {
      expect(errorsOf({ oaatItems: ['a'] })).toEqual([{ path: 'spec.oaatType', message: 'Required value' }]);
      expect(errorsOf(withSpec({ oaatType: null }))).toEqual([{ path: 'spec.oaatType', message: 'Required value' }]);
    });

    it('is a name of 1 to 253 characters', () => {
      expect(errorsOf(withSpec({ oaatType: '' }))).toEqual([{ path: 'spec.oaatType', message: 'Invalid value: must not be empty' }]);
      expect(errorsOf(withSpec({ oaatType: 'x'.repeat(253) }))).toEqual([]);
      expect(errorsOf(withSpec({ oaatType: 'x'.repeat(254) }))).toEqual([
        { path: 'spec.oaatType', message: 'Too long: 254 characters, at most 253 are allowed' },
      ]);
      expect(errorsOf(withSpec({ oaatType: 7 }))).toEqual([{ path: 'spec.oaatType', message: 'Invalid value: must be of type string' }]);
    });
  });

  describe('spec.frequency', () => {
    it('is optional', () => {
      expect(errorsOf(withSpec({ frequency: undefined }))).toEqual([]);
      expect(errorsOf(withSpec({ frequency: null }))).toEqual([]);
    });

    it.each([
      ['1.5h', NOT_A_DURATION],
      ['-5m', NOT_A_DURATION],
      ['90', NOT_A_DURATION],
      ['0s', DURATION_IS_ZERO],
      ['99999999999w', DURATION_TOO_LONG],
    ])('rejects %j with the duration message', (frequency, message) => {
      expect(errorsOf(withSpec({ frequency }))).toEqual([{ path: 'spec.frequency', message: `"${frequency}" ${message}` }]);
    });

    it('rejects a text over 64 characters as too long, once', () => {
      const frequency = `5m${' '.repeat(63)}`;
      expect(errorsOf(withSpec({ frequency }))).toEqual([{ path: 'spec.frequency', message: 'Too long: 65 characters, at most 64 are allowed' }]);
    });

    it('must be a string', () => {
      expect(errorsOf(withSpec({ frequency: 300 }))).toEqual([{ path: 'spec.frequency', message: 'Invalid value: must be of type string' }]);
    });
  });

  describe('spec.failureCoolOff', () => {
    it('may be zero (no cool-off) or any duration', () => {
      expect(errorsOf(withSpec({ failureCoolOff: '0s' }))).toEqual([]);
      expect(errorsOf(withSpec({ failureCoolOff: '10 minutes' }))).toEqual([]);
    });

    it.each([
      ['1.5h', NOT_A_DURATION],
      ['5', NOT_A_DURATION],
      ['5300w', DURATION_TOO_LONG],
    ])('rejects %j with the duration message', (failureCoolOff, message) => {
      expect(errorsOf(withSpec({ failureCoolOff }))).toEqual([{ path: 'spec.failureCoolOff', message: `"${failureCoolOff}" ${message}` }]);
    });
  });

  describe('spec.failureBackoff', () => {
    it('may be empty (the defaults) or set both fields', () => {
      expect(errorsOf(withSpec({ failureBackoff: {} }))).toEqual([]);
      expect(errorsOf(withSpec({ failureBackoff: { multiplier: 3, max: '6h' } }))).toEqual([]);
    });

    it.each([
      [{ multiplier: 1 }, 'spec.failureBackoff.multiplier', 'Invalid value: 1: must be greater than or equal to 2'],
      [{ multiplier: 101 }, 'spec.failureBackoff.multiplier', 'Invalid value: 101: must be less than or equal to 100'],
      [{ multiplier: 2.5 }, 'spec.failureBackoff.multiplier', 'Invalid value: must be of type integer'],
      [{ max: '0s' }, 'spec.failureBackoff.max', `"0s" ${DURATION_IS_ZERO}`],
      [{ max: '1.5h' }, 'spec.failureBackoff.max', `"1.5h" ${NOT_A_DURATION}`],
    ])('rejects %j', (failureBackoff, path, message) => {
      expect(errorsOf(withSpec({ failureBackoff }))).toEqual([{ path, message }]);
    });
  });

  describe('spec.runtimePrediction', () => {
    it.each([
      [{ percentile: 101 }, 'spec.runtimePrediction.percentile', 'Invalid value: 101: must be less than or equal to 100'],
      [{ marginPercent: -1 }, 'spec.runtimePrediction.marginPercent', 'Invalid value: -1: must be greater than or equal to 0'],
      [{ minBuffer: '5' }, 'spec.runtimePrediction.minBuffer', `"5" ${NOT_A_DURATION}`],
      [{ defaultRuntime: '0s' }, 'spec.runtimePrediction.defaultRuntime', `"0s" ${DURATION_IS_ZERO}`],
    ])('rejects %j', (runtimePrediction, path, message) => {
      expect(errorsOf(withSpec({ runtimePrediction }))).toEqual([{ path, message }]);
    });

    it('accepts a zero minimum buffer and every field at once', () => {
      expect(errorsOf(withSpec({ runtimePrediction: { percentile: 50, marginPercent: 0, minBuffer: '0s', defaultRuntime: '30m' } }))).toEqual([]);
    });
  });

  describe('spec.oaatItems', () => {
    it('is optional: a group without items is valid and has none', () => {
      expect(validateGroupSpec({ oaatType: 't' })).toEqual({ errors: [], warnings: [], items: [], duplicates: [] });
    });

    it(`holds at most ${MAX_ITEMS} items`, () => {
      const items = (count: number): string[] => Array.from({ length: count }, (_, i) => `item-${i}`);
      expect(errorsOf(withSpec({ oaatItems: items(MAX_ITEMS) }))).toEqual([]);
      expect(errorsOf(withSpec({ oaatItems: items(MAX_ITEMS + 1) }))).toEqual([
        { path: 'spec.oaatItems', message: 'Too many: 1001 items, at most 1000 are allowed' },
      ]);
    });

    it('holds names of 1 to 253 characters, and only those are items', () => {
      const report = validateGroupSpec(withSpec({ oaatItems: ['a', '', 'b'.repeat(254), 5, 'any string: ü/ü'] }));
      expect(report.errors).toEqual([
        { path: 'spec.oaatItems[1]', message: 'Invalid value: must not be empty' },
        { path: 'spec.oaatItems[2]', message: 'Too long: 254 characters, at most 253 are allowed' },
        { path: 'spec.oaatItems[3]', message: 'Invalid value: must be of type string' },
      ]);
      expect(report.items).toEqual(['a', 'any string: ü/ü']);
    });

    it('counts characters, not UTF-16 units', () => {
      expect(errorsOf(withSpec({ oaatItems: ['😀'.repeat(253)] }))).toEqual([]);
    });

    it('accepts duplicates, runs each once and warns about them', () => {
      const report = validateGroupSpec(withSpec({ oaatItems: ['a', 'b', 'a', 'c', 'b', 'a'] }));
      expect(report).toEqual({
        errors: [],
        warnings: [{ path: 'spec.oaatItems', message: 'Duplicate value: "a", "b" listed more than once; each runs as one item' }],
        items: ['a', 'b', 'c'],
        duplicates: ['a', 'b'],
      });
    });

    it('names at most ten duplicates in the warning', () => {
      const names = Array.from({ length: 12 }, (_, i) => `n${i}`);
      const report = validateGroupSpec(withSpec({ oaatItems: [...names, ...names] }));
      expect(report.duplicates).toEqual(names);
      expect(report.warnings[0]?.message).toMatch(/^Duplicate value: "n0", .*"n9" and 2 more listed more than once/);
    });
  });

  it('checks the types of spec.windows and spec.paused', () => {
    expect(errorsOf(withSpec({ windows: [{ noStartItem: { start: { time: '02:00' }, end: { time: '05:00' } } }], paused: true }))).toEqual([]);
    expect(errorsOf(withSpec({ windows: [{ noStartItem: { start: { time: 2 }, end: { time: '05:00' } } }], paused: 'yes' }))).toEqual([
      { path: 'spec.windows[0].noStartItem.start.time', message: 'window windows[0]: Invalid value: must be of type string' },
      { path: 'spec.paused', message: 'Invalid value: must be of type boolean' },
    ]);
  });

  describe('spec.windows and spec.timeZone', () => {
    const span = (start: string, end: string): Record<string, unknown> => ({ start: { time: start }, end: { time: end } });
    const windowErrors = (window: Record<string, unknown>, extra: Record<string, unknown> = {}): Problem[] => errorsOf(withSpec({ windows: [window], ...extra }));

    it("accepts the original's windows (no name, noStartItem only) and the new fields", () => {
      expect(windowErrors({ noStartItem: span('02:00', '05:00') })).toEqual([]);
      expect(windowErrors({ name: 'backup', noRunItem: span('22:00', '02:00'), timeZone: 'Europe/Berlin', days: ['Mon', 'Sun'] }, { timeZone: 'America/New_York' })).toEqual([]);
    });

    it.each(['2:00', '02:00', '23:59:59', '0:00:00', '02:00 +10:00', '02:00+10:00', '02:00Z', '02:00 -0530', '02:00 +1:30', '02:00 -14:00'])('accepts the time %j', (time) => {
      expect(windowErrors({ noStartItem: span(time, time) })).toEqual([]);
    });

    it.each(['24:00', '2:0', '02:00:60', '12:60', '02:00 +15:00', '02:00 +10', '02:00 PST', 'noon', '', ' 02:00', '02:00 ', '02.00'])(
      'rejects the time %j, naming the window',
      (time) => {
        expect(windowErrors({ name: 'nightly', noStartItem: span('01:00', time) })).toEqual([
          { path: 'spec.windows[0].noStartItem.end.time', message: `window "nightly": ${JSON.stringify(time)} ${NOT_A_TIME_OF_DAY}` },
        ]);
      },
    );

    it('requires exactly one of noStartItem and noRunItem, each with a start and an end time', () => {
      const oneKind = `window windows[0]: ${WINDOW_RULES.oneKind.message}`;
      expect(windowErrors({ noStartItem: span('1:00', '2:00'), noRunItem: span('1:00', '2:00') })).toEqual([{ path: 'spec.windows[0]', message: oneKind }]);
      expect(windowErrors({ name: 'empty' })).toEqual([{ path: 'spec.windows[0]', message: `window "empty": ${WINDOW_RULES.oneKind.message}` }]);
      expect(windowErrors({ noRunItem: { start: {} } })).toEqual([
        { path: 'spec.windows[0].noRunItem.end', message: 'window windows[0]: Required value' },
        { path: 'spec.windows[0].noRunItem.start.time', message: 'window windows[0]: Required value' },
      ]);
    });

    it('accepts stopRunning on a noRunItem window only', () => {
      expect(windowErrors({ noRunItem: span('1:00', '2:00'), stopRunning: true })).toEqual([]);
      expect(windowErrors({ noStartItem: span('1:00', '2:00'), stopRunning: false })).toEqual([]);
      expect(windowErrors({ noStartItem: span('1:00', '2:00'), stopRunning: true })).toEqual([
        { path: 'spec.windows[0]', message: `window windows[0]: ${WINDOW_RULES.stopRunningNoRun.message}` },
      ]);
    });

    it('requires days from Mon to Sun, at least one', () => {
      expect(windowErrors({ noStartItem: span('1:00', '2:00'), days: ['Mon', 'monday'] })).toEqual([
        { path: 'spec.windows[0].days[1]', message: 'window windows[0]: Unsupported value: "monday": supported values: "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"' },
      ]);
      expect(windowErrors({ noStartItem: span('1:00', '2:00'), days: [] })).toEqual([
        { path: 'spec.windows[0].days', message: 'window windows[0]: Too few: 0 items, at least 1 is required' },
      ]);
    });

    it('requires unique names (unnamed windows are called by their index)', () => {
      const windows = [{ name: 'a', noStartItem: span('1:00', '2:00') }, { noStartItem: span('1:00', '2:00') }, { noStartItem: span('1:00', '2:00') }];
      expect(errorsOf(withSpec({ windows }))).toEqual([]);
      expect(errorsOf(withSpec({ windows: [...windows, { name: 'a', noRunItem: span('3:00', '4:00') }] }))).toEqual([
        { path: 'spec.windows', message: WINDOW_RULES.uniqueNames.message },
      ]);
      expect(errorsOf(withSpec({ windows: Array.from({ length: MAX_WINDOWS + 1 }, () => ({ noStartItem: span('1:00', '2:00') })) }))).toEqual([
        { path: 'spec.windows', message: `Too many: ${MAX_WINDOWS + 1} items, at most ${MAX_WINDOWS} are allowed` },
      ]);
    });

    it('requires time zones the operator knows, by IANA name', () => {
      expect(windowErrors({ noStartItem: span('1:00', '2:00'), timeZone: 'Europe/Nowhere' }, { timeZone: 'Mars/Olympus_Mons' })).toEqual([
        { path: 'spec.timeZone', message: `"Mars/Olympus_Mons" ${UNKNOWN_TIME_ZONE}` },
        { path: 'spec.windows[0].timeZone', message: `window windows[0]: "Europe/Nowhere" ${UNKNOWN_TIME_ZONE}` },
      ]);
      expect(windowErrors({ noStartItem: span('1:00', '2:00'), timeZone: '+10:00' })).toEqual([
        { path: 'spec.windows[0].timeZone', message: `window windows[0]: "+10:00" ${NOT_A_TIME_ZONE_NAME}` },
      ]);
      expect(windowErrors({ noStartItem: span('1:00', '2:00') }, { timeZone: 'UTC' })).toEqual([]);
      expect(windowErrors({ noStartItem: span('1:00', '2:00'), timeZone: 'Etc/GMT+5' })).toEqual([]);
    });

    it('requires the same UTC offset at both ends of a window, or none', () => {
      expect(windowErrors({ noStartItem: span('22:00 +10:00', '05:00 +1000') })).toEqual([]);
      expect(windowErrors({ noStartItem: span('22:00Z', '05:00 +00:00') })).toEqual([]);
      expect(windowErrors({ name: 'mixed', noStartItem: span('22:00 +10:00', '05:00') })).toEqual([
        { path: 'spec.windows[0].noStartItem.end.time', message: 'window "mixed": Invalid value: "05:00": give start and end the same UTC offset, or none (the start is "22:00 +10:00")' },
      ]);
    });

    it('validateWindows reports exactly the window and zone part of the errors', () => {
      const spec = withSpec({ frequency: 'often', timeZone: 'Nowhere', windows: [{ name: 'x', noStartItem: span('25:00', '1:00') }, { noRunItem: span('1:00', '2:00'), timeZone: 'Nowhere/Else' }] });
      const errors = errorsOf(spec);
      expect(errors.map((p) => p.path)).toEqual(['spec.frequency', 'spec.windows[0].noStartItem.start.time', 'spec.timeZone', 'spec.windows[1].timeZone']);
      expect(validateWindows(spec)).toEqual(errors.slice(1));
    });
  });

  it('ignores fields the schema does not declare (the API server prunes them)', () => {
    expect(errorsOf(withSpec({ oaatItemListAction: null, extra: { any: 'thing' } }))).toEqual([]);
  });

  it('reports every problem, not only the first', () => {
    expect(errorsOf({ frequency: 'often', failureCoolOff: 'never', oaatItems: [''] }).map((p) => p.path)).toEqual([
      'spec.oaatType',
      'spec.frequency',
      'spec.failureCoolOff',
      'spec.oaatItems[0]',
    ]);
  });
});

describe('validateOaatType', () => {
  it('accepts a valid OaatType', () => {
    expect(validateOaatType(validType)).toEqual([]);
  });

  it('requires a spec (missing spec in OaatType definition)', () => {
    expect(validateOaatType({ ...validType, spec: undefined })).toEqual([{ path: 'spec', message: 'Required value' }]);
    expect(validateOaatType(undefined)).toEqual([{ path: 'spec', message: 'Required value' }]);
  });

  it.each([undefined, 'job', 'Pod', ''])('requires spec.type "pod" (got %j)', (type) => {
    expect(validateOaatType({ ...validType, spec: { ...validType.spec, type } })).toEqual([
      { path: 'spec.type', message: 'must be "pod" (the only kind of OaatType)' },
    ]);
  });

  it.each([undefined, null])('requires spec.podspec (got %j)', (podspec) => {
    expect(validateOaatType(withPodspec(podspec))).toEqual([
      { path: 'spec.podspec', message: `Required value: ${OAAT_TYPE_RULES.podspecPresent.message}` },
    ]);
  });

  it.each([{}, { volumes: [] }, { container: null }])('requires spec.podspec.container (podspec %j)', (podspec) => {
    expect(validateOaatType(withPodspec(podspec))).toEqual([
      { path: 'spec.podspec.container', message: 'Required value: the container that runs an item (name, image, command, ...)' },
    ]);
  });

  it('refuses an empty container', () => {
    expect(validateOaatType(withPodspec({ container: {} }))).toEqual([
      { path: 'spec.podspec.container', message: 'Invalid value: must have at least 1 field' },
    ]);
  });

  it('refuses spec.podspec.containers unless it is empty (the original refused only a non-empty list)', () => {
    const container = { name: 'test', image: 'busybox' };
    expect(validateOaatType(withPodspec({ container, containers: [container] }))).toEqual([
      { path: 'spec.podspec.containers', message: `Forbidden: ${OAAT_TYPE_RULES.noContainers.message}` },
    ]);
    expect(validateOaatType(withPodspec({ container, containers: [] }))).toEqual([]);
  });

  it('refuses spec.podspec.restartPolicy unless it is empty (the original refused only a non-empty one)', () => {
    const container = { name: 'test', image: 'busybox' };
    expect(validateOaatType(withPodspec({ container, restartPolicy: 'Never' }))).toEqual([
      { path: 'spec.podspec.restartPolicy', message: 'Forbidden: item pods always run with restartPolicy Never' },
    ]);
    expect(validateOaatType(withPodspec({ container, restartPolicy: '' }))).toEqual([]);
  });

  it('leaves the pod spec and the container open: any other field is the API server\'s to judge', () => {
    expect(validateOaatType(withPodspec({ container: { name: 'x', anything: { at: 'all' } }, volumes: [{ name: 'v' }], hostNetwork: true }))).toEqual([]);
  });

  it('checks the types of the fields its rules read', () => {
    expect(validateOaatType(withPodspec({ container: 'busybox', containers: {}, restartPolicy: 1 }))).toEqual([
      { path: 'spec.podspec.container', message: 'Invalid value: must be of type object' },
      { path: 'spec.podspec.containers', message: 'Invalid value: must be of type array' },
      { path: 'spec.podspec.restartPolicy', message: 'Invalid value: must be of type string' },
    ]);
  });

  it('reports every problem of the original\'s checks at once', () => {
    expect(validateOaatType({ spec: { type: 'job', podspec: { containers: [{ name: 'a' }], restartPolicy: 'Always' } } }).map((p) => p.path)).toEqual([
      'spec.podspec.containers',
      'spec.podspec.restartPolicy',
      'spec.podspec.container',
      'spec.type',
    ]);
  });
});

describe('manifests', () => {
  const originals = readdirSync(new URL('test/fixtures/original/', REPO), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.yaml'))
    .map((file) => `test/fixtures/original/${file}`);
  const files = [...originals.sort(), 'config/samples/oaattype.yaml', 'config/samples/oaatgroup.yaml'];

  it.each(files)('%s: every OaatType, and every OaatGroup with a spec, passes the runtime validator', (file) => {
    for (const object of documents(file)) {
      if (object.kind === 'OaatType') expect(validateOaatType(object)).toEqual([]);
      if (object.kind === 'OaatGroup' && object.spec !== undefined) expect(validateGroupSpec(object.spec).errors).toEqual([]);
    }
  });
});
