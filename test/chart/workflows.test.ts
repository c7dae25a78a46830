/**
 * The GitHub Actions workflows in .github/workflows (not run here: no forge runner) pass
 * actionlint, built from the Go module proxy by hack/tools.sh; and actionlint does find a fault
 * in a workflow that has one, so a clean result means something. Its shellcheck and pyflakes
 * integrations are off, so the result does not depend on what else the machine has installed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../hack/gen-manifests.ts';

const WORKFLOWS = path.join(REPO_ROOT, '.github', 'workflows');
const workflows = readdirSync(WORKFLOWS).filter((name) => /\.ya?ml$/.test(name)).sort();

function actionlint(...files: string[]): { status: number | null; out: string } {
  const binary = process.env.ACTIONLINT;
  if (binary === undefined || binary === '') throw new Error('ACTIONLINT is not set: the chart project global setup resolves it (run `npm run test:chart`)');
  const result = spawnSync(binary, ['-no-color', '-shellcheck=', '-pyflakes=', ...files], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (result.error) throw result.error;
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

describe('.github/workflows', () => {
  it('holds the CI and release workflows', () => {
    expect(workflows).toEqual(['ci.yml', 'release.yml']);
  });

  it.each(workflows)('%s passes actionlint', (name) => {
    expect(actionlint(path.join(WORKFLOWS, name))).toEqual({ status: 0, out: '' });
  });

  it.each(workflows)('%s says in its header that it is not run in this repository', (name) => {
    const header = /^(#[^\n]*\n)+/.exec(readFileSync(path.join(WORKFLOWS, name), 'utf8'))?.[0] ?? '';
    expect(header.replace(/\n# /g, ' ')).toContain('NOT RUN IN THIS REPOSITORY: there is no forge runner here');
  });

  it('actionlint reports a workflow with a fault (an input actions/checkout does not have)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'oaat-actionlint-'));
    try {
      const broken = path.join(dir, 'broken.yml');
      writeFileSync(broken, 'on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n      - uses: actions/checkout@v6\n        with:\n          fetch-deep: 1\n');
      const result = actionlint(broken);
      expect(result.status).toBe(1);
      expect(result.out).toContain('input "fetch-deep" is not defined in action "actions/checkout@v6"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
