/**
 * The samples people copy: no item spliced into a shell script (an item is any string a group's
 * author writes; spliced into `sh -c` text it would run as commands).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

const SAMPLES = new URL('../../config/samples/', import.meta.url);
const SHELLS = /(^|\/)(sh|bash|ash|dash|zsh|ksh)$/;
const PLACEHOLDER = /\{\{oaat_item\}\}|%%oaat_item%%/;

interface Container {
  command?: string[];
  args?: string[];
}

/** The script a shell container runs with -c (the first argument after -c), if it is one. */
function shellScript({ command = [], args = [] }: Container): string | undefined {
  const argv = [...command, ...args];
  const dashC = argv.indexOf('-c');
  return SHELLS.test(argv[0] ?? '') && dashC > 0 ? argv[dashC + 1] : undefined;
}

it('finds a spliced item in a shell script, and not in a quoted variable or a plain argument', () => {
  expect(shellScript({ command: ['sh', '-c'], args: ['echo {{oaat_item}}'] })).toMatch(PLACEHOLDER);
  expect(shellScript({ command: ['/bin/bash', '-c', 'echo "$OAAT_ITEM"'] })).not.toMatch(PLACEHOLDER);
  expect(shellScript({ command: ['backup'], args: ['{{oaat_item}}'] })).toBeUndefined();
});

it.each(readdirSync(SAMPLES).filter((file) => file.endsWith('.yaml')))('config/samples/%s splices no item into a shell script', (file) => {
  for (const document of parseAllDocuments(readFileSync(new URL(file, SAMPLES), 'utf8'))) {
    const object = document.toJS() as { kind?: string; spec?: { podspec?: { container?: Container } } } | null;
    if (object?.kind !== 'OaatType') continue;
    const script = shellScript(object.spec?.podspec?.container ?? {});
    expect(script === undefined || !PLACEHOLDER.test(script)).toBe(true);
  }
});
