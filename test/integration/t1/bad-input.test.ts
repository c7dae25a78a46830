/**
 * Bad input the API server cannot reject at apply time, as users meet it: the message on the
 * object (condition and Event), no crash, and other groups going on. (What the schema rejects at
 * `kubectl apply` is covered rule by rule in t0/crds.test.ts; objects stored before the schema
 * existed in t0/crd-upgrade.test.ts.)
 */
import type { TestCluster } from '../../support/cluster.ts';
import { operatorSuite, type OaatNamespace } from '../../support/oaat.ts';
import { waitUntil } from '../../support/wait.ts';

const suite = operatorSuite('T1', 'bad-input');
const cluster = (): TestCluster => suite.cluster;
const ns = (): OaatNamespace => suite.ns;

async function warning(reason: string): Promise<string | undefined> {
  const events = await waitUntil(() => cluster().core.listNamespacedEvent({ namespace: ns().name }), (list) => list.items.some((e) => e.reason === reason), {
    what: `a ${reason} Event`,
  });
  return events.items.find((e) => e.reason === reason)?.message;
}

it('records a pod the API server refuses as CreateFailed with its answer, and cools the item off', async () => {
  await ns().apply({
    apiVersion: 'kawaja.net/v1',
    kind: 'OaatType',
    metadata: { name: 'refused' },
    // Passes the OaatType schema, but a Pod may not have a negative deadline.
    spec: { type: 'pod', podspec: { nodeName: cluster().info.node, activeDeadlineSeconds: -5, container: { name: 'main', image: 'oaat.invalid/item:never-pulled' } } },
  });
  await ns().group('refusing', ['a'], { oaatType: 'refused', failureCoolOff: '1h' });
  await ns().group('healthy', ['b']);
  ns().startOperator();
  const group = await ns().waitForGroup('refusing', (g) => g.status?.items?.a?.last_run?.outcome === 'CreateFailed', 'CreateFailed');
  expect(group.status?.items?.a).toMatchObject({ failure_count: 1, last_run: { reason: expect.stringContaining('activeDeadlineSeconds') as unknown } });
  expect(await warning('RunCreateFailed')).toContain('spec.activeDeadlineSeconds');
  // The cool-off holds the item; the other group is not disturbed.
  const cooling = await ns().waitForGroup('refusing', (g) => typeof g.status?.nextEligibleAt === 'string', 'nextEligibleAt');
  expect(Date.parse(cooling.status?.nextEligibleAt ?? '')).toBeGreaterThan(Date.now() + 3_000_000);
  await ns().runningPod('healthy');
});

it('refuses an OaatType using a feature the pod restrictions refuse: on the group, in an Event and in the log; other groups go on', async () => {
  await ns().apply({
    apiVersion: 'kawaja.net/v1',
    kind: 'OaatType',
    metadata: { name: 'on-the-host' },
    spec: { type: 'pod', podspec: { nodeName: cluster().info.node, hostPID: true, volumes: [{ name: 'root', hostPath: { path: '/' } }], container: { name: 'main', image: 'oaat.invalid/item:never-pulled' } } },
  });
  await ns().group('host', ['a'], { oaatType: 'on-the-host' });
  await ns().group('healthy', ['b']);
  const operator = ns().startOperator({ OAAT_POD_RESTRICTIONS: 'hostNamespaces,hostPath' });
  const group = await ns().waitForGroup('host', (g) => g.status?.conditions?.find((c) => c.type === 'Ready')?.reason === 'OaatTypeRefused', 'Ready=False OaatTypeRefused');
  const expected = 'OaatType on-the-host: spec.podspec.hostPID: a host namespace: refused by this operator (pod restriction hostNamespaces); ' +
    'OaatType on-the-host: spec.podspec.volumes[0].hostPath: a hostPath volume: refused by this operator (pod restriction hostPath)';
  expect(group.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', message: expected });
  expect(await warning('OaatTypeRefused')).toBe(expected);
  expect((await operator.logged(/"reason":"OaatTypeRefused"/)).message).toBe(expected);
  await ns().runningPod('healthy');
  expect((await ns().pods()).filter((pod) => pod.metadata?.labels?.['parent-name'] === 'host')).toEqual([]);
});

it('runs items with any names, in a group whose name is longer than a label value', async () => {
  const name = `g${'-long'.repeat(14)}`;
  const items = ['Has Space/and Slash', 'UPPER_case.dots', 'x'.repeat(253)];
  await ns().group(name, items);
  ns().startOperator();
  const seen = new Set<string>();
  while (seen.size < items.length) {
    const pod = await ns().runningPod(name);
    expect(pod.metadata?.name?.length).toBeLessThanOrEqual(63);
    expect(pod.metadata?.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    seen.add(pod.metadata?.annotations?.['oaat.kawaja.net/item'] ?? '');
    await ns().end(pod, { outcome: 'succeed' });
    await ns().waitForGroup(name, (g) => g.status?.currentRun?.podName !== pod.metadata?.name, 'the run closed');
  }
  expect([...seen].sort()).toEqual([...items].sort());
  const group = await ns().readGroup(name);
  expect(Object.keys(group.status?.items ?? {}).sort()).toEqual([...items].sort());
});

it('says which window is wrong when its time zone is unknown, and starts nothing', async () => {
  await ns().group('martian', ['a'], { windows: [{ name: 'night', timeZone: 'Mars/Olympus_Mons', noStartItem: { start: { time: '01:00' }, end: { time: '02:00' } } }] });
  ns().startOperator();
  const group = await ns().waitForGroup('martian', (g) => g.status?.conditions?.find((c) => c.type === 'Ready')?.reason === 'InvalidSpec', 'Ready=False InvalidSpec');
  const ready = group.status?.conditions?.find((c) => c.type === 'Ready');
  expect(ready?.message).toContain('spec.windows[0].timeZone');
  expect(ready?.message).toContain('"Mars/Olympus_Mons" is not a time zone');
  expect(ready?.message).toContain('"night"');
  expect(group.status?.currentRun ?? undefined).toBeUndefined();
});

it('says so when a group has no items', async () => {
  await ns().group('empty', []);
  ns().startOperator();
  const group = await ns().waitForGroup('empty', (g) => g.status?.conditions?.find((c) => c.type === 'Ready')?.reason === 'NoItems', 'Ready=False NoItems');
  expect(group.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', message: 'no items: list them in spec.oaatItems or spec.oaatItemsFrom' });
  expect(await warning('NoItems')).toBe('no items: list them in spec.oaatItems or spec.oaatItemsFrom');
});

it('reports a run pod stuck terminating, and never force-deletes it', async () => {
  const node = `unmanaged-${ns().name}`;
  await cluster().core.createNode({ body: { metadata: { name: node } } });
  try {
    await ns().apply({
      apiVersion: 'kawaja.net/v1',
      kind: 'OaatType',
      metadata: { name: 'no-kubelet' },
      // A node no kubelet (or KWOK) serves: a pod deleted there never goes away by itself.
      spec: { type: 'pod', podspec: { nodeName: node, container: { name: 'main', image: 'oaat.invalid/item:never-pulled' } } },
    });
    await ns().group('held', ['a'], { oaatType: 'no-kubelet', pendingTimeout: '1h' });
    ns().startOperator({ OAAT_STUCK_AFTER: '2s' });
    const claimed = await ns().waitForGroup('held', (g) => g.status?.currentRun !== undefined && g.status.currentRun !== null, 'a claim');
    const podName = claimed.status?.currentRun?.podName ?? '';
    await waitUntil(() => ns().pods(), (pods) => pods.length === 1, { what: 'the pod' });
    ns().checker?.expectDeletion(podName);
    await cluster().core.deleteNamespacedPod({ namespace: ns().name, name: podName, gracePeriodSeconds: 1 });
    const stuck = await ns().waitForGroup('held', (g) => g.status?.conditions?.find((c) => c.type === 'Stuck')?.status === 'True', 'Stuck=True');
    expect(stuck.status?.conditions?.find((c) => c.type === 'Stuck')?.message).toContain(`pod ${podName} has been terminating since`);
    expect(await warning('PodStuckTerminating')).toContain(podName);
    expect(stuck.status?.currentRun?.podName).toBe(podName);
    expect((await ns().pods()).map((pod) => pod.metadata?.name)).toEqual([podName]);
    // Once it is gone (here: forced by a person), the run closes and the condition clears.
    await cluster().core.deleteNamespacedPod({ namespace: ns().name, name: podName, gracePeriodSeconds: 0 });
    await ns().waitForGroup('held', (g) => g.status?.conditions?.find((c) => c.type === 'Stuck')?.status === 'False' && g.status.items?.a?.last_run?.outcome === 'Deleted', 'the run closed and Stuck cleared');
  } finally {
    await cluster().core.deleteNode({ name: node });
  }
});
