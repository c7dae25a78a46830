/**
 * `kubectl oaat` against the real control plane: every command, its JSON/YAML output, its
 * errors (unknown group, no permission, no cluster, bad arguments), and kubectl finding the
 * plugin on PATH. The plugin runs as a child process, as users run it.
 */
import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import type { TestCluster } from '../../support/cluster.ts';
import { operatorSuite, type OaatNamespace } from '../../support/oaat.ts';

const suite = operatorSuite('T1', 'plugin');
const cluster = (): TestCluster => suite.cluster;
const ns = (): OaatNamespace => suite.ns;

const REPO_ROOT = path.resolve(import.meta.dirname, '../../..');
const run = promisify(execFile);

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `kubectl oaat <args>` (the TypeScript entry) with the test cluster's kubeconfig unless `env` says otherwise. */
async function oaat(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--experimental-transform-types', '--disable-warning=ExperimentalWarning', path.join(REPO_ROOT, 'src/plugin/main.ts'), ...args],
      { env: { PATH: process.env.PATH, HOME: process.env.HOME, KUBECONFIG: cluster().info.kubeconfig, ...env }, timeout: 60_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

const minutesAgo = (minutes: number): string => new Date(Date.now() - minutes * 60_000).toISOString();
const runtime = (seconds: number[]) => ({
  count: seconds.length,
  total: seconds.reduce((sum, s) => sum + s, 0),
  sumSquares: seconds.reduce((sum, s) => sum + s * s, 0),
  min: Math.min(...seconds),
  max: Math.max(...seconds),
  sample: [...seconds].sort((a, b) => a - b),
});

/** A group with history as the operator would have written it (no operator runs in these tests unless started). */
async function seededGroup(name: string): Promise<void> {
  await ns().group(name, ['alpha', 'beta', 'gamma'], { frequency: '1h' });
  await ns().seedStatus(name, {
    currentRun: { id: 'r7', item: 'gamma', podName: `${name}-gamma-r7`, claimedAt: minutesAgo(3), seq: 7 },
    next: { reason: 'Frequency', item: 'beta', at: new Date(Date.now() + 20 * 60_000).toISOString() },
    items: {
      alpha: { last_success: minutesAgo(200), runtime: runtime([60, 120, 180]), last_run: { id: 'r5', outcome: 'Succeeded', finishedAt: minutesAgo(200) } },
      beta: { last_success: minutesAgo(30), last_failure: minutesAgo(90), failure_count: 0, runtime: runtime([600]) },
      gamma: { last_failure: minutesAgo(10), failure_count: 2, last_run: { id: 'r6', outcome: 'Failed', finishedAt: minutesAgo(10) } },
    },
  });
}

it('status: the running item and for how long, the next item, failing and overdue items; one group or all, as a table, JSON or YAML', async () => {
  await seededGroup('nightly');
  await ns().group('empty', [], { frequency: '1h' });

  const one = await oaat(['status', 'nightly', '-n', ns().name]);
  expect(one).toMatchObject({ code: 0, stderr: '' });
  const [header, row] = one.stdout.trimEnd().split('\n');
  expect(header?.split(/\s{2,}/)).toEqual(['GROUP', 'RUNNING', 'FOR', 'NEXT', 'WHEN', 'WHY', 'FAILING', 'OVERDUE']);
  expect(row?.split(/\s{2,}/)).toEqual(['nightly', 'gamma', expect.stringMatching(/^3m\d*s?$/), 'beta', expect.stringMatching(/^in (19m|20m)/), 'Frequency', 'gamma(2)', 'alpha']);

  const all = await oaat(['status', '-n', ns().name, '-o', 'json']);
  const views = JSON.parse(all.stdout) as { group: string; running?: { item: string }; failing: unknown[]; overdue: unknown[] }[];
  expect(views.map((view) => view.group).sort()).toEqual(['empty', 'nightly']);
  expect(views.find((view) => view.group === 'nightly')).toMatchObject({ namespace: ns().name, running: { item: 'gamma' }, failing: [{ item: 'gamma', failures: 2 }], overdue: [{ item: 'alpha' }] });

  const everywhere = await oaat(['status', '-A']);
  expect(everywhere.stdout.split('\n')[0]).toMatch(/^NAMESPACE\s+GROUP\s+RUNNING/);
  expect(everywhere.stdout).toMatch(new RegExp(`${ns().name}\\s+nightly\\s+gamma`));

  const yaml = parse((await oaat(['status', 'nightly', '-n', ns().name, '-o', 'yaml'])).stdout) as unknown[];
  expect(yaml).toEqual([expect.objectContaining({ group: 'nightly', next: expect.objectContaining({ item: 'beta', reason: 'Frequency' }) as unknown })]);
});

/** `<minutes>m ago`, and the seconds the test took since it wrote the time. */
const ago = (minutes: number): unknown => expect.stringMatching(new RegExp(`^${String(minutes)}m(\\d+s)? ago$`));

it('history: each item\'s last success and failure, failures, last outcome and runtime percentiles', async () => {
  await seededGroup('nightly');
  const table = await oaat(['history', 'nightly', '-n', ns().name]);
  expect(table.code).toBe(0);
  const rows = table.stdout.trimEnd().split('\n').map((line) => line.split(/\s{2,}/));
  expect(rows).toEqual([
    ['ITEM', 'LAST SUCCESS', 'LAST FAILURE', 'FAILURES', 'LAST OUTCOME', 'RUNS', 'P50', 'P90'],
    ['alpha', '3h20m ago', '-', '0', 'Succeeded', '3', '2m', '3m'],
    ['beta', ago(30), '1h30m ago', '0', '-', '1', '10m', '10m'],
    ['gamma', '-', ago(10), '2', 'Failed', '0', '-', '-'],
  ]);
  const json = JSON.parse((await oaat(['history', 'nightly', '-n', ns().name, '-o', 'json'])).stdout) as { items: Record<string, unknown>[] };
  expect(json.items[0]).toMatchObject({ item: 'alpha', runs: 3, p50Seconds: 120, p90Seconds: 180 });
});

it('plan: the forecast order and start times from the group\'s status, for the period asked', async () => {
  await seededGroup('nightly');
  const table = await oaat(['plan', 'nightly', '-n', ns().name, '--for', '2h']);
  expect(table.code).toBe(0);
  const items = table.stdout.split('\n').filter((line) => /^\d+\s/.test(line)).map((line) => line.split(/\s{2,}/)[1]);
  // gamma runs now; then alpha (due for 2h20m), and gamma again once its failure floor has passed… all succeed in the forecast.
  expect(items.slice(0, 2)).toEqual(['gamma', 'alpha']);
  expect(table.stdout).toContain('Approximate:');
  const json = JSON.parse((await oaat(['plan', 'nightly', '-n', ns().name, '-o', 'json', '--for', '2h'])).stdout) as { runs: { item: string; running: boolean }[]; end: string };
  expect(json.runs[0]).toMatchObject({ item: 'gamma', running: true });
  expect(json.end).toBe('horizon');
});

it('run and reset write their annotation with @<time>, pause and resume spec.paused; the operator acts on them', async () => {
  await ns().group('steer', ['a', 'b'], { frequency: '1h' });
  ns().startOperator();
  const first = await ns().runningPod('steer');
  await ns().end(first, { outcome: 'succeed' });
  const firstItem = first.metadata?.annotations?.['oaat.kawaja.net/item'] ?? '';
  const second = await ns().waitForGroup('steer', (g) => g.status?.currentRun?.item !== undefined && g.status.currentRun.item !== firstItem, 'the other item claimed');
  await ns().end(await ns().runningPod('steer'), { outcome: 'succeed' });
  expect(second.status?.currentRun?.item).not.toBe(firstItem);

  // Both items just succeeded: only a run-now request starts one.
  const requested = await oaat(['run', 'steer', firstItem, '-n', ns().name]);
  expect(requested).toMatchObject({ code: 0, stderr: '' });
  expect(requested.stdout).toMatch(new RegExp(`^oaatgroup/steer annotated oaat.kawaja.net/run-now=${firstItem}@\\d{4}-\\d\\d-\\d\\dT`));
  const rerun = await ns().waitForGroup('steer', (g) => g.status?.currentRun?.trigger === 'RunNow', 'the run-now claim');
  expect(rerun.status?.currentRun?.item).toBe(firstItem);

  const reset = await oaat(['reset', 'steer', '--all', '-n', ns().name, '-o', 'json']);
  expect(JSON.parse(reset.stdout)).toMatchObject({ group: 'steer', annotation: 'oaat.kawaja.net/reset', value: expect.stringMatching(/^\*@/) as unknown });
  await oaat(['reset', 'steer', 'b', '-n', ns().name]);
  expect((await ns().readGroup('steer')).metadata?.annotations?.['oaat.kawaja.net/reset']).toMatch(/^b@/);

  expect((await oaat(['pause', 'steer', '-n', ns().name])).stdout).toBe('oaatgroup/steer paused\n');
  expect((await ns().readGroup('steer')).spec?.paused).toBe(true);
  expect((await oaat(['resume', 'steer', '-n', ns().name])).stdout).toBe('oaatgroup/steer resumed\n');
  expect((await ns().readGroup('steer')).spec?.paused).toBe(false);
});

describe('errors', () => {
  it('an unknown group: exit 1, one line naming it', async () => {
    for (const command of [['status', 'missing'], ['history', 'missing'], ['plan', 'missing'], ['run', 'missing', 'a'], ['pause', 'missing']]) {
      const result = await oaat([...command, '-n', ns().name]);
      expect(result).toMatchObject({ code: 1, stdout: '' });
      expect(result.stderr).toMatch(/^error: not found \(404\): .*oaatgroups\/missing/);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
  });

  it('no permission: exit 1, naming the verb, the resource and the namespace', async () => {
    await ns().group('guarded', ['a']);
    const kubeConfig = await cluster().serviceAccountKubeConfig(ns().name, 'no-rights');
    const dir = await mkdtemp(path.join(tmpdir(), 'oaat-plugin-'));
    try {
      const file = path.join(dir, 'config');
      await writeFile(file, kubeConfig.exportConfig());
      const read = await oaat(['status', 'guarded', '-n', ns().name, '--kubeconfig', file]);
      expect(read.code).toBe(1);
      expect(read.stderr).toMatch(new RegExp(`^error: no permission to get/list oaatgroups.kawaja.net in namespace ${ns().name} \\(403 Forbidden\\)`));
      const write = await oaat(['pause', 'guarded', '-n', ns().name], { KUBECONFIG: file });
      expect(write.stderr).toMatch(/^error: no permission to patch oaatgroups.kawaja.net/);
      expect((await ns().readGroup('guarded')).spec?.paused).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('no cluster: exit 1, naming the server it could not reach', async () => {
    const port = await closedPort();
    const dir = await mkdtemp(path.join(tmpdir(), 'oaat-plugin-'));
    try {
      const file = path.join(dir, 'config');
      const server = `https://127.0.0.1:${String(port)}`;
      await writeFile(
        file,
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          'current-context': 'elsewhere',
          contexts: [{ name: 'nowhere', context: { cluster: 'closed', user: 'u', namespace: 'x' } }, { name: 'elsewhere', context: { cluster: 'other', user: 'u' } }],
          clusters: [{ name: 'closed', cluster: { server, 'insecure-skip-tls-verify': true } }, { name: 'other', cluster: { server: 'https://127.0.0.1:1', 'insecure-skip-tls-verify': true } }],
          users: [{ name: 'u', user: { token: 'nothing' } }],
        }),
      );
      // --context picks the cluster whose port is closed.
      const result = await oaat(['status', '--kubeconfig', file, '--context', 'nowhere']);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`^error: cannot reach the cluster at ${server.replace(/\./g, '\\.')}: .*ECONNREFUSED`));
      const unknownContext = await oaat(['status', '--kubeconfig', file, '--context', 'absent']);
      expect(unknownContext).toMatchObject({ code: 1, stderr: `error: kubeconfig: ${file}: no context named absent\n` });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('bad arguments: exit 2, naming the argument', async () => {
    expect(await oaat(['status', '--colour'])).toMatchObject({ code: 2, stderr: expect.stringContaining("Unknown option '--colour'") as unknown });
    expect(await oaat(['launch', 'g'])).toMatchObject({ code: 2, stderr: 'kubectl-oaat: unknown command "launch"\nSee kubectl oaat --help.\n' });
    expect(await oaat(['run', 'g'])).toMatchObject({ code: 2, stderr: 'kubectl-oaat: usage: kubectl oaat run GROUP ITEM\nSee kubectl oaat run --help.\n' });
    expect(await oaat(['plan', 'g', '--for', 'soon'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^kubectl-oaat: --for "soon" is not a duration/) as unknown });
    expect(await oaat(['history', 'g', '-o', 'wide'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--output must be json or yaml') as unknown });
    expect(await oaat(['reset', 'g'])).toMatchObject({ code: 2, stderr: expect.stringContaining('usage: kubectl oaat reset GROUP (ITEM | --all)') as unknown });
    expect(await oaat(['reset', 'g', 'a', 'b'])).toMatchObject({ code: 2, stderr: expect.stringContaining('unexpected argument "b"') as unknown });
  });
});

it('kubectl finds the installed plugin on PATH: kubectl oaat --help', async () => {
  // What `npm install -g` makes of the package: the built files, package.json and a bin link on PATH.
  const dir = await mkdtemp(path.join(tmpdir(), 'oaat-plugin-'));
  try {
    const pkg = path.join(dir, 'lib', 'oaat-operator');
    await mkdir(path.join(dir, 'bin'), { recursive: true });
    await mkdir(pkg, { recursive: true });
    await run(path.join(REPO_ROOT, 'node_modules/.bin/tsc'), ['-p', path.join(REPO_ROOT, 'tsconfig.build.json'), '--outDir', path.join(pkg, 'dist')], { cwd: REPO_ROOT });
    await copyFile(path.join(REPO_ROOT, 'package.json'), path.join(pkg, 'package.json'));
    await symlink(path.join(REPO_ROOT, 'node_modules'), path.join(pkg, 'node_modules'));
    const { bin } = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    const entry = path.join(pkg, bin['kubectl-oaat'] ?? 'missing');
    await chmod(entry, 0o755);
    await symlink(entry, path.join(dir, 'bin', 'kubectl-oaat'));
    const kubectl = path.join(cluster().info.binDir, 'kubectl');
    const env = { PATH: [path.join(dir, 'bin'), path.dirname(process.execPath)].join(path.delimiter), HOME: dir, KUBECONFIG: cluster().info.kubeconfig };
    const help = await run(kubectl, ['oaat', '--help'], { env });
    expect(help.stdout).toMatch(/^kubectl oaat \d+\.\d+\.\d+: inspect and steer OaatGroups/);
    expect(help.stdout).toContain('plan GROUP [--for 24h]');
    const plugins = await run(kubectl, ['plugin', 'list'], { env });
    expect(plugins.stdout).toContain(path.join(dir, 'bin', 'kubectl-oaat'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** A loopback port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
