/**
 * The samples people copy: no item spliced into a shell script (an item is any string a group's
 * author writes; spliced into `sh -c` text it would run as commands), and pods that Pod Security
 * `restricted` admits (test/e2e/cluster-wide.test.ts runs them in a namespace enforcing it).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

const SAMPLES = new URL('../../config/samples/', import.meta.url);
const SHELLS = /(^|\/)(sh|bash|ash|dash|zsh|ksh)$/;
const PLACEHOLDER = /\{\{oaat_item\}\}|%%oaat_item%%/;

interface Container {
  command?: string[];
  args?: string[];
  securityContext?: Record<string, unknown>;
}

interface OaatTypeSample {
  kind?: string;
  spec?: { podspec?: { container?: Container; securityContext?: Record<string, unknown> } };
}

function oaatTypes(file: string): OaatTypeSample[] {
  return parseAllDocuments(readFileSync(new URL(file, SAMPLES), 'utf8'))
    .map((document) => document.toJS() as OaatTypeSample | null)
    .filter((object): object is OaatTypeSample => object?.kind === 'OaatType');
}

const SAMPLE_FILES = readdirSync(SAMPLES).filter((file) => file.endsWith('.yaml'));

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

it.each(SAMPLE_FILES)('config/samples/%s splices no item into a shell script', (file) => {
  for (const object of oaatTypes(file)) {
    const script = shellScript(object.spec?.podspec?.container ?? {});
    expect(script === undefined || !PLACEHOLDER.test(script)).toBe(true);
  }
});

it.each(SAMPLE_FILES)('config/samples/%s: the OaatType\'s pods meet Pod Security `restricted`', (file) => {
  for (const object of oaatTypes(file)) {
    expect(object.spec?.podspec?.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(object.spec?.podspec?.container?.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
  }
});
