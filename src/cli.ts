/**
 * The command line: a flag for every setting (`--workers=8` for OAAT_WORKERS=8; a flag wins
 * over the environment), `--help` and `--version`. Parsing is strict: an unknown flag, a flag
 * without a value or a stray argument is refused, naming it.
 */
import { parseArgs } from 'node:util';
import { describeSettings } from './config.ts';

type Setting = ReturnType<typeof describeSettings>[number];

/** What the command line asks for: run with these settings (by environment variable name), or exit. */
export type CommandLine =
  | { run: true; flags: Record<string, string> }
  | { run: false; exitCode: number; stdout?: string; stderr?: string };

export function parseCommandLine(args: readonly string[], version: string): CommandLine {
  const settings = describeSettings();
  /** parseArgs's option name of a setting: its flag without the dashes. */
  const option = (setting: Setting): string => setting.flag.slice(2);
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
        ...Object.fromEntries(settings.map((setting) => [option(setting), { type: 'string' as const }])),
      },
    });
  } catch (error) {
    return { run: false, exitCode: 2, stderr: `oaat-operator: ${(error as Error).message}\nSee oaat-operator --help.\n` };
  }
  const { help, version: showVersion, ...values } = parsed.values as Record<string, string | boolean | undefined>;
  if (help === true) return { run: false, exitCode: 0, stdout: usage(version, settings) };
  if (showVersion === true) return { run: false, exitCode: 0, stdout: `oaat-operator ${version}\n` };
  const flags: Record<string, string> = {};
  for (const setting of settings) {
    const value = values[option(setting)];
    if (typeof value === 'string') flags[setting.env] = value;
  }
  return { run: true, flags };
}

function usage(version: string, settings: readonly Setting[]): string {
  const rows = settings.map((setting) => [setting.flag, setting.env, setting.fallback === '' ? '-' : setting.fallback, setting.help]);
  const width = (column: number): number => Math.max(...rows.map((row) => row[column]?.length ?? 0));
  const widths = [width(0), width(1), width(2)];
  const lines = rows.map((row) => `  ${row.slice(0, 3).map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ')}  ${row[3] ?? ''}`);
  return [
    `oaat-operator ${version}: runs the items of each OaatGroup one at a time.`,
    '',
    'Usage: oaat-operator [--SETTING=VALUE ...]',
    '',
    'Every setting is a flag or an environment variable; a flag wins. Durations are written as',
    'in Go: 500ms, 15s, 1m30s. The kubeconfig is found as kubectl finds it (KUBECONFIG,',
    '~/.kube/config), else the pod\'s service account.',
    '',
    `  ${'flag'.padEnd(widths[0] ?? 0)}  ${'variable'.padEnd(widths[1] ?? 0)}  ${'default'.padEnd(widths[2] ?? 0)}`,
    ...lines,
    '',
    '  -h, --help     this text',
    '  --version      the version',
    '',
  ].join('\n');
}
