/**
 * T0: the invariant checker (test/support/invariant-checker.ts) can fail. Each test plays a
 * misbehaving operator: it writes item pods (the operator's labels, controller reference and
 * field manager) and group statuses (through /status) itself, and expects stop() to report
 * exactly the check it broke; one plays a correct operator and expects nothing. Pods here are
 * unmanaged (no kubelet): the test sets their phase, and deleting one removes it at once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { ANNOTATIONS, APP_LABEL_VALUE, LABELS } from '../../../src/api/v1/keys.ts';
import { connectCluster, TEST_FIELD_MANAGER, type TestCluster } from '../../support/cluster.ts';
import { InvariantChecker, type CheckerOptions, type CheckerScope } from '../../support/invariant-checker.ts';
import { GROUP_API, installOaatCrds } from '../../support/oaat.ts';
import { setPodPhase, unmanagedPod } from '../../support/pods.ts';

/** `FIELD_MANAGER` of src/container.ts: the pods and writes of the operator. */
const OPERATOR = 'oaat-operator';
const RECORD_WITHIN_MS = 300;
const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

let cluster: TestCluster;
let namespace: string;
let checker: InvariantChecker | undefined;

beforeAll(async () => {
  cluster = connectCluster('T0');
  await installOaatCrds(cluster);
});

beforeEach(async () => {
  namespace = await cluster.createNamespace('checker');
});

afterEach(async () => {
  await checker?.stop();
  checker = undefined;
});

async function startChecker(scope: CheckerScope & CheckerOptions = { namespace }): Promise<void> {
  checker = await InvariantChecker.start(cluster.kubeConfig, { recordWithinMs: RECORD_WITHIN_MS, ...scope });
}

/** Stops the checker; returns its violations without the time prefix. */
async function violations(): Promise<string[]> {
  const found = (await checker?.stop()) ?? [];
  checker = undefined;
  return found.map((violation) => violation.replace(/^\+\d+ ms /, ''));
}

/** The checks the violations name (the text before the first colon), sorted. */
function checksOf(found: string[]): string[] {
  return found.map((violation) => violation.split(':')[0] ?? '').sort();
}

/** A group as the tests' misbehaving operator sees it. */
interface Group {
  namespace: string;
  name: string;
  uid: string;
}

async function createGroup(name = 'g', items = ['a', 'b'], inNamespace = namespace): Promise<Group> {
  const created = (await cluster.custom.createNamespacedCustomObject({
    ...GROUP_API,
    namespace: inNamespace,
    plural: 'oaatgroups',
    body: { apiVersion: 'kawaja.net/v1', kind: 'OaatGroup', metadata: { name }, spec: { frequency: '1m', oaatType: 'runner', oaatItems: items } },
  })) as { metadata?: { uid?: string } };
  return { namespace: inNamespace, name, uid: created.metadata?.uid ?? '' };
}

async function writeStatus(group: Group, status: Record<string, unknown>): Promise<void> {
  await cluster.custom.patchNamespacedCustomObjectStatus(
    { ...GROUP_API, namespace: group.namespace, plural: 'oaatgroups', name: group.name, body: { status }, fieldManager: OPERATOR },
    MERGE_PATCH,
  );
}

function podName(group: Group, item: string, runId: string): string {
  return `${group.name}-${item}-${runId}`;
}

/** Claims run `runId` of `item` (its claim number `seq`); `item` adds keys to the item's status. */
async function claim(group: Group, item: string, runId: string, seq: number, itemStatus: Record<string, unknown> = {}): Promise<void> {
  const now = new Date().toISOString();
  await writeStatus(group, {
    runSeq: seq,
    currentRun: { id: runId, item, podName: podName(group, item, runId), claimedAt: now, seq },
    items: { [item]: { podphase: 'started', last_started: now, ...itemStatus } },
  });
}

interface RunRecord {
  runId: string;
  outcome: 'Succeeded' | 'Failed' | 'Deleted' | 'Lost';
  podUID?: string | undefined;
  failureCount: number;
  runtimeCount?: number;
}

/** Records a run of `item` and releases the claim, with the counts the test says. */
async function close(group: Group, item: string, record: RunRecord): Promise<void> {
  const now = new Date().toISOString();
  const runtime = record.runtimeCount === undefined ? {} : { runtime: { count: record.runtimeCount, total: 10, sumSquares: 100, min: 10, max: 10, sample: [10] } };
  await writeStatus(group, {
    currentRun: null,
    items: {
      [item]: {
        podphase: record.outcome,
        failure_count: record.failureCount,
        last_run: { id: record.runId, outcome: record.outcome, podUID: record.podUID ?? null, finishedAt: now },
        ...runtime,
      },
    },
  });
}

/** Creates the pod of run `runId` as the operator does (unless another field manager is given). */
async function createPod(group: Group, item: string, runId: string, fieldManager = OPERATOR, name = podName(group, item, runId)): Promise<V1Pod> {
  const pod = unmanagedPod({
    name,
    labels: { [LABELS.app]: APP_LABEL_VALUE, [LABELS.parentName]: group.name, [LABELS.itemName]: item, [LABELS.runId]: runId },
    annotations: { [ANNOTATIONS.item]: item },
  });
  (pod.metadata ??= {}).ownerReferences = [{ apiVersion: 'kawaja.net/v1', kind: 'OaatGroup', name: group.name, uid: group.uid, controller: true }];
  return cluster.core.createNamespacedPod({ namespace: group.namespace, body: pod, fieldManager });
}

async function end(pod: V1Pod, phase: 'Succeeded' | 'Failed'): Promise<void> {
  await setPodPhase(cluster.core, pod.metadata?.namespace ?? '', pod.metadata?.name ?? '', phase);
}

async function deletePod(pod: V1Pod): Promise<void> {
  await cluster.core.deleteNamespacedPod({ namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '' });
}

it('a correct run protocol, foreign pods and a run given up before its create committed: no violation', async () => {
  const g = await createGroup();
  await startChecker();
  await claim(g, 'a', 'r1', 1);
  const first = await createPod(g, 'a', 'r1');
  await setPodPhase(cluster.core, namespace, first.metadata?.name ?? '', 'Running');
  // A user's pod with the group's labels, a run id included: not the operator's, never counted.
  const foreign = await createPod(g, 'a', 'x1', TEST_FIELD_MANAGER, 'g-a-foreign');
  await end(first, 'Succeeded');
  await close(g, 'a', { runId: 'r1', outcome: 'Succeeded', podUID: first.metadata?.uid, failureCount: 0, runtimeCount: 1 });
  await end(foreign, 'Failed');
  await deletePod(first);

  await claim(g, 'b', 'r2', 2);
  const second = await createPod(g, 'b', 'r2');
  await end(second, 'Failed');
  await close(g, 'b', { runId: 'r2', outcome: 'Failed', podUID: second.metadata?.uid, failureCount: 1 });

  // Given up before any process saw a pod; the pod's create commits afterwards.
  await claim(g, 'a', 'r3', 3);
  await close(g, 'a', { runId: 'r3', outcome: 'Lost', failureCount: 0, runtimeCount: 1 });
  const late = await createPod(g, 'a', 'r3');
  await end(late, 'Failed');

  await claim(g, 'b', 'r4', 4);
  const third = await createPod(g, 'b', 'r4');
  await end(third, 'Failed');
  await close(g, 'b', { runId: 'r4', outcome: 'Failed', podUID: third.metadata?.uid, failureCount: 2 });
  await sleep(RECORD_WITHIN_MS + 100);
  expect(await violations()).toEqual([]);
});

it('two live operator pods of one group', async () => {
  const g = await createGroup();
  await startChecker();
  await createPod(g, 'a', 'r1');
  await createPod(g, 'b', 'r2');
  expect(await violations()).toEqual([`two live pods: group ${namespace}/g: 2 live operator pods at once: ${namespace}/g-a-r1, ${namespace}/g-b-r2`]);
});

it('a pod name and a run id seen with a second UID: created again', async () => {
  const g = await createGroup();
  await startChecker();
  const pod = await createPod(g, 'a', 'r1');
  await deletePod(pod);
  const again = await createPod(g, 'a', 'r1');
  const found = await violations();
  expect(checksOf(found)).toEqual(['created again', 'created again']);
  const uids = `uids ${pod.metadata?.uid ?? ''}, ${again.metadata?.uid ?? ''}`;
  expect(found).toContain(`created again: pod ${namespace}/g-a-r1: ${uids}`);
  expect(found).toContain(`created again: run ${namespace}/r1 (pod ${namespace}/g-a-r1): ${uids}`);
});

it('a pod recorded by two runs, and a run recorded twice', async () => {
  const g = await createGroup();
  await startChecker();
  await claim(g, 'a', 'r1', 1);
  const pod = await createPod(g, 'a', 'r1');
  await end(pod, 'Failed');
  await close(g, 'a', { runId: 'r1', outcome: 'Failed', podUID: pod.metadata?.uid, failureCount: 1 });
  await claim(g, 'a', 'r2', 2);
  await close(g, 'a', { runId: 'r2', outcome: 'Failed', podUID: pod.metadata?.uid, failureCount: 2 });
  await claim(g, 'a', 'r3', 3);
  await close(g, 'a', { runId: 'r1', outcome: 'Failed', failureCount: 3 });
  const found = await violations();
  // r3 was released with r1's result: never recorded.
  expect(checksOf(found)).toEqual(['claim never recorded', 'recorded twice', 'recorded twice']);
  expect(found).toContain(`recorded twice: pod ${pod.metadata?.uid ?? ''}: by run r1 of group ${namespace}/g, then by run r2 of group ${namespace}/g`);
  expect(found).toContain(`recorded twice: group ${namespace}/g: run r1`);
  expect(found).toContain(`claim never recorded: group ${namespace}/g: claim r3 was released but never recorded`);
});

it('a pod that ended and was never recorded: a lost result, once it ended recordWithinMs before stop', async () => {
  const g = await createGroup();
  await startChecker({ namespace, recordWithinMs: 2_000 });
  await claim(g, 'a', 'r1', 1);
  const unrecorded = await createPod(g, 'a', 'r1');
  await end(unrecorded, 'Failed');
  // Closed as Failed, but without the pod's UID.
  await close(g, 'a', { runId: 'r1', outcome: 'Failed', failureCount: 1 });
  await sleep(2_500);
  // Too recent to judge.
  await claim(g, 'b', 'r2', 2);
  const recent = await createPod(g, 'b', 'r2');
  await end(recent, 'Succeeded');
  expect(await violations()).toEqual([
    expect.stringMatching(new RegExp(`^lost result: pod ${namespace}/g-a-r1 \\(uid ${unrecorded.metadata?.uid ?? ''}, run r1\\) of group ${namespace}/g ended \\d+ s before stop and was never recorded$`)),
  ]);
});

it('a pod the test expects unrecorded, or whose group is gone, is no lost result', async () => {
  const g = await createGroup();
  const gone = await createGroup('gone');
  await startChecker();
  await end(await createPod(g, 'a', 'r1'), 'Failed');
  checker?.expectUnrecorded('g-a-r1');
  await end(await createPod(gone, 'a', 'r2'), 'Failed');
  await cluster.custom.deleteNamespacedCustomObject({ ...GROUP_API, namespace, plural: 'oaatgroups', name: 'gone' });
  await sleep(RECORD_WITHIN_MS + 100);
  expect(await violations()).toEqual([]);
});

describe('failure_count must follow the outcome of each new run', () => {
  it.each([
    ['a failure counted twice', 0, { outcome: 'Failed', failureCount: 2 }, '0 -> 2, expected 1'],
    ['a success that does not reset it', 2, { outcome: 'Succeeded', failureCount: 2, runtimeCount: 1 }, '2 -> 2, expected 0'],
    ['a run given up (Lost) counted as a failure', 1, { outcome: 'Lost', failureCount: 2 }, '1 -> 2, expected 1'],
    ['a pod deleted (Deleted) not counted', 1, { outcome: 'Deleted', failureCount: 1 }, '1 -> 1, expected 2'],
  ] as const)('%s', async (_title, before, record, counts) => {
    const g = await createGroup();
    await startChecker();
    await claim(g, 'a', 'r1', 1, { failure_count: before });
    const pod = await createPod(g, 'a', 'r1');
    await end(pod, 'Failed');
    await close(g, 'a', { runId: 'r1', podUID: record.outcome === 'Lost' ? undefined : pod.metadata?.uid, ...record });
    expect(await violations()).toEqual([`wrong failure_count: group ${namespace}/g item a: run r1 ${record.outcome}: ${counts}`]);
  });

  it('never rises without a new run', async () => {
    const g = await createGroup();
    await startChecker();
    await claim(g, 'a', 'r1', 1, { failure_count: 0 });
    await writeStatus(g, { items: { a: { failure_count: 1 } } });
    const pod = await createPod(g, 'a', 'r1');
    await end(pod, 'Failed');
    await close(g, 'a', { runId: 'r1', outcome: 'Failed', podUID: pod.metadata?.uid, failureCount: 2 });
    expect(await violations()).toEqual([`wrong failure_count: group ${namespace}/g item a: 0 -> 1 without a new run`]);
  });
});

describe('runtime.count must follow the outcome of each new run', () => {
  it.each([
    ['a success counted twice', { outcome: 'Succeeded', failureCount: 0, runtimeCount: 2 }, '0 -> 2, expected 0 or 1'],
    ['a failure adding a runtime sample', { outcome: 'Failed', failureCount: 1, runtimeCount: 1 }, '0 -> 1, expected 0'],
  ] as const)('%s', async (_title, record, counts) => {
    const g = await createGroup();
    await startChecker();
    await claim(g, 'a', 'r1', 1);
    const pod = await createPod(g, 'a', 'r1');
    await end(pod, record.outcome);
    await close(g, 'a', { runId: 'r1', podUID: pod.metadata?.uid, ...record });
    expect(await violations()).toEqual([`wrong runtime.count: group ${namespace}/g item a: run r1 ${record.outcome}: ${counts}`]);
  });
});

it('a claim whose pod ended and that is never closed', async () => {
  const g = await createGroup();
  await startChecker();
  await claim(g, 'a', 'r1', 1);
  await end(await createPod(g, 'a', 'r1'), 'Succeeded');
  await sleep(RECORD_WITHIN_MS + 100);
  const found = await violations();
  expect(checksOf(found)).toEqual(['claim never closed', 'lost result']);
  expect(found).toContainEqual(expect.stringMatching(new RegExp(`^claim never closed: group ${namespace}/g: claim r1 still open \\d+ s after its pod g-a-r1 ended or vanished$`)));
});

it('a pod deleted while its run is claimed, unless the test said it would delete it', async () => {
  const g = await createGroup();
  await startChecker();
  await claim(g, 'a', 'r1', 1);
  const pod = await createPod(g, 'a', 'r1');
  await deletePod(pod);
  await close(g, 'a', { runId: 'r1', outcome: 'Deleted', podUID: pod.metadata?.uid, failureCount: 1 });
  await claim(g, 'b', 'r2', 2);
  const expected = await createPod(g, 'b', 'r2');
  checker?.expectDeletion('g-b-r2');
  await deletePod(expected);
  await close(g, 'b', { runId: 'r2', outcome: 'Deleted', podUID: expected.metadata?.uid, failureCount: 1 });
  expect(await violations()).toEqual([expect.stringMatching(new RegExp(`^deleted while claimed: pod ${namespace}/g-a-r1 deleted \\(rv \\d+\\) before its run r1 was closed \\(rv \\d+\\)$`))]);
});

it('no pod deleted while claimed is a violation once the test said it deletes the namespace', async () => {
  const g = await createGroup();
  await startChecker();
  checker?.expectNamespaceDeletion();
  await claim(g, 'a', 'r1', 1);
  const pod = await createPod(g, 'a', 'r1');
  await deletePod(pod);
  await close(g, 'a', { runId: 'r1', outcome: 'Deleted', podUID: pod.metadata?.uid, failureCount: 1 });
  expect(await violations()).toEqual([]);
});

it('watching every namespace: groups of one name in two namespaces are two groups', async () => {
  const other = await cluster.createNamespace('checker');
  const here = await createGroup();
  const there = await createGroup('g', ['a', 'b'], other);
  await startChecker({ allNamespaces: true });
  // The same pod name and run id in both namespaces.
  await createPod(here, 'a', 'r1');
  await createPod(there, 'a', 'r1');
  // A pod made with the operator's field manager that the test declares foreign.
  checker?.expectForeign(other, 'g-b-r9');
  await createPod(there, 'b', 'r9');
  expect(() => checker?.expectDeletion('g-a-r1')).toThrow('a checker of every namespace needs the pod\'s namespace');
  await createPod(there, 'b', 'r2');
  // Other suites may run in the cluster at the same time: only these namespaces are judged.
  const found = (await violations()).filter((violation) => violation.includes(`${namespace}/`) || violation.includes(`${other}/`));
  expect(found).toEqual([`two live pods: group ${other}/g: 2 live operator pods at once: ${other}/g-a-r1, ${other}/g-b-r2`]);
});
