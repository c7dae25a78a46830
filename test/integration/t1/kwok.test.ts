/**
 * T1 smoke tests: pods bound to the KWOK node behave like pods on a kubelet, with the outcome
 * each test chooses (hack/kwok/stages.yaml).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { connectCluster, TestCluster } from '../../support/cluster.ts';
import { startControlPlane, stopControlPlane } from '../../support/control-plane.ts';
import { exitCodeOf, podManifest, SIM, simulateOutcome } from '../../support/pods.ts';
import { waitUntil } from '../../support/wait.ts';
import { RecordingWatch } from '../../support/watch.ts';

let cluster: TestCluster;
let namespace: string;
let node: string;

beforeAll(() => {
  cluster = connectCluster('T1');
  node = cluster.info.node ?? '';
});

beforeEach(async () => {
  namespace = await cluster.createNamespace('t1-kwok');
});

function readPod(name: string): Promise<V1Pod> {
  return cluster.core.readNamespacedPod({ namespace, name });
}

async function runningPod(name: string, annotations?: Record<string, string>): Promise<V1Pod> {
  await cluster.core.createNamespacedPod({ namespace, body: podManifest({ name, nodeName: node, ...(annotations && { annotations }) }) });
  return waitUntil(() => readPod(name), (pod) => pod.status?.phase === 'Running', { what: `pod ${name} to be Running` });
}

function terminal(pod: V1Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

it('has one Ready fake node with the configured pod capacity', async () => {
  const fake = await cluster.core.readNode({ name: node });
  expect(fake.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  expect(fake.status?.allocatable?.pods).toBe(String(cluster.info.nodePods));
});

it('runs a pod on the fake node until told to succeed: Succeeded with exit code 0', async () => {
  const running = await runningPod('ok');
  expect(running.status?.containerStatuses?.[0]?.state?.running).toBeDefined();
  await simulateOutcome(cluster.core, namespace, 'ok', { outcome: 'succeed' });
  const done = await waitUntil(() => readPod('ok'), terminal, { what: 'pod ok to end' });
  expect(done.status?.phase).toBe('Succeeded');
  expect(exitCodeOf(done)).toBe(0);
});

it('fails a pod with the chosen exit code after the chosen delay', async () => {
  await runningPod('bad');
  const annotatedAt = Date.now();
  await simulateOutcome(cluster.core, namespace, 'bad', { outcome: 'fail', exitCode: 3, after: '3s' });
  expect((await readPod('bad')).status?.phase).toBe('Running');
  const done = await waitUntil(() => readPod('bad'), terminal, { what: 'pod bad to end' });
  expect(Date.now() - annotatedAt).toBeGreaterThanOrEqual(2_500);
  expect(done.status?.phase).toBe('Failed');
  expect(exitCodeOf(done)).toBe(3);
  expect(done.status?.containerStatuses?.[0]?.state?.terminated?.finishedAt).toBeInstanceOf(Date);
});

it('leaves a pod without an outcome Running', async () => {
  await runningPod('long');
  await runningPod('short');
  await simulateOutcome(cluster.core, namespace, 'short', { outcome: 'succeed' });
  await waitUntil(() => readPod('short'), terminal, { what: 'pod short to end' });
  expect((await readPod('long')).status?.phase).toBe('Running');
});

it.each([
  ['the default SIGTERM exit', {}, 'Failed', 143],
  ['a clean exit', { [SIM.exitCodeOnDelete]: '0' }, 'Succeeded', 0],
])('ends a deleted Running pod like a kubelet (%s): terminal phase first, then removal', async (_case, annotations, phase, code) => {
  const pod = await runningPod('doomed', annotations);
  const watch = await RecordingWatch.start(cluster.kubeConfig, `/api/v1/namespaces/${namespace}/pods`, pod.metadata?.resourceVersion);
  try {
    await cluster.core.deleteNamespacedPod({ namespace, name: 'doomed' });
    await watch.next((e) => e.type === 'DELETED', 'the pod to be removed');
    const terminalIndex = watch.events.findIndex((e) => terminal(e.object));
    const deletedIndex = watch.events.findIndex((e) => e.type === 'DELETED');
    expect(terminalIndex).toBeGreaterThanOrEqual(0);
    expect(terminalIndex).toBeLessThan(deletedIndex);
    const last: V1Pod | undefined = watch.events[terminalIndex]?.object;
    expect(last?.metadata?.deletionTimestamp).toBeDefined();
    expect(last?.status?.phase).toBe(phase);
    expect(last && exitCodeOf(last)).toBe(code);
  } finally {
    watch.stop();
  }
});

it('keeps a pod that cannot be scheduled Pending', async () => {
  await cluster.core.createNamespacedPod({
    namespace,
    body: podManifest({ name: 'nowhere', nodeSelector: { 'oaat.test/no-such-node': 'true' } }),
  });
  // Once a pod created after it is Running, every component has had its chance to act.
  await runningPod('witness');
  const stuck = await readPod('nowhere');
  expect(stuck.status?.phase).toBe('Pending');
  expect(stuck.spec?.nodeName).toBeUndefined();
});

describe('make run\'s KWOK (CP_KWOK_DEMO=1, a control plane of its own)', () => {
  let stateDir: string;
  let demo: TestCluster;

  beforeAll(() => {
    stateDir = mkdtempSync(path.join(tmpdir(), 'oaat-demo-cp-'));
    demo = new TestCluster(startControlPlane({ stateDir, tier: 'T1', ownerPid: process.pid, kwokDemo: true }));
  });

  afterAll(() => {
    stopControlPlane(stateDir);
  });

  it('ends pods without an outcome annotation by themselves, mostly with success, some failing with exit code 3; others as told', async () => {
    const ns = await demo.createNamespace('demo');
    const fakeNode = demo.info.node ?? '';
    const names = Array.from({ length: 60 }, (_, i) => `p${String(i)}`);
    for (const name of names) await demo.core.createNamespacedPod({ namespace: ns, body: podManifest({ name, nodeName: fakeNode }) });
    // Told to succeed in an hour: the demo stages leave an annotated pod alone.
    await demo.core.createNamespacedPod({
      namespace: ns,
      body: podManifest({ name: 'told', nodeName: fakeNode, annotations: { [SIM.outcome]: 'succeed', [SIM.after]: '1h' } }),
    });
    const ended = await waitUntil(
      async () => (await demo.core.listNamespacedPod({ namespace: ns })).items.filter((pod) => pod.metadata?.name !== 'told'),
      (pods) => pods.length === names.length && pods.every(terminal),
      { what: 'every pod without an annotation to end', timeoutMs: 60_000 },
    );
    const outcomes = ended.map((pod) => `${pod.status?.phase ?? ''} ${String(exitCodeOf(pod))}`);
    // 1 in 5 fails: all 60 of one kind would happen about once in 650,000 runs.
    expect(new Set(outcomes)).toEqual(new Set(['Succeeded 0', 'Failed 3']));
    expect((await demo.core.readNamespacedPod({ namespace: ns, name: 'told' })).status?.phase).toBe('Running');
  });
});


describe('KWOK attached to a cluster it did not start (CP_ATTACH_KUBECONFIG, as `make e2e` uses it in kind)', () => {
  let clusterDir: string;
  let attachedDir: string;
  let own: TestCluster;
  let attached: TestCluster;

  beforeAll(() => {
    clusterDir = mkdtempSync(path.join(tmpdir(), 'oaat-attach-cluster-'));
    attachedDir = mkdtempSync(path.join(tmpdir(), 'oaat-attach-kwok-'));
    own = new TestCluster(startControlPlane({ stateDir: clusterDir, tier: 'T0', ownerPid: process.pid }));
    attached = new TestCluster(startControlPlane({ stateDir: attachedDir, tier: 'T2', ownerPid: process.pid, attachKubeconfig: own.info.kubeconfig }));
  });

  afterAll(() => {
    stopControlPlane(attachedDir);
    stopControlPlane(clusterDir);
  });

  it('describes the cluster it attached to, adds the Ready fake node there, and runs pods on it as told; stop leaves the cluster running', async () => {
    expect(attached.info).toMatchObject({ tier: 'T2', server: own.info.server, etcd: '', pki: '', node: 'kwok-node-0', kubernetesVersion: own.info.kubernetesVersion });
    const fake = await own.core.readNode({ name: attached.info.node ?? '' });
    expect(fake.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    const ns = await attached.createNamespace('attached');
    await attached.core.createNamespacedPod({ namespace: ns, body: podManifest({ name: 'told', nodeName: fake.metadata?.name ?? '', annotations: { [SIM.outcome]: 'fail', [SIM.exitCode]: '3' } }) });
    const ended = await waitUntil(() => own.core.readNamespacedPod({ namespace: ns, name: 'told' }), terminal, { what: 'the pod on the attached KWOK node to end' });
    expect(`${ended.status?.phase ?? ''} ${String(exitCodeOf(ended))}`).toBe('Failed 3');
    stopControlPlane(attachedDir);
    expect((await own.core.readNamespace({ name: ns })).metadata?.name).toBe(ns);
  });
});
