/**
 * The manager in real processes (the runtime's demo operator, test/support/demo-operator.ts):
 * leader election between two replicas, takeover after a crash, hand-over on SIGTERM, probes
 * and metrics.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { KubeClient } from '../../../src/runtime/client.ts';
import { clusterAccess, connectCluster, type TestCluster } from '../../support/cluster.ts';
import { DEMO_LABEL, STAMP } from '../../support/demo-operator-labels.ts';
import { FaultProxy } from '../../support/fault-proxy.ts';
import { OperatorProcess } from '../../support/operator-process.ts';
import { waitUntil } from '../../support/wait.ts';
import { CONFIGMAPS } from '../../support/resource-types.ts';

const LEASE_MS = 3_000;
const RETRY_MS = 500;

let cluster: TestCluster;
let admin: KubeClient;
let namespace: string;
const processes: OperatorProcess[] = [];

beforeAll(() => {
  cluster = connectCluster('T0');
  admin = new KubeClient({ access: clusterAccess(cluster.kubeConfig) });
});

beforeEach(async () => {
  namespace = await cluster.createNamespace('manager');
});

afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.program.kill('SIGKILL')));
});

function replica(identity: string, env: Record<string, string> = {}): OperatorProcess {
  const replicaProcess = new OperatorProcess({
    name: `demo-${identity}`,
    entry: 'test/support/demo-operator.ts',
    kubeconfig: env.KUBECONFIG ?? cluster.info.kubeconfig,
    env: {
      DEMO_IDENTITY: identity,
      OAAT_WATCH_NAMESPACES: namespace,
      OAAT_LEASE_NAMESPACE: namespace,
      OAAT_LEASE_DURATION: `${String(LEASE_MS)}ms`,
      OAAT_RENEW_DEADLINE: '2s',
      OAAT_RETRY_PERIOD: `${String(RETRY_MS)}ms`,
      ...env,
    },
  });
  processes.push(replicaProcess);
  replicaProcess.start();
  return replicaProcess;
}

async function createDemo(name: string): Promise<void> {
  await admin.create(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels: { [DEMO_LABEL]: 'true' } } });
}

function stampOf(name: string): Promise<string | undefined> {
  return admin.get<KubernetesObject>(CONFIGMAPS, namespace, name).then((object) => object.metadata?.annotations?.[STAMP]);
}

async function leaderOf(...candidates: OperatorProcess[]): Promise<OperatorProcess> {
  return Promise.any(candidates.map(async (candidate) => {
    await candidate.logged('became leader');
    return candidate;
  }));
}

it('lets only the leader reconcile; a standby takes over after a crash, and at once after SIGTERM', async () => {
  const a = replica('a');
  const b = replica('b');
  const leader = await leaderOf(a, b);
  const standby = leader === a ? b : a;
  const leaderName = leader === a ? 'a' : 'b';
  const standbyName = leader === a ? 'b' : 'a';
  await standby.logged('caches synced');

  await createDemo('one');
  await waitUntil(() => stampOf('one'), (stamp) => stamp === leaderName, { what: 'the leader to reconcile one' });
  expect(standby.messages().filter((message) => message.startsWith('reconciled'))).toEqual([]);

  // Crash: the standby takes over once the lease expires, within LeaseDuration + 2 x RetryPeriod.
  const killedAt = Date.now();
  await leader.program.kill('SIGKILL');
  const tookOver = await standby.logged('became leader', 20_000);
  expect(Date.parse(tookOver.timestamp) - killedAt).toBeLessThanOrEqual(LEASE_MS + 2 * RETRY_MS);
  await createDemo('two');
  await waitUntil(() => stampOf('two'), (stamp) => stamp === standbyName, { what: 'the new leader to reconcile two' });

  // Graceful stop: the lease is released, so the next standby need not wait for it to expire.
  const restarted = replica(`${leaderName}2`);
  await restarted.logged('caches synced');
  await restarted.logged('waiting for leadership');
  const stoppedAt = Date.now();
  const exit = await standby.program.kill('SIGTERM');
  expect(exit).toEqual({ code: 0, signal: null });
  expect(standby.messages()).toEqual(expect.arrayContaining(['controller stopped', 'released leadership', 'shut down']));
  const handedOver = await restarted.logged('became leader', 20_000);
  expect(Date.parse(handedOver.timestamp) - stoppedAt).toBeLessThan(LEASE_MS);
  await createDemo('three');
  await waitUntil(() => stampOf('three'), (stamp) => stamp === `${leaderName}2`, { what: 'the third leader to reconcile three' });
});

it('stops working and exits when it cannot renew its lease', async () => {
  const account = await cluster.serviceAccountWithRole(namespace, 'demo', [
    { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch', 'patch'] },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
  ]);
  const proxy = await FaultProxy.start(cluster.info, { seed: 2 });
  try {
    const kubeconfig = path.join(await mkdtemp(path.join(tmpdir(), 'demo-')), 'kubeconfig');
    await proxy.writeKubeconfig(account.token, kubeconfig);
    const cut = replica('cut', { KUBECONFIG: kubeconfig });
    await cut.logged('became leader');
    const standby = replica('standby');
    await standby.logged('waiting for leadership');
    proxy.partition('reset');
    expect(await cut.program.exited()).toEqual({ code: 1, signal: null });
    expect(cut.messages()).toEqual(expect.arrayContaining(['lost leadership: could not renew the lease in time']));
    expect(cut.messages()).not.toContain('released leadership');
    await standby.logged('became leader', 20_000);
  } finally {
    await proxy.stop();
  }
});

it('serves health, readiness and controller-runtime metrics', async () => {
  const only = replica('solo');
  await only.logged('became leader');
  await createDemo('measured');
  await waitUntil(() => stampOf('measured'), (stamp) => stamp === 'solo', { what: 'a reconcile' });

  expect(await only.http('/healthz')).toEqual({ status: 200, text: 'ok\n' });
  expect(await only.http('/readyz')).toEqual({ status: 200, text: 'ok\n' });
  const metrics = (await only.http('/metrics')).text;
  for (const name of [
    'controller_runtime_reconcile_total{controller="demo",result="success"}',
    'controller_runtime_reconcile_errors_total{controller="demo"}',
    'controller_runtime_reconcile_time_seconds_bucket{',
    'workqueue_depth{name="demo"}',
    'workqueue_adds_total{name="demo"}',
    'workqueue_retries_total{name="demo"}',
    'workqueue_queue_duration_seconds_bucket{',
    'workqueue_work_duration_seconds_bucket{',
    'leader_election_master_status{name="oaat-operator"} 1',
    'rest_client_requests_total{',
  ]) {
    expect(metrics).toContain(name);
  }
  expect(await only.program.kill('SIGTERM')).toEqual({ code: 0, signal: null });
});

it('is not ready until its cache syncs, and names the cache that is not', async () => {
  const account = await cluster.serviceAccountWithRole(namespace, 'demo', [
    { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch', 'patch'] },
  ]);
  const proxy = await FaultProxy.start(cluster.info, { seed: 1 });
  try {
    proxy.partition('reset');
    const kubeconfig = path.join(await mkdtemp(path.join(tmpdir(), 'demo-')), 'kubeconfig');
    await proxy.writeKubeconfig(account.token, kubeconfig);
    const cut = new OperatorProcess({
      name: 'demo-cut',
      entry: 'test/support/demo-operator.ts',
      kubeconfig,
      env: { DEMO_IDENTITY: 'cut', OAAT_WATCH_NAMESPACES: namespace, OAAT_LEADER_ELECT: 'false' },
    });
    processes.push(cut);
    cut.start();
    await cut.port();
    expect(await cut.http('/readyz')).toEqual({ status: 503, text: 'not ready: ConfigMap cache\n' });
    expect(await cut.http('/healthz')).toEqual({ status: 200, text: 'ok\n' });
    proxy.heal();
    await cut.logged('caches synced');
    await waitUntil(() => cut.http('/readyz'), (answer) => answer.status === 200, { what: 'readiness after the partition heals' });
  } finally {
    await proxy.stop();
  }
});
