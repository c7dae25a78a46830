/**
 * A group deleted and re-applied with the same name (`kubectl delete og g --wait=false &&
 * kubectl apply -f g.yaml`, as GitOps tools do) while its pod is still terminating: the new
 * group (new UID) never adopts or records the old group's pod, starts nothing while it lives,
 * says why (Stuck), and starts its own once it is gone. Needs the garbage collector (T2).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { GROUP_API, operatorSuite } from '../../support/oaat.ts';
import { waitUntil } from '../../support/wait.ts';

const suite = operatorSuite('T2', 'recreate');
const ns = () => suite.ns;

it('a group deleted and re-created with the same name waits for its predecessor\'s terminating pod, and never counts it', async () => {
  const { cluster } = suite;
  const node = `unmanaged-${ns().name}`;
  await cluster.core.createNode({ body: { metadata: { name: node } } });
  try {
    await ns().apply({
      apiVersion: 'kawaja.net/v1',
      kind: 'OaatType',
      metadata: { name: 'no-kubelet' },
      // A node no kubelet serves: a deleted pod there stays terminating until it is forced away.
      spec: { type: 'pod', podspec: { nodeName: node, terminationGracePeriodSeconds: 1, container: { name: 'main', image: 'oaat.invalid/item:never-pulled' } } },
    });
    const spec = { oaatType: 'no-kubelet', pendingTimeout: '1h' };
    const first = await ns().group('again', ['a', 'b'], spec);
    ns().startOperator({ OAAT_STUCK_AFTER: '2s' });
    const [old] = await waitUntil(() => ns().pods(), (pods) => pods.length === 1, { what: 'the first group\'s pod' });
    await cluster.custom.deleteNamespacedCustomObject({ ...GROUP_API, namespace: ns().name, plural: 'oaatgroups', name: 'again' });
    const second = await ns().group('again', ['a', 'b'], spec);
    expect(second.metadata?.uid).not.toBe(first.metadata?.uid);
    await waitUntil(
      () => cluster.core.readNamespacedPod({ namespace: ns().name, name: old?.metadata?.name ?? '' }),
      (pod: V1Pod) => pod.metadata?.deletionTimestamp !== undefined,
      { what: 'the garbage collector to delete the old pod' },
    );
    const stuck = await ns().waitForGroup('again', (g) => g.status?.conditions?.find((c) => c.type === 'Stuck')?.reason === 'ForeignPodStuckTerminating', 'Stuck: the old pod');
    expect(stuck.status?.conditions?.find((c) => c.type === 'Stuck')?.message).toContain(old?.metadata?.name ?? '');
    expect(stuck.status?.currentRun ?? undefined).toBeUndefined();
    expect((await ns().pods()).map((pod) => pod.metadata?.name)).toEqual([old?.metadata?.name]);
    // A person forces the old pod away: the new group starts its own, and never recorded the old one.
    ns().checker?.expectDeletion(old?.metadata?.name ?? '');
    await cluster.core.deleteNamespacedPod({ namespace: ns().name, name: old?.metadata?.name ?? '', gracePeriodSeconds: 0 });
    const [fresh] = await waitUntil(
      () => ns().pods(),
      (pods) => pods.length === 1 && pods[0]?.metadata?.uid !== old?.metadata?.uid,
      { what: 'the new group\'s own pod' },
    );
    expect(fresh?.metadata?.ownerReferences?.[0]?.uid).toBe(second.metadata?.uid);
    const group = await ns().readGroup('again');
    expect(Object.values(group.status?.items ?? {}).map((item) => item.last_run?.podUID)).not.toContain(old?.metadata?.uid);
    await ns().waitForGroup('again', (g) => g.status?.conditions?.find((c) => c.type === 'Stuck')?.status === 'False', 'Stuck cleared');
  } finally {
    await cluster.core.deleteNode({ name: node });
  }
});
