/**
 * The operator's command line as a user meets it: `--help`, `--version`, and a wrong flag,
 * through the real entry point (no cluster is needed for any of them).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../support/control-plane.ts';

const run = (...args: string[]): { status: number | null; stdout: string; stderr: string } =>
  spawnSync(process.execPath, ['--experimental-transform-types', '--disable-warning=ExperimentalWarning', path.join(REPO_ROOT, 'src/main.ts'), ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', KUBECONFIG: '/nonexistent' },
  });

it('--help lists every setting and exits 0; --version prints package.json\'s version', () => {
  const help = run('--help');
  expect(help.status).toBe(0);
  for (const flag of ['--watch-namespaces', '--workers', '--client-qps', '--shutdown-timeout', '--http-address', '--log-format']) expect(help.stdout).toContain(flag);
  const { version } = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  expect(run('--version')).toMatchObject({ status: 0, stdout: `oaat-operator ${version}\n` });
});

it('refuses a wrong flag or value with exit code 2, naming it, before it looks for a cluster', () => {
  const unknown = run('--wrokers=8');
  expect(unknown.status).toBe(2);
  expect(unknown.stderr).toContain('--wrokers');
  const bad = run('--workers=0');
  expect(bad.status).toBe(2);
  expect(bad.stderr).toContain('--workers="0": expected an integer >= 1');
});
