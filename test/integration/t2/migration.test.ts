/**
 * Taking over a group from the Python original: its legacy status (string counters and
 * runtime fields, handler_status, dropped keys), its running item pod and the kopf finalizers on
 * both. The operator adopts the pod and records its result once, does not re-run a recently
 * successful item, converts the legacy statistics when it rewrites an item, removes the kopf
 * finalizers, and the group can then be deleted even with the operator stopped.
 */
import type { TestCluster } from '../../support/cluster.ts';
import { GROUP_API, operatorSuite, type OaatNamespace } from '../../support/oaat.ts';
import { podManifest } from '../../support/pods.ts';
import { waitUntil } from '../../support/wait.ts';

const KOPF = 'oaatoperator.kawaja.net/kopf-finalizer';

const suite = operatorSuite('T2', 'migration');
const cluster = (): TestCluster => suite.cluster;
const ns = (): OaatNamespace => suite.ns;

it('takes over a group and its running pod from the original without losing or repeating anything', async () => {
  const recent = new Date(Date.now() - 10 * 60_000).toISOString().replace('Z', '+00:00');
  const group = await ns().apply({
    apiVersion: 'kawaja.net/v1',
    kind: 'OaatGroup',
    metadata: { name: 'legacy', finalizers: [KOPF], annotations: { 'oaatoperator.kawaja.net/operator-status': 'active' } },
    spec: { frequency: '1h', oaatType: 'runner', oaatItems: ['item1', 'item2'] },
  });
  await ns().seedStatus('legacy', {
    handler_status: { state: 'running', currently_running: 'item2', pod: 'legacy-item2-abcde', loops: 7 },
    oaat_timer: { message: 'started item item2' },
    state: 'nothing to do',
    items: {
      item1: {
        last_success: recent,
        failure_count: '0',
        runtime_count: '3',
        runtime_total: '300.0',
        runtime_sum_squares: '30200.0',
        runtime_min: '90.0',
        runtime_max: '110.0',
        runtime_sample: '[90.0, 100.0, 110.0]',
        runtime_last_updated: recent,
      },
      item2: { last_success: '2021-04-15T06:32:00+00:00', last_failure: '2021-04-16T06:32:00+00:00', failure_count: '2', podphase: 'Running' },
    },
  });
  const legacyPod = podManifest({ name: 'legacy-item2-abcde', nodeName: cluster().info.node ?? '', labels: { app: 'oaat-operator', 'parent-name': 'legacy', 'oaat-name': 'item2' } });
  (legacyPod.metadata ??= {}).finalizers = [KOPF];
  legacyPod.metadata.ownerReferences = [
    { apiVersion: 'kawaja.net/v1', kind: 'OaatGroup', name: 'legacy', uid: group.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true },
  ];
  await cluster().core.createNamespacedPod({ namespace: ns().name, body: legacyPod });
  await waitUntil(() => cluster().core.readNamespacedPod({ namespace: ns().name, name: 'legacy-item2-abcde' }), (p) => p.status?.phase === 'Running', {
    what: 'the legacy pod to run',
  });

  const operator = ns().startOperator();
  const adopted = await ns().waitForGroup('legacy', (g) => g.status?.currentRun?.podName === 'legacy-item2-abcde', 'the running legacy pod adopted');
  expect(adopted.status?.currentRun?.item).toBe('item2');
  expect(adopted.metadata?.finalizers ?? []).not.toContain(KOPF);
  await waitUntil(() => cluster().core.readNamespacedPod({ namespace: ns().name, name: 'legacy-item2-abcde' }), (p) => !(p.metadata?.finalizers ?? []).includes(KOPF), {
    what: 'the kopf finalizer removed from the pod',
  });

  const running = await cluster().core.readNamespacedPod({ namespace: ns().name, name: 'legacy-item2-abcde' });
  await ns().end(running, { outcome: 'succeed', after: '2s' });
  const recorded = await ns().waitForGroup('legacy', (g) => g.status?.items?.item2?.last_run?.podUID === running.metadata?.uid, 'the adopted run recorded');
  expect(recorded.status?.items?.item2).toMatchObject({ failure_count: 0, last_run: { outcome: 'Succeeded' }, runtime: { count: 1 } });
  // item1 succeeded ten minutes ago with a frequency of an hour: nothing runs.
  expect(recorded.status?.currentRun ?? undefined).toBeUndefined();
  expect(recorded.status?.items?.item1).toMatchObject({ runtime_count: '3', last_success: recent });
  const dropped = recorded.status as Record<string, unknown> | undefined;
  expect([dropped?.oaat_timer, dropped?.state, (dropped?.handler_status as Record<string, unknown> | undefined)?.loops]).toEqual([undefined, undefined, undefined]);

  // Deletable with the operator stopped: no finalizer left anywhere.
  await operator.program.kill('SIGTERM');
  await cluster().custom.deleteNamespacedCustomObject({ ...GROUP_API, namespace: ns().name, plural: 'oaatgroups', name: 'legacy' });
  await waitUntil(async () => (await cluster().custom.listNamespacedCustomObject({ ...GROUP_API, namespace: ns().name, plural: 'oaatgroups' })) as { items: unknown[] }, (list) => list.items.length === 0, {
    what: 'the group to be deleted',
  });
  await waitUntil(() => ns().pods(), (pods) => pods.length === 0, { what: 'its pods to be garbage-collected', timeoutMs: 60_000 });
});
