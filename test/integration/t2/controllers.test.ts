/**
 * T2 smoke tests: kube-scheduler places pods on the KWOK node, and kube-controller-manager does
 * what a real cluster's does for us: garbage collection, namespace deletion, default accounts.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { apiStatus, connectCluster, type TestCluster } from '../../support/cluster.ts';
import { podManifest } from '../../support/pods.ts';
import { waitFor, waitUntil } from '../../support/wait.ts';

let cluster: TestCluster;
let namespace: string;

beforeAll(() => {
  cluster = connectCluster('T2');
});

beforeEach(async () => {
  namespace = await cluster.createNamespace('t2-smoke');
});

/** Resolves once the object is gone (the read answers 404). */
function gone(read: () => Promise<unknown>, what: string): Promise<void> {
  return waitFor(
    async () => {
      try {
        return { done: false, observed: await read() };
      } catch (error) {
        if (apiStatus(error) === 404) return { done: true, value: undefined };
        throw error;
      }
    },
    { what, timeoutMs: 60_000 },
  );
}

it('schedules an unbound pod onto the fake node, where it runs', async () => {
  await cluster.core.createNamespacedPod({ namespace, body: podManifest({ name: 'placed' }) });
  const pod = await waitUntil(
    () => cluster.core.readNamespacedPod({ namespace, name: 'placed' }),
    (p: V1Pod) => p.status?.phase === 'Running',
    { what: 'pod placed to be scheduled and Running' },
  );
  expect(pod.spec?.nodeName).toBe(cluster.info.node);
  expect(pod.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status).toBe('True');
});

it('garbage-collects a pod when its owner is deleted', async () => {
  const owner = await cluster.core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'owner' } } });
  const pod = podManifest({ name: 'owned', nodeName: cluster.info.node ?? '' });
  (pod.metadata ??= {}).ownerReferences = [
    { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true },
  ];
  await cluster.core.createNamespacedPod({ namespace, body: pod });
  await cluster.core.deleteNamespacedConfigMap({ namespace, name: 'owner' });
  await gone(() => cluster.core.readNamespacedPod({ namespace, name: 'owned' }), 'the owned pod to be garbage-collected');
});

it('creates the default ServiceAccount and finishes namespace deletion', async () => {
  await waitUntil(
    () => cluster.core.readNamespacedServiceAccount({ namespace, name: 'default' }),
    () => true,
    { what: 'the default ServiceAccount' },
  );
  await cluster.core.createNamespacedPod({ namespace, body: podManifest({ name: 'inside', nodeName: cluster.info.node ?? '' }) });
  await cluster.core.deleteNamespace({ name: namespace });
  await gone(() => cluster.core.readNamespace({ name: namespace }), `namespace ${namespace} to be deleted`);
});
