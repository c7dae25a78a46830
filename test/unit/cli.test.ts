import { parseCommandLine } from '../../src/cli.ts';
import { CONFIG_ENV, describeSettings, flagOf, formatGoDuration, loadConfig } from '../../src/config.ts';

describe('parseCommandLine', () => {
  it('gives each setting\'s flag value under its environment variable name', () => {
    expect(parseCommandLine(['--workers=8', '--leader-elect', 'false', '--watch-namespaces=a,b'], '1.2.3')).toEqual({
      run: true,
      flags: { OAAT_WORKERS: '8', OAAT_LEADER_ELECT: 'false', OAAT_WATCH_NAMESPACES: 'a,b' },
    });
    expect(parseCommandLine([], '1.2.3')).toEqual({ run: true, flags: {} });
  });

  it('refuses an unknown flag, a flag without its value and a stray argument, naming each, with exit code 2', () => {
    for (const [args, named] of [[['--wrokers=8'], '--wrokers'], [['--workers'], '--workers'], [['extra'], 'extra']] as const) {
      const outcome = parseCommandLine(args, '1.2.3');
      expect(outcome).toMatchObject({ run: false, exitCode: 2 });
      expect(outcome.run ? '' : outcome.stderr).toContain(named);
    }
  });

  it('prints the version, and a help that lists every setting with its variable and default', () => {
    expect(parseCommandLine(['--version'], '1.2.3')).toEqual({ run: false, exitCode: 0, stdout: 'oaat-operator 1.2.3\n' });
    const help = parseCommandLine(['--help'], '1.2.3');
    const text = help.run ? '' : (help.stdout ?? '');
    expect(help).toMatchObject({ run: false, exitCode: 0 });
    for (const env of Object.values(CONFIG_ENV)) expect(text).toMatch(new RegExp(`^  ${flagOf(env)} +${env} `, 'm'));
    expect(text).toMatch(/^ {2}--workers +OAAT_WORKERS +256 +reconciles at once/m);
    expect(text).toMatch(/^ {2}--pod-retention +OAAT_POD_RETENTION +12h /m);
    expect(parseCommandLine(['-h'], '1.2.3')).toEqual(help);
  });
});

describe('settings from flags', () => {
  it('lets a flag win over the environment, and names the flag in an error about it', () => {
    expect(loadConfig({ OAAT_WORKERS: '2' }, { OAAT_WORKERS: '8' }).workers).toBe(8);
    expect(() => loadConfig({}, { OAAT_WORKERS: '0' })).toThrow('--workers="0": expected an integer >= 1');
    expect(() => loadConfig({ OAAT_WORKERS: '0' })).toThrow('OAAT_WORKERS="0": expected an integer >= 1');
    expect(() => loadConfig({ OAAT_CREATE_GRACE: '10s' }, { OAAT_REQUEST_TIMEOUT: '20s' })).toThrow(
      '--request-timeout must be shorter than OAAT_CREATE_GRACE',
    );
  });

  it('describes every setting once, with the default loadConfig applies', () => {
    const settings = describeSettings();
    expect(settings.map((setting) => setting.env).sort()).toEqual(Object.values(CONFIG_ENV).sort());
    const defaults = loadConfig({});
    const fromDescribed = loadConfig(Object.fromEntries(settings.map((setting) => [setting.env, setting.fallback])));
    expect(fromDescribed).toEqual(defaults);
  });
});

describe('formatGoDuration', () => {
  it.each([
    [5, '5ms'],
    [1_000, '1s'],
    [90_000, '1m30s'],
    [43_200_000, '12h'],
    [3_661_001, '1h1m1s1ms'],
    [0, '0s'],
  ])('writes %d ms as %s', (ms, text) => {
    expect(formatGoDuration(ms)).toBe(text);
  });
});
