/**
 * The operator behind the fault proxy, killed (SIGKILL) at the worst moments of a run, and
 * with a pod cache that lags behind the group: every time it converges with one pod and one
 * recorded result, and the invariant checker sees no violation.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connectCluster, type TestCluster } from '../../support/cluster.ts';
import { FaultProxy } from '../../support/fault-proxy.ts';
import { installOaatCrds, OaatNamespace } from '../../support/oaat.ts';
import type { OperatorProcess } from '../../support/operator-process.ts';
import { waitFor, waitUntil } from '../../support/wait.ts';

let cluster: TestCluster;
let ns: OaatNamespace;
let proxy: FaultProxy;
let kubeconfig: string;

const OPERATOR_RULES = [
  { apiGroups: ['kawaja.net'], resources: ['oaatgroups'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['kawaja.net'], resources: ['oaatgroups/status'], verbs: ['patch', 'update'] },
  { apiGroups: ['kawaja.net'], resources: ['oaattypes'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'delete', 'patch'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
  { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] },
];

beforeAll(async () => {
  cluster = connectCluster('T1');
  await installOaatCrds(cluster);
});

beforeEach(async () => {
  ns = await OaatNamespace.create(cluster, 'faults');
  const account = await cluster.serviceAccountWithRole(ns.name, 'operator', OPERATOR_RULES);
  proxy = await FaultProxy.start(cluster.info, { seed: 11 });
  kubeconfig = path.join(await mkdtemp(path.join(tmpdir(), 'operator-')), 'kubeconfig');
  await proxy.writeKubeconfig(account.token, kubeconfig);
});

afterEach(async () => {
  const violations = await ns.close();
  await proxy.stop();
  expect(violations).toEqual([]);
});

function operator(): OperatorProcess {
  return ns.startOperator({ KUBECONFIG: kubeconfig, OAAT_CREATE_GRACE: '30s' });
}

async function oneRecordedRun(group: string): Promise<void> {
  const pod = await ns.runningPod(group);
  expect(await ns.livePods()).toHaveLength(1);
  const item = (await ns.readGroup(group)).status?.currentRun?.item ?? '';
  await ns.end(pod, { outcome: 'succeed', after: '2s' });
  const done = await ns.waitForGroup(group, (g) => g.status?.items?.[item]?.last_run?.podUID === pod.metadata?.uid, 'the run recorded');
  expect(done.status?.items?.[item]?.runtime?.count).toBe(1);
}

it('converges after a SIGKILL between claim and create', async () => {
  await ns.group('claimed', ['a']);
  proxy.setRules([{ name: 'no-create', match: { method: 'POST', path: /\/pods$/ }, action: { type: 'status', code: 500 } }]);
  const first = operator();
  await ns.waitForGroup('claimed', (g) => g.status?.currentRun !== undefined && g.status.currentRun !== null, 'a claim');
  await waitFor(() => Promise.resolve(proxy.events.some((e) => e.rule === 'no-create') ? { done: true, value: true } : { done: false, observed: 'no create attempt yet' }), {
    what: 'a refused create',
  });
  await first.program.kill('SIGKILL');
  expect(await ns.pods()).toEqual([]);
  proxy.setRules([]);
  first.start();
  await oneRecordedRun('claimed');
});

it('converges after a SIGKILL between create and the first observation of the pod', async () => {
  await ns.group('created', ['a']);
  proxy.setRules([
    { name: 'lost-create', match: { method: 'POST', path: /\/pods$/ }, times: 1, action: { type: 'lose-response' } },
    { name: 'blind', match: { path: /\/pods$/, watch: true }, action: { type: 'drop' } },
  ]);
  const first = operator();
  await waitUntil(() => ns.pods(), (pods) => pods.length === 1, { what: 'the pod to exist' });
  await first.program.kill('SIGKILL');
  proxy.setRules([]);
  first.start();
  await oneRecordedRun('created');
  expect(await ns.pods()).toHaveLength(1);
});

it('records once after a SIGKILL during the close', async () => {
  await ns.group('closing', ['a', 'b']);
  const first = operator();
  const pod = await ns.runningPod('closing');
  const item = (await ns.readGroup('closing')).status?.currentRun?.item ?? '';
  proxy.setRules([{ name: 'slow-close', match: { method: 'PATCH', path: /\/oaatgroups\/closing\/status$/ }, action: { type: 'delay', ms: 5_000 } }]);
  await ns.end(pod, { outcome: 'fail', exitCode: 2 });
  await waitFor(() => Promise.resolve(proxy.events.some((e) => e.rule === 'slow-close') ? { done: true, value: true } : { done: false, observed: 'no close write yet' }), {
    what: 'the close write to start',
  });
  await first.program.kill('SIGKILL');
  proxy.setRules([]);
  first.start();
  const group = await ns.waitForGroup('closing', (g) => g.status?.items?.[item]?.last_run?.podUID === pod.metadata?.uid, 'the failure recorded');
  expect(group.status?.items?.[item]).toMatchObject({ failure_count: 1, last_run: { outcome: 'Failed', exitCode: 2 } });
  await ns.runningPod('closing');
});

it('exits by itself, code 1, when stopping outlasts its shutdown timeout, and a restart converges', async () => {
  await ns.group('stuck-stop', ['a']);
  proxy.setRules([{ name: 'held-create', match: { method: 'POST', path: /\/pods$/ }, action: { type: 'hold' } }]);
  const first = ns.startOperator({ KUBECONFIG: kubeconfig, OAAT_CREATE_GRACE: '30s', OAAT_SHUTDOWN_TIMEOUT: '2s' });
  await waitFor(() => Promise.resolve(proxy.heldCount > 0 ? { done: true, value: true } : { done: false, observed: 'no create held yet' }), { what: 'a held create' });
  // Stopping waits for the reconcile whose create is held, up to the 30 s request timeout.
  const exit = await first.program.kill('SIGTERM', 20_000);
  expect(exit).toEqual({ code: 1, signal: null });
  expect(first.messages()).toContain('stopping took too long; exiting');
  proxy.dropHeld();
  proxy.setRules([]);
  first.start();
  await oneRecordedRun('stuck-stop');
});

it('starts no second pod while its pod cache lags behind the group', async () => {
  await ns.group('lagging', ['a', 'b']);
  operator();
  const pod = await ns.runningPod('lagging');
  const run = (await ns.readGroup('lagging')).status?.currentRun;
  proxy.setRules([{ name: 'blind', match: { path: /\/pods$/, watch: true }, action: { type: 'drop' } }]);
  proxy.cutWatches();
  await ns.end(pod, { outcome: 'succeed' });
  await new Promise((resolve) => setTimeout(resolve, 6_000));
  // Blind to the pod's end: the run stays claimed and nothing else starts.
  expect((await ns.readGroup('lagging')).status?.currentRun?.id).toBe(run?.id);
  expect(await ns.livePods()).toEqual([]);
  proxy.setRules([]);
  await ns.waitForGroup('lagging', (g) => g.status?.items?.[run?.item ?? '']?.last_run?.id === run?.id, 'the run closed once the cache caught up');
  await ns.runningPod('lagging');
  expect(await ns.livePods()).toHaveLength(1);
});
