/**
 * The operator as a child process on a control plane with a KWOK node: the original's
 * end-to-end scenarios, failures, pause, a hand-deleted pod, and crashes of the operator, each
 * watched by the invariant checker (no second live pod, every claim closed once, nothing
 * counted twice, no pod deleted before its run was closed).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { TestCluster } from '../../support/cluster.ts';
import { REPO_ROOT } from '../../support/control-plane.ts';
import { operatorSuite, type OaatNamespace } from '../../support/oaat.ts';
import { podManifest } from '../../support/pods.ts';
import { waitUntil } from '../../support/wait.ts';

const suite = operatorSuite('T1', 'operator');
const cluster = (): TestCluster => suite.cluster;
const ns = (): OaatNamespace => suite.ns;

/** A time of day as windows take it: HH:MM:SS, UTC. */
const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 19);

/** The group's next run is claimed after `closesAt` (a window's close), within a second of it. */
async function expectClaimedJustAfter(group: string, closesAt: number): Promise<void> {
  await ns().runningPod(group);
  const claimedAt = Date.parse((await ns().readGroup(group)).status?.currentRun?.claimedAt ?? '');
  expect(claimedAt).toBeGreaterThanOrEqual(closesAt);
  expect(claimedAt - closesAt).toBeLessThan(1_000);
}

const finished = (group: string, item: string, outcome: string) => (g: Awaited<ReturnType<OaatNamespace['readGroup']>>) =>
  g.metadata?.name === group && g.status?.items?.[item]?.last_run?.outcome === outcome && g.status.currentRun?.item !== item;

it('basic start-up: one pod runs, its success is recorded with runtime statistics, then the next item runs', async () => {
  await ns().group('basic', ['item1', 'item2']);
  const operator = ns().startOperator();
  // Its version, package.json's, opens its log and is in its metrics.
  const { version } = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  expect(await operator.logged('starting')).toMatchObject({ version, node: process.version });
  expect(operator.messages()[0]).toBe('starting');
  expect((await operator.http('/metrics')).text).toContain(`oaat_build_info{version="${version}",node_version="${process.version}"} 1`);
  const first = await ns().runningPod('basic');
  expect(await ns().livePods()).toHaveLength(1);
  const group = await ns().readGroup('basic');
  const run = group.status?.currentRun;
  expect(group.status?.handler_status).toMatchObject({ state: 'running', currently_running: run?.item, pod: first.metadata?.name });
  expect(group.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True' });
  expect(first.spec?.containers[0]?.command).toEqual(['run', run?.item]);
  expect(first.spec?.containers[0]?.env).toEqual(expect.arrayContaining([{ name: 'OAAT_ITEM', value: run?.item }]));

  await ns().end(first, { outcome: 'succeed', after: '1s' });
  const other = run?.item === 'item1' ? 'item2' : 'item1';
  const after = await ns().waitForGroup('basic', (g) => g.status?.currentRun?.item === other, `${other} claimed after ${run?.item ?? ''} succeeded`);
  expect(after.status?.items?.[run?.item ?? '']).toMatchObject({
    failure_count: 0,
    podphase: 'Succeeded',
    last_run: { id: run?.id, outcome: 'Succeeded', exitCode: 0, podUID: first.metadata?.uid },
    runtime: { count: 1 },
  });
  await ns().runningPod('basic');
  expect(await ns().livePods()).toHaveLength(1);
});

it('selects by last success: a seeded recent success runs last, then the group waits', async () => {
  await ns().group('selection', ['item1', 'item2'], { frequency: '60m' });
  await ns().seedStatus('selection', { items: { item2: { failure_count: 0, last_success: new Date(Date.now() - 3_600_000 * 2).toISOString() } } });
  await ns().seedStatus('selection', { items: { item1: { failure_count: 0, last_success: '2021-04-15T06:32:00+00:00' } } });
  ns().startOperator();
  const first = await ns().runningPod('selection');
  expect((await ns().readGroup('selection')).status?.currentRun?.item).toBe('item1');
  await ns().end(first, { outcome: 'succeed' });
  await ns().waitForGroup('selection', (g) => g.status?.currentRun?.item === 'item2', 'item2 claimed');
  const second = await ns().runningPod('selection');
  await ns().end(second, { outcome: 'succeed' });
  const idle = await ns().waitForGroup('selection', finished('selection', 'item2', 'Succeeded'), 'item2 recorded');
  expect(idle.status?.currentRun ?? undefined).toBeUndefined();
  expect(idle.status?.handler_status).toMatchObject({ state: 'idle' });
  expect(Date.parse(idle.status?.nextEligibleAt ?? '')).toBeGreaterThan(Date.now() + 3_000_000);
  expect(await ns().livePods()).toEqual([]);
  // Idle: reconciles (every requeue cap, 5 s here) write nothing.
  const version = (await ns().readGroup('selection')).metadata?.resourceVersion;
  await new Promise((resolve) => setTimeout(resolve, 7_000));
  expect((await ns().readGroup('selection')).metadata?.resourceVersion).toBe(version);
});

it('deletes a hand-made pod carrying the group labels, and the real run survives', async () => {
  await ns().group('rogues', ['item1', 'item2']);
  ns().startOperator();
  const real = await ns().runningPod('rogues');
  await cluster().core.createNamespacedPod({
    namespace: ns().name,
    body: podManifest({ name: 'item3', nodeName: cluster().info.node ?? '', labels: { app: 'oaat-operator', 'parent-name': 'rogues', 'oaat-name': 'item3' } }),
  });
  await waitUntil(async () => (await ns().livePods()).map((pod) => pod.metadata?.name), (names) => names.join() === real.metadata?.name, {
    what: 'only the real run pod to be live',
  });
  const still = await cluster().core.readNamespacedPod({ namespace: ns().name, name: real.metadata?.name ?? '' });
  expect(still.status?.phase).toBe('Running');
  expect(still.metadata?.uid).toBe(real.metadata?.uid);
});

it('records a failure with its exit code and respects the cool-off', async () => {
  await ns().group('cooling', ['a', 'b'], { failureCoolOff: '1h' });
  ns().startOperator();
  const first = await ns().runningPod('cooling');
  const failedItem = (await ns().readGroup('cooling')).status?.currentRun?.item ?? '';
  await ns().end(first, { outcome: 'fail', exitCode: 3 });
  const other = failedItem === 'a' ? 'b' : 'a';
  const after = await ns().waitForGroup('cooling', (g) => g.status?.currentRun?.item === other, 'the other item claimed');
  expect(after.status?.items?.[failedItem]).toMatchObject({ failure_count: 1, podphase: 'Failed', last_run: { outcome: 'Failed', exitCode: 3 } });
  expect(after.status?.items?.[failedItem]?.last_failure).toEqual(expect.any(String));
  const second = await ns().runningPod('cooling');
  await ns().end(second, { outcome: 'succeed' });
  const idle = await ns().waitForGroup('cooling', finished('cooling', other, 'Succeeded'), `${other} recorded`);
  // The failed item cools off for an hour; the other waits for its frequency: nothing runs now,
  // and the next to become eligible is the one that succeeded, a minute after its success.
  expect(idle.status?.currentRun ?? undefined).toBeUndefined();
  expect(Date.parse(idle.status?.nextEligibleAt ?? '')).toBeGreaterThanOrEqual(Date.parse(idle.status?.items?.[other]?.last_success ?? '') + 60_000);
});

it('backs a failing item off longer after each consecutive failure, says until when, and starts over after a success', async () => {
  await ns().group('backoff', ['only'], { frequency: '1s', failureCoolOff: '2s', failureBackoff: { multiplier: 2, max: '6s' } });
  ns().startOperator();
  const outcomes = ['fail', 'fail', 'fail', 'fail', 'succeed', 'fail'] as const;
  const waits: (number | undefined)[] = [];
  let retryAt: number | undefined;
  for (const outcome of outcomes) {
    const pod = await ns().runningPod('backoff');
    const run = (await ns().readGroup('backoff')).status?.currentRun;
    // Never started before the time the status gave.
    if (retryAt !== undefined) expect(Date.parse(run?.claimedAt ?? '')).toBeGreaterThanOrEqual(retryAt);
    await ns().end(pod, outcome === 'fail' ? { outcome: 'fail', exitCode: 1 } : { outcome: 'succeed' });
    const recorded = await ns().waitForGroup('backoff', (g) => g.status?.items?.only?.last_run?.id === run?.id, `run ${run?.id ?? ''} recorded`);
    const item = recorded.status?.items?.only;
    retryAt = item?.retry_at === undefined ? undefined : Date.parse(item.retry_at);
    waits.push(retryAt === undefined ? undefined : retryAt - Date.parse(item?.last_failure ?? ''));
  }
  expect(waits).toEqual([2_000, 4_000, 6_000, 6_000, undefined, 2_000]);
});

it('EachOnce: runs each item until it has succeeded once, then reports Complete and runs nothing; a new item reopens it', async () => {
  await ns().group('once', ['a', 'b'], { mode: 'EachOnce', frequency: '1s', failureCoolOff: '1s' });
  ns().startOperator();
  const complete = (g: Awaited<ReturnType<OaatNamespace['readGroup']>>): boolean => g.status?.conditions?.find((c) => c.type === 'Complete')?.status === 'True';
  const runs: string[] = [];
  let failedOnce = false;
  while (!complete(await ns().readGroup('once'))) {
    // The close of the last success writes Complete too, so the loop ends right after it.
    const pod = await ns().runningPod('once');
    const run = (await ns().readGroup('once')).status?.currentRun;
    runs.push(run?.item ?? '');
    await ns().end(pod, failedOnce ? { outcome: 'succeed' } : { outcome: 'fail', exitCode: 1 });
    failedOnce = true;
    await ns().waitForGroup('once', (g) => g.status?.items?.[run?.item ?? '']?.last_run?.id === run?.id, 'the run recorded');
  }
  // The first item failed and ran again; each ran until its one success, no more.
  expect(runs).toHaveLength(3);
  expect(runs.filter((item) => item === runs[0])).toHaveLength(2);
  expect(new Set(runs)).toEqual(new Set(['a', 'b']));
  const done = await ns().waitForGroup('once', complete, 'Complete=True');
  expect(done.status?.conditions?.find((c) => c.type === 'Complete')).toMatchObject({ reason: 'AllItemsSucceeded', message: 'all 2 items succeeded' });
  const events = await waitUntil(() => cluster().core.listNamespacedEvent({ namespace: ns().name }), (list) => list.items.some((e) => e.reason === 'AllItemsSucceeded'), {
    what: 'an AllItemsSucceeded Event',
  });
  expect(events.items.find((e) => e.reason === 'AllItemsSucceeded')?.message).toBe('all 2 items succeeded');
  // Three times the frequency later, nothing was claimed again.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  expect((await ns().readGroup('once')).status?.runSeq).toBe(done.status?.runSeq);

  await ns().group('once', ['a', 'b', 'c'], { mode: 'EachOnce', frequency: '1s', failureCoolOff: '1s' });
  const reopened = await ns().runningPod('once');
  expect(reopened.metadata?.annotations?.['oaat.kawaja.net/item']).toBe('c');
  expect((await ns().readGroup('once')).status?.conditions?.find((c) => c.type === 'Complete')).toMatchObject({ status: 'False', reason: 'ItemsPending' });
  await ns().end(reopened, { outcome: 'succeed' });
  expect((await ns().waitForGroup('once', complete, 'Complete=True again')).status?.conditions?.find((c) => c.type === 'Complete')?.message).toBe('all 3 items succeeded');
});

it('run-now starts an item inside its frequency after the current run, once per request; reset frees a failing item', async () => {
  const spec = { frequency: '1h', oaatType: 'runner', oaatItems: ['a', 'b'], failureCoolOff: '1h' };
  const annotate = (annotations: Record<string, string>): Promise<unknown> =>
    ns().apply({ apiVersion: 'kawaja.net/v1', kind: 'OaatGroup', metadata: { name: 'asked', annotations }, spec });
  await annotate({});
  ns().startOperator();
  // One success and one failure: then nothing is eligible for an hour.
  const first = await ns().runningPod('asked');
  const succeeded = first.metadata?.annotations?.['oaat.kawaja.net/item'] ?? '';
  const failing = succeeded === 'a' ? 'b' : 'a';
  await ns().end(first, { outcome: 'succeed' });
  const second = await ns().runningPod('asked');
  await ns().end(second, { outcome: 'fail', exitCode: 2 });
  await ns().waitForGroup('asked', (g) => g.status?.items?.[failing]?.failure_count === 1 && !g.status.currentRun, 'the failure recorded, idle');

  // Reset the failing item: it runs at once (it never succeeded); meanwhile ask for the other.
  await annotate({ 'oaat.kawaja.net/reset': failing });
  const retried = await ns().runningPod('asked');
  expect(retried.metadata?.annotations?.['oaat.kawaja.net/item']).toBe(failing);
  expect((await ns().readGroup('asked')).status?.reset).toEqual({ handled: failing });
  const request = `${succeeded}@2026-11-30T12:00:00Z`;
  await annotate({ 'oaat.kawaja.net/reset': failing, 'oaat.kawaja.net/run-now': request });
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect((await ns().readGroup('asked')).status?.currentRun?.podName).toBe(retried.metadata?.name); // never the running item's slot
  await ns().end(retried, { outcome: 'succeed' });
  const requested = await ns().waitForGroup('asked', (g) => g.status?.currentRun?.item === succeeded, 'the requested item claimed');
  expect(requested.status?.currentRun?.trigger).toBe('RunNow');
  expect(requested.status?.runNow).toEqual({ handled: request });
  const pod = await ns().runningPod('asked');
  await ns().end(pod, { outcome: 'succeed' });
  const closed = await ns().waitForGroup('asked', (g) => g.status?.items?.[succeeded]?.last_run?.id === requested.status?.currentRun?.id, 'the requested run recorded');
  expect(closed.status?.items?.[succeeded]?.last_run?.trigger).toBe('RunNow');
  // The same annotation asks for nothing more.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  expect((await ns().readGroup('asked')).status?.runSeq).toBe(closed.status?.runSeq);
});

it('starts nothing inside a noStartItem window, and the next item within a second after it closes', async () => {
  const now = Date.now();
  // The window holds until the end of its end second: it closes at the next whole second after now + 4 s.
  const closesAt = Math.floor((now + 4_000) / 1_000) * 1_000 + 1_000;
  await ns().group('blackout', ['a'], { windows: [{ name: 'maintenance', noStartItem: { start: { time: clock(now - 60_000) }, end: { time: clock(now + 4_000) } } }] });
  ns().startOperator();
  const waiting = await ns().waitForGroup('blackout', (g) => typeof g.status?.nextEligibleAt === 'string', 'nextEligibleAt');
  expect(Date.parse(waiting.status?.nextEligibleAt ?? '')).toBe(closesAt);
  expect(waiting.status?.currentRun ?? undefined).toBeUndefined();
  await expectClaimedJustAfter('blackout', closesAt);
});

it('noRunItem: an item whose predicted end crosses the window does not start before it, and starts after it closes', async () => {
  // The window opens 15 s from now; the item's one past run took 60 s, so it cannot fit before.
  const opensAt = Math.ceil((Date.now() + 15_000) / 1_000) * 1_000;
  const closesAt = opensAt + 3_000; // the end second 02 lasts to the start of second 03
  await ns().group('norun', ['long'], {
    frequency: '1h',
    windows: [{ name: 'backup', noRunItem: { start: { time: clock(opensAt) }, end: { time: clock(opensAt + 2_000) } } }],
    runtimePrediction: { marginPercent: 0, minBuffer: '0s' },
  });
  await ns().seedStatus('norun', { items: { long: { last_success: new Date(Date.now() - 7_200_000).toISOString(), runtime: { count: 1, total: 60, sumSquares: 3600, min: 60, max: 60, sample: [60] } } } });
  ns().startOperator();
  const held = await ns().waitForGroup('norun', (g) => g.status?.next?.reason === 'Window', 'next: Window');
  expect(held.status?.next).toEqual({ reason: 'Window', item: 'long', window: 'backup', at: new Date(closesAt).toISOString() });
  expect(held.status?.currentRun ?? undefined).toBeUndefined();
  await expectClaimedJustAfter('norun', closesAt);
});

it('stopRunning: the item still running when its window opens is stopped and recorded WindowStopped, not as a failure', async () => {
  const opensAt = Math.ceil((Date.now() + 8_000) / 1_000) * 1_000;
  await ns().group('stopping', ['a'], {
    frequency: '1h',
    windows: [{ name: 'backup', noRunItem: { start: { time: clock(opensAt) }, end: { time: clock(opensAt + 60_000) } }, stopRunning: true }],
  });
  ns().startOperator();
  // No runtime to predict: it starts, with a Warning, and is still running when the window opens.
  const pod = await ns().runningPod('stopping');
  const closed = await ns().waitForGroup('stopping', (g) => g.status?.items?.a?.last_run?.outcome === 'WindowStopped', 'the run closed WindowStopped', { timeoutMs: 30_000 });
  expect(closed.status?.items?.a).toMatchObject({ podphase: 'WindowStopped', last_run: { reason: 'WindowStopped' } });
  expect(closed.status?.items?.a?.failure_count ?? 0).toBe(0);
  expect(closed.status?.items?.a?.last_failure).toBeUndefined();
  expect(Date.parse(closed.status?.items?.a?.last_run?.finishedAt ?? '')).toBeGreaterThanOrEqual(opensAt - 1_000); // the kubelet's whole seconds
  const reasons = (await cluster().core.listNamespacedEvent({ namespace: ns().name })).items.map((e) => e.reason);
  expect(reasons).toEqual(expect.arrayContaining(['NoRuntimePrediction', 'WindowStopped']));
  // Nothing starts inside the window.
  expect(closed.status?.currentRun ?? undefined).toBeUndefined();
  expect(closed.status?.next).toMatchObject({ reason: 'Window', window: 'backup' });
  expect((await ns().pods()).filter((p) => p.metadata?.name !== pod.metadata?.name && p.status?.phase === 'Running')).toEqual([]);
});

it('items from a ConfigMap: runs them, reacts to edits within seconds, and says what to fix when it is missing or unlabelled', async () => {
  const spec = { frequency: '1h', oaatType: 'runner', oaatItems: [], oaatItemsFrom: [{ configMapKeyRef: { name: 'hosts', key: 'list' } }] };
  const group = (annotations: Record<string, string> = {}): Promise<unknown> => ns().apply({ apiVersion: 'kawaja.net/v1', kind: 'OaatGroup', metadata: { name: 'mapped', annotations }, spec });
  const configMap = (list: string, labelled = true): Promise<unknown> =>
    ns().apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'hosts', ...(labelled && { labels: { 'oaat.kawaja.net/items': 'true' } }) }, data: { list } });
  const ready = (g: Awaited<ReturnType<OaatNamespace['readGroup']>>): { reason?: string; message?: string } => g.status?.conditions?.find((c) => c.type === 'Ready') ?? {};
  await group();
  // A requeue cap of a minute: every reaction below within seconds comes from a watch event.
  ns().startOperator({ OAAT_REQUEUE_CAP: '60s' });
  const missing = await ns().waitForGroup('mapped', (g) => ready(g).reason === 'ItemsSourceNotReady', 'Ready=False ItemsSourceNotReady');
  expect(ready(missing).message).toBe('spec.oaatItemsFrom[0]: ConfigMap hosts key list: the ConfigMap does not exist (set optional: true to allow it)');

  // Each edit starts the item it adds within seconds; it succeeds, and the group goes idle.
  for (const [list, item] of [['# hosts\none\n', 'one'], ['one\ntwo\n', 'two']] as const) {
    const changedAt = Date.now();
    await configMap(list);
    const pod = await ns().runningPod('mapped', 10_000);
    expect(pod.metadata?.annotations?.['oaat.kawaja.net/item']).toBe(item);
    expect(Date.parse((await ns().readGroup('mapped')).status?.currentRun?.claimedAt ?? '') - changedAt).toBeLessThan(5_000);
    await ns().end(pod, { outcome: 'succeed' });
    await ns().waitForGroup('mapped', (g) => g.status?.items?.[item]?.last_success !== undefined && !g.status.currentRun, `${item} recorded, idle`);
  }

  // Without the label the operator does not watch it; the group (touched, to wake it) says to label it.
  await configMap('one\ntwo\n', false);
  await group({ touched: '1' });
  const unlabelled = await ns().waitForGroup('mapped', (g) => ready(g).message?.includes('label the ConfigMap') === true, 'asks for the label', { timeoutMs: 10_000 });
  expect(ready(unlabelled).message).toBe('spec.oaatItemsFrom[0]: ConfigMap hosts key list: label the ConfigMap oaat.kawaja.net/items=true so the operator watches it');
  // The history of its items is kept while the source cannot be read.
  expect(Object.keys(unlabelled.status?.items ?? {}).sort()).toEqual(['one', 'two']);
  await configMap('one\ntwo\n');
  await ns().waitForGroup('mapped', (g) => ready(g).reason === 'Valid', 'Ready again', { timeoutMs: 10_000 });
});

it('retries a failing item no sooner than the retry floor when there is no cool-off', async () => {
  await ns().group('floor', ['only']);
  ns().startOperator({ OAAT_RETRY_FLOOR: '4s' });
  const runs: { claimedAt: number; failedAt?: number }[] = [];
  for (let i = 0; i < 2; i++) {
    const pod = await ns().runningPod('floor');
    runs.push({ claimedAt: Date.parse((await ns().readGroup('floor')).status?.currentRun?.claimedAt ?? '') });
    await ns().end(pod, { outcome: 'fail', exitCode: 1 });
    const recorded = await ns().waitForGroup('floor', (g) => g.status?.items?.only?.last_run?.id !== undefined && g.status.currentRun?.podName !== pod.metadata?.name, 'the failure recorded');
    const last = runs.at(-1);
    if (last) last.failedAt = Date.parse(recorded.status?.items?.only?.last_failure ?? '');
  }
  const firstFailure = runs[0]?.failedAt ?? 0;
  expect((runs[1]?.claimedAt ?? 0) - firstFailure).toBeGreaterThanOrEqual(4_000 - 1_000); // finishedAt has whole seconds
  expect((await ns().readGroup('floor')).status?.items?.only?.failure_count).toBe(2);
});

it('pauses: the running item finishes, nothing new starts until unpaused', async () => {
  await ns().group('pausing', ['a', 'b']);
  ns().startOperator();
  const running = await ns().runningPod('pausing');
  await ns().apply({ apiVersion: 'kawaja.net/v1', kind: 'OaatGroup', metadata: { name: 'pausing' }, spec: { frequency: '1m', oaatType: 'runner', oaatItems: ['a', 'b'], paused: true } });
  await ns().waitForGroup('pausing', (g) => g.status?.conditions?.find((c) => c.type === 'Paused')?.status === 'True', 'Paused');
  const item = (await ns().readGroup('pausing')).status?.currentRun?.item ?? '';
  await ns().end(running, { outcome: 'succeed' });
  await ns().waitForGroup('pausing', finished('pausing', item, 'Succeeded'), 'the running item recorded');
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  expect((await ns().readGroup('pausing')).status?.currentRun ?? undefined).toBeUndefined();
  expect(await ns().livePods()).toEqual([]);

  await ns().apply({ apiVersion: 'kawaja.net/v1', kind: 'OaatGroup', metadata: { name: 'pausing' }, spec: { frequency: '1m', oaatType: 'runner', oaatItems: ['a', 'b'], paused: false } });
  await ns().runningPod('pausing');
});

it('records a running pod deleted by hand as Deleted', async () => {
  await ns().group('deleted', ['a']);
  ns().startOperator();
  const pod = await ns().runningPod('deleted');
  ns().checker?.expectDeletion(pod.metadata?.name ?? '');
  await cluster().core.deleteNamespacedPod({ namespace: ns().name, name: pod.metadata?.name ?? '' });
  const group = await ns().waitForGroup('deleted', (g) => g.status?.items?.a?.last_run?.outcome === 'Deleted', 'the deletion recorded');
  expect(group.status?.items?.a).toMatchObject({ failure_count: 1, last_run: { outcome: 'Deleted', exitCode: 143 } });
});

it('records a pod that finished while the operator was down, once', async () => {
  await ns().group('downtime', ['a', 'b']);
  const operator = ns().startOperator();
  const pod = await ns().runningPod('downtime');
  const item = (await ns().readGroup('downtime')).status?.currentRun?.item ?? '';
  await operator.program.kill('SIGKILL');
  await ns().end(pod, { outcome: 'succeed', after: '2s' });
  await waitUntil(() => cluster().core.readNamespacedPod({ namespace: ns().name, name: pod.metadata?.name ?? '' }), (p: V1Pod) => p.status?.phase === 'Succeeded', {
    what: 'the pod to succeed',
  });
  await operator.program.restart('SIGKILL');
  const group = await ns().waitForGroup('downtime', finished('downtime', item, 'Succeeded'), 'the result recorded after the restart');
  expect(group.status?.items?.[item]?.runtime?.count).toBe(1);
  await ns().runningPod('downtime');
});

it('two replicas without leader election never run a second pod or count twice', async () => {
  await ns().group('twins', ['a', 'b', 'c']);
  ns().startOperator({}, 'left');
  ns().startOperator({}, 'right');
  for (let i = 0; i < 4; i++) {
    const pod = await ns().runningPod('twins');
    expect(await ns().livePods()).toHaveLength(1);
    await ns().end(pod, { outcome: i % 2 === 0 ? 'succeed' : 'fail' });
    await ns().waitForGroup('twins', (g) => g.status?.currentRun?.podName !== pod.metadata?.name, 'the run closed');
  }
  const group = await ns().readGroup('twins');
  const recorded = Object.values(group.status?.items ?? {}).map((item) => item.last_run?.id).filter((id) => id !== undefined);
  expect(new Set(recorded).size).toBe(recorded.length);
});
