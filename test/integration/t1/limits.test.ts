/**
 * Run limits, history limits and the original's pause annotation, end to end with the operator
 * as a child process and the invariant checker watching.
 */
import type { TestCluster } from '../../support/cluster.ts';
import { operatorSuite, type OaatNamespace } from '../../support/oaat.ts';
import { waitUntil } from '../../support/wait.ts';

const suite = operatorSuite('T1', 'limits');
const cluster = (): TestCluster => suite.cluster;
const ns = (): OaatNamespace => suite.ns;

it('stops a run longer than runTimeout and records it as TimedOut', async () => {
  await ns().group('slow', ['a'], { runTimeout: '3s' });
  ns().startOperator();
  const pod = await ns().runningPod('slow');
  expect(pod.spec?.activeDeadlineSeconds).toBe(3);
  const group = await ns().waitForGroup('slow', (g) => g.status?.items?.a?.last_run?.outcome === 'TimedOut', 'the run timed out');
  expect(group.status?.items?.a).toMatchObject({ failure_count: 1, last_run: { outcome: 'TimedOut', reason: 'RunTimeout' } });
  const events = await cluster().core.listNamespacedEvent({ namespace: ns().name });
  expect(events.items.find((event) => event.reason === 'RunTimeout')?.message).toContain('ran longer than runTimeout 3s');
});

it('gives up on a pod Pending longer than pendingTimeout and records a failure', async () => {
  await ns().apply({
    apiVersion: 'kawaja.net/v1',
    kind: 'OaatType',
    metadata: { name: 'nowhere' },
    // No node matches: the pod stays Pending (with or without a scheduler).
    spec: { type: 'pod', podspec: { nodeSelector: { 'oaat.test/no-such-node': 'true' }, container: { name: 'main', image: 'oaat.invalid/item:never-pulled' } } },
  });
  await ns().group('stuck', ['a'], { oaatType: 'nowhere', pendingTimeout: '3s' });
  ns().startOperator();
  const group = await ns().waitForGroup('stuck', (g) => g.status?.items?.a?.last_run?.reason === 'PendingTimeout', 'the pending pod given up');
  expect(group.status?.items?.a).toMatchObject({ failure_count: 1, last_run: { outcome: 'Failed', reason: 'PendingTimeout' } });
});

it('keeps only the configured number of finished pods', async () => {
  await ns().group('history', ['a', 'b', 'c'], { successfulPodsHistoryLimit: 0, failedPodsHistoryLimit: 1 });
  ns().startOperator();
  for (const outcome of ['fail', 'fail', 'succeed'] as const) {
    const pod = await ns().runningPod('history');
    await ns().end(pod, outcome === 'fail' ? { outcome, exitCode: 4 } : { outcome });
    await ns().waitForGroup('history', (g) => g.status?.currentRun?.podName !== pod.metadata?.name, 'the run closed');
  }
  const finished = await waitUntil(
    async () => (await ns().pods()).filter((p) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed'),
    (pods) => pods.length === 1,
    { what: 'one finished pod left' },
  );
  expect(finished[0]?.status?.phase).toBe('Failed');
});

it('pauses through the original pause_new_jobs annotation', async () => {
  await ns().apply({
    apiVersion: 'kawaja.net/v1',
    kind: 'OaatGroup',
    metadata: { name: 'legacy-pause', annotations: { pause_new_jobs: 'yes' } },
    spec: { frequency: '1m', oaatType: 'runner', oaatItems: ['a'] },
  });
  ns().startOperator();
  const paused = await ns().waitForGroup('legacy-pause', (g) => g.status?.conditions?.find((c) => c.type === 'Paused')?.status === 'True', 'Paused');
  expect(paused.status?.currentRun ?? undefined).toBeUndefined();
  expect(await ns().pods()).toEqual([]);
  await cluster().custom.patchNamespacedCustomObject(
    { group: 'kawaja.net', version: 'v1', namespace: ns().name, plural: 'oaatgroups', name: 'legacy-pause', body: [{ op: 'remove', path: '/metadata/annotations/pause_new_jobs' }] },
  );
  await ns().runningPod('legacy-pause');
});

it('runs a duplicated item once and says so in a condition and an Event', async () => {
  await ns().group('twice', ['a', 'a']);
  ns().startOperator();
  const group = await ns().waitForGroup('twice', (g) => g.status?.conditions?.find((c) => c.type === 'DuplicateItems')?.status === 'True', 'DuplicateItems=True');
  expect(group.status?.conditions?.find((c) => c.type === 'DuplicateItems')?.message).toBe('spec.oaatItems: Duplicate value: "a" listed more than once; each runs as one item');
  const pod = await ns().runningPod('twice');
  await ns().end(pod, { outcome: 'succeed' });
  const idle = await ns().waitForGroup('twice', (g) => g.status?.items?.a?.last_run?.outcome === 'Succeeded', 'a recorded');
  expect(idle.status?.currentRun ?? undefined).toBeUndefined();
  const events = await cluster().core.listNamespacedEvent({ namespace: ns().name });
  expect(events.items.some((event) => event.reason === 'DuplicateItems' && event.type === 'Warning')).toBe(true);
});
