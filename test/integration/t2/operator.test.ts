/**
 * The operator on a full control plane (scheduler, controller-manager): a group deleted while
 * the operator is stopped leaves nothing behind, an item removed while it runs is still
 * recorded, and a group created before its OaatType starts once the type exists.
 */
import type { TestCluster } from '../../support/cluster.ts';
import { GROUP_API, operatorSuite, type OaatNamespace } from '../../support/oaat.ts';
import { waitUntil } from '../../support/wait.ts';

const suite = operatorSuite('T2', 'operator-t2');
const cluster = (): TestCluster => suite.cluster;
const ns = (): OaatNamespace => suite.ns;

it('leaves nothing behind when a group is deleted while the operator is stopped', async () => {
  await ns().group('doomed', ['a', 'b']);
  const operator = ns().startOperator();
  await ns().runningPod('doomed');
  await operator.program.kill('SIGKILL');
  await cluster().custom.deleteNamespacedCustomObject({ ...GROUP_API, namespace: ns().name, plural: 'oaatgroups', name: 'doomed' });
  // No finalizer holds the group, and its pods go with it (garbage collection of owned pods).
  await waitUntil(() => ns().pods(), (pods) => pods.length === 0, { what: 'the pods to be garbage-collected', timeoutMs: 60_000 });
  operator.start();
  await operator.logged('caches synced');
  await ns().group('after', ['x']);
  await ns().runningPod('after');
  expect(operator.messages().filter((message) => message.includes('failed'))).toEqual([]);
});

it('records an item removed from the list while it runs', async () => {
  await ns().group('shrinking', ['gone', 'stays'], { frequency: '1h' });
  await ns().seedStatus('shrinking', { items: { stays: { last_success: new Date().toISOString(), failure_count: 0 } } });
  ns().startOperator();
  const pod = await ns().runningPod('shrinking');
  expect((await ns().readGroup('shrinking')).status?.currentRun?.item).toBe('gone');
  await ns().apply({ apiVersion: 'kawaja.net/v1', kind: 'OaatGroup', metadata: { name: 'shrinking' }, spec: { frequency: '1h', oaatType: 'runner', oaatItems: ['stays'] } });
  await ns().end(pod, { outcome: 'succeed' });
  const group = await ns().waitForGroup('shrinking', (g) => g.status?.items?.gone?.last_run?.outcome === 'Succeeded', 'the removed item recorded');
  expect(group.status?.currentRun ?? undefined).toBeUndefined();
});

it('starts a group created before its OaatType once the type exists', async () => {
  await ns().group('early', ['a'], { oaatType: 'later' });
  ns().startOperator();
  const waiting = await ns().waitForGroup('early', (g) => g.status?.conditions?.find((c) => c.type === 'Ready')?.reason === 'OaatTypeNotFound', 'Ready=False OaatTypeNotFound');
  expect(waiting.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', message: expect.stringContaining('OaatType later not found') as unknown });
  await ns().apply({
    apiVersion: 'kawaja.net/v1',
    kind: 'OaatType',
    metadata: { name: 'later' },
    spec: { type: 'pod', podspec: { container: { name: 'main', image: 'oaat.invalid/item:never-pulled' } } },
  });
  const pod = await ns().runningPod('early');
  // Scheduled by kube-scheduler onto the fake node (the type sets no nodeName).
  expect(pod.spec?.nodeName).toBe(cluster().info.node);
});
