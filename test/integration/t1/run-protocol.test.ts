/**
 * The run protocol v2 against the real API server, in the interleavings the simulation found
 * broken in v1: a forced lease hand-over while a run closes, a restart right after the running
 * pod was deleted, and pod creates refused for every item. The invariant checker watches
 * every test (one live pod per group, each result recorded once, every claim closed).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Pod } from '@kubernetes/client-node';
import { KubeClient, type ResourceType } from '../../../src/runtime/client.ts';
import { clusterAccess } from '../../support/cluster.ts';
import { operatorSuite } from '../../support/oaat.ts';
import type { OperatorProcess } from '../../support/operator-process.ts';
import { waitUntil } from '../../support/wait.ts';

const suite = operatorSuite('T1', 'protocol');
const ns = () => suite.ns;

const LEASES: ResourceType = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', plural: 'leases', namespaced: true };
const LEADER_ELECTION = {
  OAAT_LEADER_ELECT: 'true',
  OAAT_LEASE_NAME: 'oaat',
  OAAT_LEASE_DURATION: '4s',
  OAAT_RENEW_DEADLINE: '3s',
  OAAT_RETRY_PERIOD: '500ms',
};

async function identity(operator: OperatorProcess): Promise<string> {
  return String((await operator.logged('waiting for leadership')).identity);
}

it('two replicas with leader election: a lease forced to the standby while a run closes records it once and runs the next item', async () => {
  await ns().group('handover', ['a', 'b', 'c']);
  const first = ns().startOperator(LEADER_ELECTION, 'first');
  await first.logged('became leader');
  const second = ns().startOperator(LEADER_ELECTION, 'second');
  const standby = await identity(second);
  const pod = await ns().runningPod('handover');
  const item = (await ns().readGroup('handover')).status?.currentRun?.item ?? '';
  // Container times are whole seconds: a pod that ends in the second it started has no runtime to record.
  const startedAt = new Date(pod.status?.containerStatuses?.[0]?.state?.running?.startedAt ?? 0).getTime();
  await sleep(Math.max(0, startedAt + 1_000 - Date.now()));

  // The run ends, and at the same moment the lease is handed to the standby: for up to the
  // renew deadline both replicas act.
  await Promise.all([
    ns().end(pod, { outcome: 'succeed' }),
    new KubeClient({ access: clusterAccess(ns().cluster.kubeConfig) }).patch(LEASES, ns().name, 'oaat', {
      spec: { holderIdentity: standby, renewTime: new Date().toISOString().replace('Z', '000Z') },
    }),
  ]);
  await second.logged('became leader');
  await first.logged(/lost leadership/, 15_000);
  const recorded = await ns().waitForGroup('handover', (g) => g.status?.items?.[item]?.last_run?.podUID === pod.metadata?.uid, 'the run recorded');
  expect(recorded.status?.items?.[item]).toMatchObject({ last_run: { outcome: 'Succeeded' }, runtime: { count: 1 } });
  const next = await ns().runningPod('handover');
  expect(next.metadata?.name).not.toBe(pod.metadata?.name);
  expect(await ns().livePods()).toHaveLength(1);
});

it('a restart right after the running pod was deleted never creates that pod again, and closes its run', async () => {
  await ns().group('restarted', ['a', 'b']);
  const operator = ns().startOperator({ OAAT_CREATE_GRACE: '8s' });
  const pod = await ns().runningPod('restarted');
  const run = (await ns().readGroup('restarted')).status?.currentRun;
  ns().checker?.expectDeletion(pod.metadata?.name ?? '');
  await ns().cluster.core.deleteNamespacedPod({ namespace: ns().name, name: pod.metadata?.name ?? '', gracePeriodSeconds: 0 });
  await operator.program.kill('SIGKILL');
  operator.start();
  // The restarted process did not claim the run: it never creates its pod, and gives the run
  // up once no create can still commit (grace 8 s + server request timeout 5 s + 10 s skew).
  const closed = await ns().waitForGroup('restarted', (g) => g.status?.items?.[run?.item ?? '']?.last_run?.id === run?.id, 'the run closed', { timeoutMs: 90_000 });
  expect(['Deleted', 'Lost']).toContain(closed.status?.items?.[run?.item ?? '']?.last_run?.outcome);
  const next = await ns().runningPod('restarted', 90_000);
  expect(next.metadata?.name).not.toBe(pod.metadata?.name);
  const names = (await ns().pods()).map((p: V1Pod) => p.metadata?.name);
  expect(names).not.toContain(pod.metadata?.name);
  expect(operator.messages().filter((m) => m === 'created the run pod')).toHaveLength(1);
});

it('creates refused for every item (a pod quota of 0): the group backs off, says so, burns few items, and runs once admitted', async () => {
  const items = Array.from({ length: 40 }, (_, i) => `item-${String(i)}`);
  await ns().cluster.core.createNamespacedResourceQuota({ namespace: ns().name, body: { metadata: { name: 'no-pods' }, spec: { hard: { pods: '0' } } } });
  await waitUntil(
    () => ns().cluster.core.readNamespacedResourceQuota({ namespace: ns().name, name: 'no-pods' }),
    (quota) => quota.status?.hard?.pods === '0',
    { what: 'the quota to be in force' },
  );
  await ns().group('refused', items);
  const operator = ns().startOperator();
  const backingOff = await ns().waitForGroup('refused', (g) => g.status?.conditions?.find((c) => c.type === 'CreatesRefused')?.status === 'True', 'CreatesRefused=True');
  expect(backingOff.status?.conditions?.find((c) => c.type === 'CreatesRefused')?.message).toContain('exceeded quota');
  await new Promise((resolve) => setTimeout(resolve, 20_000));
  // Requests measured on the operator's own metrics: 3 refused creates, then a dry run when
  // the backoff (30 s) ends; without the backoff: ~3 creates a second (the retry floor here is 2 s).
  const metrics = (await operator.http('/metrics')).text;
  const refused = Number(/rest_client_requests_total\{code="403",method="POST",lane="run"\} (\d+)/.exec(metrics)?.[1] ?? '0');
  expect(refused).toBeGreaterThanOrEqual(3);
  expect(refused).toBeLessThanOrEqual(5);
  const burnt = Object.values((await ns().readGroup('refused')).status?.items ?? {}).filter((item) => item.last_run?.outcome === 'CreateFailed');
  expect(burnt.length).toBeLessThanOrEqual(3);
  await ns().cluster.core.deleteNamespacedResourceQuota({ namespace: ns().name, name: 'no-pods' });
  await ns().runningPod('refused', 90_000);
});
