import type { V1Pod } from '@kubernetes/client-node';
import { ANNOTATIONS, APP_LABEL_VALUE, LABELS } from '../../../src/api/v1/keys.ts';
import type { CurrentRun, OaatGroup, OaatGroupStatus, OaatType } from '../../../src/api/v1/types.ts';
import {
  CLOCK_SKEW_MARGIN_MS,
  ELIGIBILITY_WAKE_MARGIN_MS,
  planGroup,
  recordOf,
  refusalBackoffMs,
  REFUSAL_BACKOFF_BASE_MS,
  type GroupPlan,
  type GroupSnapshot,
  type PlannerSettings,
  type RunKnowledge,
} from '../../../src/services/group-planner.ts';
import { seededRng } from '../../../src/services/rng.ts';

const NOW = Date.parse('2026-11-26T12:00:00Z');
const iso = (ms: number): string => new Date(ms).toISOString();
const ME = 'host_me';
const settings: PlannerSettings = {
  incarnation: ME,
  requeueCapMs: 60_000,
  retryFloorMs: 60_000,
  createGraceMs: 60_000,
  requestTimeoutMs: 30_000,
  serverRequestTimeoutMs: 60_000,
  stuckAfterMs: 300_000,
  staleItemRetentionMs: 12 * 3_600_000,
  statusItemsLimit: 2_000,
  podRestrictions: new Set(),
};
const TYPE: OaatType = { metadata: { name: 't', namespace: 'ns' }, spec: { type: 'pod', podspec: { container: { name: 'c', image: 'busybox' } } } };
const GROUP_UID = 'group-uid';

function group(status: OaatGroupStatus = {}, spec: OaatGroup['spec'] = {}, annotations?: Record<string, string>): OaatGroup {
  return {
    metadata: { name: 'g', namespace: 'ns', uid: GROUP_UID, resourceVersion: '7', generation: 1, ...(annotations && { annotations }) },
    spec: { oaatType: 't', oaatItems: ['a', 'b'], frequency: '1h', ...spec },
    status,
  };
}

const claim = (over: Partial<CurrentRun> = {}): CurrentRun => ({ id: 'r1', item: 'a', podName: 'g-a-r1', claimedAt: iso(NOW - 10_000), seq: 4, claimedBy: ME, ...over });

interface PodOptions {
  name?: string;
  uid?: string;
  owner?: string | null;
  runId?: string | null;
  seq?: number | null;
  item?: string;
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  exitCode?: number;
  startedAt?: number;
  finishedAt?: number;
  deletion?: { at: number; grace: number };
  created?: number;
  annotations?: Record<string, string>;
  reason?: string;
}

function pod(options: PodOptions = {}): V1Pod {
  const phase = options.phase ?? 'Running';
  const started = options.startedAt ?? NOW - 50_000;
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  return {
    metadata: {
      name: options.name ?? 'g-a-r1',
      namespace: 'ns',
      uid: options.uid ?? 'pod-uid',
      creationTimestamp: iso(options.created ?? NOW - 60_000) as unknown as Date,
      labels: {
        [LABELS.app]: APP_LABEL_VALUE,
        [LABELS.parentName]: 'g',
        [LABELS.itemName]: options.item ?? 'a',
        ...(options.runId !== null && { [LABELS.runId]: options.runId ?? 'r1' }),
      },
      annotations: {
        [ANNOTATIONS.item]: options.item ?? 'a',
        ...(options.seq !== null && { [ANNOTATIONS.runSeq]: String(options.seq ?? 4) }),
        ...options.annotations,
      },
      ...(options.owner !== null && { ownerReferences: [{ apiVersion: 'kawaja.net/v1', kind: 'OaatGroup', name: 'g', uid: options.owner ?? GROUP_UID, controller: true }] }),
      ...(options.deletion && { deletionTimestamp: iso(options.deletion.at + options.deletion.grace * 1000) as unknown as Date, deletionGracePeriodSeconds: options.deletion.grace }),
    },
    status: {
      phase,
      ...(options.reason !== undefined && { reason: options.reason }),
      ...(phase !== 'Pending' && { startTime: iso(started) as unknown as Date }),
      containerStatuses: [
        {
          name: 'c',
          image: 'busybox',
          imageID: '',
          ready: !terminal,
          restartCount: 0,
          state: terminal
            ? { terminated: { exitCode: options.exitCode ?? (phase === 'Succeeded' ? 0 : 1), startedAt: iso(started) as unknown as Date, finishedAt: iso(options.finishedAt ?? NOW - 5_000) as unknown as Date } }
            : { running: { startedAt: iso(started) as unknown as Date } },
        },
      ],
    },
  };
}

function plan(snapshot: Partial<GroupSnapshot> & { group: OaatGroup }, over: Partial<PlannerSettings> = {}): GroupPlan {
  return planGroup({ pods: [], type: TYPE, now: NOW, ...snapshot }, { ...settings, ...over }, seededRng(7));
}

const knows = (over: Partial<RunKnowledge> = {}): RunKnowledge => ({ firstSeenAt: NOW - 10_000, polls: 0, ...over });

describe('planGroup: closing the current run', () => {
  it.each([
    ['a success', pod({ phase: 'Succeeded', startedAt: NOW - 95_000, finishedAt: NOW - 5_000 }), { outcome: 'Succeeded', exitCode: 0 }],
    ['a failure', pod({ phase: 'Failed', exitCode: 3 }), { outcome: 'Failed', exitCode: 3 }],
    ['the kubelet deadline', pod({ phase: 'Failed', exitCode: 137, reason: 'DeadlineExceeded' }), { outcome: 'TimedOut', reason: 'DeadlineExceeded' }],
    ['a run timeout stop', pod({ phase: 'Failed', exitCode: 143, annotations: { [ANNOTATIONS.stopReason]: 'RunTimeout' } }), { outcome: 'TimedOut', reason: 'RunTimeout' }],
    ['a pending timeout stop', pod({ phase: 'Failed', exitCode: 143, annotations: { [ANNOTATIONS.stopReason]: 'PendingTimeout' } }), { outcome: 'Failed', reason: 'PendingTimeout' }],
    ['a deletion while it ran', pod({ phase: 'Failed', exitCode: 143, deletion: { at: NOW - 20_000, grace: 30 }, finishedAt: NOW - 10_000 }), { outcome: 'Deleted', exitCode: 143 }],
  ])('records %s from the terminal pod in the cache, with its UID, and claims the next item in the same write', (_what, terminal, expected) => {
    const result = plan({ group: group({ currentRun: claim(), runSeq: 4 }), pods: [terminal], run: knows() });
    expect(result.checks).toEqual([]);
    expect(result.draft.status.items?.a?.last_run).toMatchObject({ id: 'r1', podUID: 'pod-uid', ...expected });
    expect(result.draft.closed).toHaveLength(1);
    expect(result.claim).toMatchObject({ item: 'b', seq: 5, claimedBy: ME });
    expect(result.draft.status.runSeq).toBe(5);
  });

  it('takes the runtime from the container\'s own clock and never records a future finish (kubelet clock ahead)', () => {
    const ahead = 120_000;
    const record = recordOf(pod({ phase: 'Succeeded', startedAt: NOW + ahead - 30_000, finishedAt: NOW + ahead }), NOW);
    expect(record).toMatchObject({ finishedAt: NOW, runtimeMs: 30_000 });
  });

  it('records how a pod ended that the kubelet removed before the cache showed it terminal: no live read needed', () => {
    const result = plan({ group: group({ currentRun: claim() }), run: knows({ lastSeen: pod({ phase: 'Failed', exitCode: 2 }) }) });
    expect(result.checks).toEqual([]);
    expect(result.draft.status.items?.a?.last_run).toMatchObject({ outcome: 'Failed', exitCode: 2, podUID: 'pod-uid' });
  });

  it('closes a pod that vanished live as Deleted, with its UID, once a live read confirms it is gone', () => {
    const result = plan({ group: group({ currentRun: claim() }), run: knows({ lastSeen: pod() }) });
    expect(result.checks).toEqual([{ kind: 'pod-gone', name: 'g-a-r1', retryAfterMs: 1_000 }]);
    expect(result.draft.status.items?.a?.last_run).toMatchObject({ outcome: 'Deleted', podUID: 'pod-uid' });
  });

  it('once a live read found the pod the cache does not show, reads it again with backoff (still writing the rest) and reports Stuck after five reads', () => {
    const third = plan({ group: group({ currentRun: claim() }), run: knows({ lastSeen: pod(), polls: 3 }) });
    expect(third.checks).toEqual([]);
    expect(third.actions).toEqual([{ kind: 'read-pod', name: 'g-a-r1' }]);
    expect(third.draft.closed).toHaveLength(0);
    expect(third.requeueAfterMs).toBe(8_000);
    const fifth = plan({ group: group({ currentRun: claim() }), run: knows({ lastSeen: pod(), polls: 5 }) });
    expect(fifth.draft.condition('Stuck')).toMatchObject({ status: 'True', reason: 'PodNotInCache' });
    const ended = plan({ group: group({ currentRun: claim() }), run: knows({ lastSeen: pod({ phase: 'Succeeded' }), polls: 6 }) });
    expect(ended.draft.status.items?.a?.last_run).toMatchObject({ outcome: 'Succeeded', podUID: 'pod-uid' });
  });

  it('reads such a pod again only when its backoff since the last read has passed, whatever else wakes the group (sim seed 315)', () => {
    // Read 3 found it 2 s ago: the next read is due 8 s after it.
    const early = plan({ group: group({ currentRun: claim() }), run: knows({ lastSeen: pod(), polls: 3, polledAt: NOW - 2_000 }) });
    expect(early.actions).toEqual([]);
    expect(early.requeueAfterMs).toBe(6_000);
    const due = plan({ group: group({ currentRun: claim() }), run: knows({ lastSeen: pod(), polls: 3, polledAt: NOW - 8_000 }) });
    expect(due.actions).toEqual([{ kind: 'read-pod', name: 'g-a-r1' }]);
  });

  it('does not read a pod again that a live read found gone', () => {
    const result = plan({ group: group({ currentRun: claim() }), run: knows({ lastSeen: pod(), gone: true }) });
    expect(result.checks).toEqual([]);
    expect(result.draft.closed).toHaveLength(1);
  });

  it('does not look for a pod just created outside the cache for a moment', () => {
    const result = plan({ group: group({ currentRun: claim() }), run: knows({ lastSeen: pod(), create: { state: 'created', at: NOW - 500 } }) });
    expect(result.checks).toEqual([]);
    expect(result.draft.closed).toHaveLength(0);
    expect(result.requeueAfterMs).toBe(1_500);
  });
});

describe('planGroup: who may create, and when a run is gone', () => {
  const claimedAt = NOW - 10_000;
  const sendBy = claimedAt + settings.createGraceMs - settings.requestTimeoutMs;

  it('lets the claiming process create the pod once, with its claim number, before its deadline', () => {
    const result = plan({ group: group({ currentRun: claim(), runSeq: 4 }), run: knows({ create: { state: 'pending' } }) });
    expect(result.actions).toEqual([{ kind: 'create', pod: expect.anything() as unknown, runId: 'r1', sendBy }]);
    const action = result.actions[0];
    const created = action?.kind === 'create' ? action.pod : undefined;
    expect(created?.metadata?.annotations?.[ANNOTATIONS.runSeq]).toBe('4');
    expect(created?.metadata?.ownerReferences?.[0]).toMatchObject({ uid: GROUP_UID, controller: true });
    expect(result.draft.patch()).toBeDefined(); // conditions only: no close
    expect(result.draft.closed).toHaveLength(0);
  });

  it.each([
    ['another incarnation\'s claim', claim({ claimedBy: 'host_other' })],
    ['a claim of an older version (no claimedBy)', claim({ claimedBy: undefined as unknown as string })],
  ])('never creates the pod of %s, even with a pending create in memory', (_what, run) => {
    const result = plan({ group: group({ currentRun: run }), run: knows({ create: { state: 'pending' } }) });
    expect(result.actions).toEqual([]);
  });

  it('closes as Lost at once a run whose create was never sent before its deadline (no pod can exist)', () => {
    for (const create of [{ state: 'pending' }, { state: 'expired' }] as const) {
      const result = plan({ group: group({ currentRun: claim({ claimedAt: iso(NOW - 40_000) }) }), run: knows({ create }) });
      expect(result.actions.filter((action) => action.kind === 'create' && action.runId === 'r1')).toEqual([]);
      expect(result.checks).toEqual([]);
      expect(result.draft.status.items?.a?.last_run).toMatchObject({ outcome: 'Lost', reason: 'PodNotCreated' });
    }
  });

  it('waits while the create is in flight', () => {
    const result = plan({ group: group({ currentRun: claim() }), run: knows({ create: { state: 'in-flight' } }) });
    expect(result.draft.closed).toHaveLength(0);
    expect(result.requeueAfterMs).toBe(settings.requestTimeoutMs);
  });

  it('never sends again a create whose outcome is unknown: the run waits until a create cannot commit any more, then a live read decides', () => {
    const goneAfter = claimedAt + settings.createGraceMs + settings.serverRequestTimeoutMs + CLOCK_SKEW_MARGIN_MS;
    const early = plan({ group: group({ currentRun: claim() }), run: knows({ create: { state: 'unknown' } }), now: goneAfter - 1 });
    expect(early.actions).toEqual([]);
    expect(early.draft.closed).toHaveLength(0);
    expect(early.requeueAfterMs).toBe(1);
    const late = plan({ group: group({ currentRun: claim() }), run: knows({ create: { state: 'unknown' } }), now: goneAfter });
    expect(late.checks).toEqual([{ kind: 'pod-gone', name: 'g-a-r1', retryAfterMs: 1_000 }]);
    expect(late.draft.status.items?.a?.last_run).toMatchObject({ outcome: 'Lost', reason: 'PodNeverObserved' });
  });

  it('times another process\'s claim from when this process first saw it, on its own clock', () => {
    const firstSeenAt = NOW - 5_000; // later than claimedAt: a restart, or a claimer clock behind ours
    const goneAfter = firstSeenAt + settings.createGraceMs + settings.serverRequestTimeoutMs + CLOCK_SKEW_MARGIN_MS;
    const result = plan({ group: group({ currentRun: claim({ claimedBy: 'host_other' }) }), run: knows({ firstSeenAt }), now: goneAfter - 1_000 });
    expect(result.draft.closed).toHaveLength(0);
    expect(result.requeueAfterMs).toBe(1_000);
  });

  it('closes a refused create as CreateFailed with the API server\'s answer; the third in a row starts a backoff with a condition and an Event', () => {
    const refused = { state: 'refused', message: 'exceeded quota' } as const;
    const first = plan({ group: group({ currentRun: claim() }), run: knows({ create: refused }) });
    expect(first.draft.status.items?.a?.last_run).toMatchObject({ outcome: 'CreateFailed', reason: 'exceeded quota' });
    expect(first.draft.status.createBackoff).toEqual({ refusals: 1, message: 'exceeded quota' });
    expect(first.claim).toBeDefined();
    const third = plan({ group: group({ currentRun: claim(), createBackoff: { refusals: 2, message: 'x' } }), run: knows({ create: refused }) });
    expect(third.draft.status.createBackoff).toEqual({ refusals: 3, message: 'exceeded quota', retryAt: iso(NOW + REFUSAL_BACKOFF_BASE_MS) });
    expect(third.claim).toBeUndefined();
    expect(third.draft.condition('CreatesRefused')).toMatchObject({ status: 'True', reason: 'PodCreateRefused' });
    expect(third.events.map((e) => e.reason)).toContain('CreatesRefused');
    expect(third.requeueAfterMs).toBe(REFUSAL_BACKOFF_BASE_MS);
  });

  it('backs off exponentially up to a cap', () => {
    expect([1, 2, 3, 4, 5, 20].map(refusalBackoffMs)).toEqual([0, 0, 30_000, 60_000, 120_000, 600_000]);
  });

  it('probes with a dry-run create before the next claim once the backoff ends, and extends the backoff when the probe is refused', () => {
    const status = { createBackoff: { refusals: 3, message: 'x', retryAt: iso(NOW - 1) } };
    const probe = plan({ group: group(status) });
    expect(probe.claim).toBeDefined();
    expect(probe.checks).toEqual([{ kind: 'create-admitted', pod: expect.objectContaining({ kind: 'Pod' }) as unknown }]);
    const refused = plan({ group: group(status), probeRefusal: 'still over quota' });
    expect(refused.claim).toBeUndefined();
    expect(refused.draft.status.createBackoff).toEqual({ refusals: 4, message: 'still over quota', retryAt: iso(NOW + 60_000) });
  });

  it('creates the pod of its own new claim in the same reconcile, right after the claim is written', () => {
    const result = plan({ group: group({ runSeq: 7 }) });
    expect(result.claim).toMatchObject({ seq: 8, claimedBy: ME });
    expect(result.actions).toEqual([{ kind: 'create', pod: expect.objectContaining({ kind: 'Pod' }) as unknown, runId: result.claim?.id, sendBy: NOW + 30_000 }]);
    const action = result.actions[0];
    expect(action?.kind === 'create' ? action.pod.metadata?.annotations?.[ANNOTATIONS.runSeq] : undefined).toBe('8');
  });

  it('resets the backoff when a created pod\'s run closes', () => {
    const result = plan({ group: group({ currentRun: claim(), createBackoff: { refusals: 3, message: 'x', retryAt: iso(NOW - 1) }, conditions: [] }), pods: [pod({ phase: 'Succeeded' })], run: knows() });
    expect(result.draft.status.createBackoff).toBeNull();
  });
});

describe('planGroup: one pod per group', () => {
  it.each([
    ['another group\'s pod (a deleted group of the same name)', { owner: 'old-group-uid' }],
    ['a pod without a controller', { owner: null }],
  ] as const)('deletes %s, never records it, and claims nothing while it lives', (_what, options) => {
    const foreign = pod({ name: 'g-b-x', uid: 'foreign-uid', ...options });
    const result = plan({ group: group({ runSeq: 4 }), pods: [foreign] });
    expect(result.actions).toEqual([{ kind: 'delete-foreign', pod: foreign }]);
    expect(result.claim).toBeUndefined();
    const finished = plan({ group: group({ runSeq: 4 }), pods: [pod({ ...options, phase: 'Failed', uid: 'foreign-uid' })] });
    expect(finished.draft.status.items?.a?.last_run).toBeUndefined();
    expect(finished.claim).toBeDefined();
  });

  it('waits for a deleting foreign pod (a deleting pod is live) and reports Stuck when it stays', () => {
    const deleting = pod({ owner: 'old-group-uid', deletion: { at: NOW - 400_000, grace: 30 } });
    const result = plan({ group: group({ runSeq: 4 }), pods: [deleting] });
    expect(result.actions).toEqual([]);
    expect(result.claim).toBeUndefined();
    expect(result.draft.condition('Stuck')).toMatchObject({ status: 'True', reason: 'ForeignPodStuckTerminating' });
  });

  it('deletes a live pod of a closed run (a rogue) and claims nothing while it or any deleting pod of the group lives', () => {
    const rogue = pod({ seq: 3 });
    const result = plan({ group: group({ runSeq: 4 }), pods: [rogue] });
    expect(result.actions).toEqual([{ kind: 'delete-rogue', pod: rogue }]);
    expect(result.claim).toBeUndefined();
    const deleting = plan({ group: group({ runSeq: 4 }), pods: [pod({ seq: 3, deletion: { at: NOW - 1_000, grace: 600 } })] });
    expect(deleting.actions).toEqual([]);
    expect(deleting.claim).toBeUndefined();
  });

  it('leaves alone a pod whose claim the group cache does not show yet (its number is past the status read)', () => {
    const result = plan({ group: group({ runSeq: 4 }), pods: [pod({ seq: 5 })] });
    expect(result.actions).toEqual([]);
    expect(result.claim).toBeUndefined();
    expect(result.requeueAfterMs).toBe(1_000);
  });

  it('adopts the oldest live pod of the original (no claim number) when nothing is claimed, and deletes the others', () => {
    const old = pod({ name: 'orig-1', uid: 'u1', runId: null, seq: null, created: NOW - 90_000 });
    const young = pod({ name: 'orig-2', uid: 'u2', runId: null, seq: null, created: NOW - 30_000, item: 'b' });
    const result = plan({ group: group(), pods: [young, old] });
    expect(result.claim).toMatchObject({ id: 'adopted-u1', podName: 'orig-1', item: 'a', seq: 1, claimedBy: ME });
    expect(result.actions).toEqual([{ kind: 'delete-rogue', pod: young }]);
    expect(result.events.map((e) => e.reason)).toContain('PodAdopted');
  });

  it('never adopts a pod whose run is recorded already', () => {
    const recorded = pod({ runId: 'r0', seq: null });
    const result = plan({ group: group({ items: { a: { last_run: { id: 'r0', outcome: 'Failed', finishedAt: iso(NOW) } } } }), pods: [recorded] });
    expect(result.claim).toBeUndefined();
    expect(result.actions).toEqual([{ kind: 'delete-rogue', pod: recorded }]);
  });

  it.each([
    ['before this operator\'s first claim', {}, true],
    ['after this operator\'s first claim', { runSeq: 1 }, false],
    ['when its UID is recorded', { items: { a: { last_run: { id: 'x', podUID: 'pod-uid', outcome: 'Succeeded' as const, finishedAt: iso(NOW - 5_000) } } } }, false],
    ['when the item has a later result', { items: { a: { last_success: iso(NOW - 1_000) } } }, false],
  ])('records a finished pod of the original %s: %s', (_when, status: OaatGroupStatus, recorded) => {
    const result = plan({ group: group(status), pods: [pod({ phase: 'Succeeded', runId: null, seq: null })] });
    expect(result.draft.status.items?.a?.last_run?.podUID === 'pod-uid' && result.draft.status.items.a.last_run.id !== 'x').toBe(recorded);
  });

  it('never records a finished pod with a claim number outside its claim', () => {
    const result = plan({ group: group({ runSeq: 4 }), pods: [pod({ phase: 'Succeeded', seq: 3 })] });
    expect(result.draft.status.items?.a?.last_run).toBeUndefined();
  });
});

describe('planGroup: limits, validation, pruning', () => {
  it('stops a run past its run timeout, and a pod Pending past the pending timeout', () => {
    const running = pod({ startedAt: NOW - 120_000 });
    const timedOut = plan({ group: group({ currentRun: claim({ claimedAt: iso(NOW - 130_000) }) }, { runTimeout: '1m' }), pods: [running], run: knows() });
    expect(timedOut.actions).toEqual([expect.objectContaining({ kind: 'stop', reason: 'RunTimeout' })]);
    const pending = pod({ created: NOW - 2 * 3_600_000 });
    pending.status = { phase: 'Pending' };
    const stuck = plan({ group: group({ currentRun: claim({ claimedAt: iso(NOW - 2 * 3_600_000) }) }), pods: [pending], run: knows() });
    expect(stuck.actions).toEqual([expect.objectContaining({ kind: 'stop', reason: 'PendingTimeout' })]);
  });

  it('closes runs but claims nothing while the spec is invalid or the OaatType missing, with a condition', () => {
    const invalid = plan({ group: group({ currentRun: claim() }, { frequency: '1.5h' }), pods: [pod({ phase: 'Succeeded' })], run: knows() });
    expect(invalid.draft.closed).toHaveLength(1);
    expect(invalid.claim).toBeUndefined();
    expect(invalid.draft.condition('Ready')).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
    const noType = plan({ group: group(), type: undefined });
    expect(noType.draft.condition('Ready')).toMatchObject({ reason: 'OaatTypeNotFound' });
    expect(noType.claim).toBeUndefined();
  });

  it('writes when each failing item may run again with its failure, grown by the backoff; a success or a spec change rewrites it', () => {
    const failedAt = NOW - 5_000;
    const spec = { oaatItems: ['a', 'b'], failureCoolOff: '5m', failureBackoff: {} };
    const items = { a: { last_failure: iso(NOW - 60_000), failure_count: 2, last_success: iso(NOW - 7_200_000) } };
    const closing = plan({ group: group({ currentRun: claim(), items, runSeq: 1 }, spec), pods: [pod({ phase: 'Failed', exitCode: 1, finishedAt: failedAt })], run: knows() });
    expect(closing.draft.status.items?.a).toMatchObject({ failure_count: 3, retry_at: iso(failedAt + 20 * 60_000) });
    expect(closing.draft.patch()).toMatchObject({ items: { a: { retry_at: iso(failedAt + 20 * 60_000) } } });
    // The wait follows the spec: a multiplier of 3 after three failures is 45 minutes.
    const failing = { a: closing.draft.status.items?.a ?? {} };
    const respec = plan({ group: group({ items: failing, runSeq: 1 }, { ...spec, failureBackoff: { multiplier: 3 } }) });
    expect(respec.draft.status.items?.a?.retry_at).toBe(iso(failedAt + 45 * 60_000));
    // Unchanged history and spec: nothing to write, however much time passed (paused: no claim).
    const later = planGroup({ pods: [], type: TYPE, now: NOW + 3_600_000, group: group({ items: failing, runSeq: 1 }, { ...spec, paused: true }) }, settings, seededRng(7));
    expect(later.draft.patch()?.items).toBeUndefined();
    // A success clears it.
    const succeeding = plan({ group: group({ currentRun: claim(), items: failing, runSeq: 1 }, spec), pods: [pod({ phase: 'Succeeded' })], run: knows() });
    expect(succeeding.draft.status.items?.a?.failure_count).toBe(0);
    expect(succeeding.draft.status.items?.a).not.toHaveProperty('retry_at');
    expect(succeeding.draft.patch()).toMatchObject({ items: { a: { retry_at: null } } });
  });

  it('EachOnce: runs only items that never succeeded, says how far it is, completes with an Event, and reopens for a new item', () => {
    const spec = { oaatItems: ['a', 'b', 'c'], mode: 'EachOnce' as const };
    const items = { a: { last_success: iso(NOW - 7_200_000) }, b: { last_failure: iso(NOW - 7_200_000), failure_count: 1 } };
    const working = plan({ group: group({ items }, spec) }, { retryFloorMs: 1 });
    expect(working.claim?.item).not.toBe('a');
    expect(working.draft.condition('Complete')).toMatchObject({ status: 'False', reason: 'ItemsFailing', message: '1 of 3 items succeeded, 1 failing, 1 not run yet' });

    const pending = plan({ group: group({ items: { a: items.a } }, spec) });
    expect(pending.draft.condition('Complete')).toMatchObject({ status: 'False', reason: 'ItemsPending', message: '1 of 3 items succeeded, 0 failing, 2 not run yet' });

    // The last item's success closes the group's work: no claim, no eligibility, an Event once.
    const done = { a: items.a, b: { last_success: iso(NOW - 60_000) } };
    const closing = plan({ group: group({ currentRun: claim({ item: 'c' }), items: done, runSeq: 4 }, spec), pods: [pod({ phase: 'Succeeded', item: 'c' })], run: knows() });
    expect(closing.claim).toBeUndefined();
    expect(closing.draft.status.nextEligibleAt).toBeNull();
    expect(closing.draft.condition('Complete')).toMatchObject({ status: 'True', reason: 'AllItemsSucceeded', message: 'all 3 items succeeded' });
    expect(closing.events).toContainEqual({ type: 'Normal', reason: 'AllItemsSucceeded', message: 'all 3 items succeeded' });
    const complete = closing.draft.status;
    const idle = plan({ group: group(complete, spec) });
    expect(idle.claim).toBeUndefined();
    expect(idle.draft.patch()).toBeUndefined();
    expect(idle.events).toEqual([]);

    // A new item reopens it; Continuous drops the condition and runs the others again.
    const reopened = plan({ group: group(complete, { ...spec, oaatItems: ['a', 'b', 'c', 'd'] }) });
    expect(reopened.claim?.item).toBe('d');
    expect(reopened.draft.condition('Complete')).toMatchObject({ status: 'False', reason: 'ItemsPending' });
    const continuous = plan({ group: group(complete, { oaatItems: ['a', 'b', 'c'] }) });
    expect(continuous.draft.condition('Complete')).toBeUndefined();
    expect(continuous.claim).toBeDefined();
  });

  it('run-now: starts the requested item next whatever its eligibility, records the request in the claim\'s write, and never twice', () => {
    const items = { a: { last_success: iso(NOW - 60_000) }, b: { last_failure: iso(NOW - 1_000), failure_count: 5 } };
    const requested = (value: string, status: OaatGroupStatus = { items }, spec: OaatGroup['spec'] = {}): OaatGroup =>
      group(status, { failureCoolOff: '1h', ...spec }, { [ANNOTATIONS.runNow]: value });
    const result = plan({ group: requested('b') });
    expect(result.claim).toMatchObject({ item: 'b', trigger: 'RunNow' });
    expect(result.draft.status.runNow).toEqual({ handled: 'b' });
    // Handled: the same annotation asks for nothing more (nothing else is eligible either).
    const after = plan({ group: requested('b', { items, runNow: { handled: 'b' } }) });
    expect(after.claim).toBeUndefined();
    // A new time makes it a new request; EachOnce completion does not hold it back.
    expect(plan({ group: requested('a@2026-11-26T13:00:00Z', { items, runNow: { handled: 'b' } }, { mode: 'EachOnce' }) }).claim).toMatchObject({ item: 'a', trigger: 'RunNow' });
    // Never the running item's slot, never a paused group: the request waits, unhandled.
    const busy = plan({ group: requested('b', { items, currentRun: claim({ item: 'a' }) }), pods: [pod()], run: knows() });
    expect(busy.claim).toBeUndefined();
    expect(busy.draft.status.runNow).toBeUndefined();
    const paused = plan({ group: requested('b', { items }, { paused: true }) });
    expect(paused.claim).toBeUndefined();
    expect(paused.draft.status.runNow).toBeUndefined();
    // An unknown item: a Warning, handled, and the selection goes on as usual.
    const unknown = plan({ group: requested('zzz', { items: { a: items.a } }) });
    expect(unknown.events).toContainEqual({ type: 'Warning', reason: 'UnknownItem', message: 'run-now "zzz": no such item in spec.oaatItems' });
    expect(unknown.draft.status.runNow).toEqual({ handled: 'zzz' });
    expect(unknown.claim).toMatchObject({ item: 'b' });
    expect(unknown.claim).not.toHaveProperty('trigger');
  });

  it('run-now: the run\'s close records its trigger', () => {
    const closing = plan({ group: group({ currentRun: claim({ trigger: 'RunNow' }), runSeq: 4 }), pods: [pod({ phase: 'Succeeded' })], run: knows() });
    expect(closing.draft.status.items?.a?.last_run).toMatchObject({ outcome: 'Succeeded', trigger: 'RunNow' });
  });

  it('reset: clears the failures of one item or of all, in the write that records the request; an unknown item gets a Warning', () => {
    const failing = { last_failure: iso(NOW - 1_000), failure_count: 3, last_success: iso(NOW - 7_200_000) };
    const status: OaatGroupStatus = { items: { a: { ...failing }, b: { ...failing } } };
    const withReset = (value: string, over: OaatGroupStatus = status): OaatGroup => group(over, { failureCoolOff: '1h', failureBackoff: {} }, { [ANNOTATIONS.reset]: value });
    const one = plan({ group: withReset('a') });
    expect(one.draft.status.items?.a).toEqual({ last_success: failing.last_success, failure_count: 0, last_started: iso(NOW), podphase: 'started' });
    expect(one.draft.status.items?.b).toMatchObject({ failure_count: 3, retry_at: expect.any(String) as unknown });
    expect(one.claim?.item).toBe('a');
    expect(one.draft.status.reset).toEqual({ handled: 'a' });
    expect(one.events).toContainEqual({ type: 'Normal', reason: 'ItemReset', message: 'cleared the failures of item a' });
    const all = plan({ group: withReset('*@2026-11-26T12:00:00Z') });
    expect([all.draft.status.items?.a?.failure_count, all.draft.status.items?.b?.failure_count]).toEqual([0, 0]);
    // Handled already: nothing is cleared again.
    const again = plan({ group: withReset('a', { ...status, reset: { handled: 'a' } }) });
    expect(again.draft.status.items?.a?.failure_count).toBe(3);
    const unknown = plan({ group: withReset('zzz') });
    expect(unknown.events).toContainEqual({ type: 'Warning', reason: 'UnknownItem', message: 'reset "zzz": no such item in spec.oaatItems' });
    expect(unknown.draft.status.reset).toEqual({ handled: 'zzz' });
  });

  it('starts nothing inside a blackout window of either kind, wakes just after it closes, and a run-now request still runs', () => {
    // NOW is 12:00 UTC; the window ends at the end of 12:00:09.
    const blackout = { windows: [{ name: 'deploys', noStartItem: { start: { time: '11:00' }, end: { time: '12:00:09' } } }] };
    const blocked = plan({ group: group({}, blackout) });
    expect(blocked.claim).toBeUndefined();
    expect(blocked.draft.status.nextEligibleAt).toBe(iso(NOW + 10_000));
    expect(blocked.requeueAfterMs).toBe(10_000 + ELIGIBILITY_WAKE_MARGIN_MS);
    expect(plan({ group: group({}, { windows: [{ noRunItem: { start: { time: '11:59' }, end: { time: '12:05' } } }] }) }).claim).toBeUndefined();
    // Elsewhere in the day, in another zone: no effect.
    expect(plan({ group: group({}, { ...blackout, timeZone: 'Asia/Tokyo' }) }).claim).toBeDefined();
    // Explicit intent wins over windows.
    expect(plan({ group: group({}, blackout, { [ANNOTATIONS.runNow]: 'a' }) }).claim).toMatchObject({ item: 'a', trigger: 'RunNow' });
  });

  it('status.next: forecasts the next item, when and why, with each claim, close or spec change, and never as time passes', () => {
    // A claim of one item: the other is eligible, so it runs right after.
    const claiming = plan({ group: group({}, { oaatItems: ['a', 'b'] }) });
    const other = claiming.claim?.item === 'a' ? 'b' : 'a';
    expect(claiming.draft.status.next).toEqual({ reason: 'Eligible', item: other, at: iso(NOW) });
    // A close without a claim: the item that becomes eligible soonest, and the rule holding it.
    const items = { a: { last_success: iso(NOW - 3_000_000) }, b: { last_failure: iso(NOW - 60_000), failure_count: 3, last_success: iso(NOW - 7_200_000) } };
    const closing = plan({
      group: group({ currentRun: claim({ item: 'b' }), items, runSeq: 4, observedGeneration: 1 }, { failureCoolOff: '1m', failureBackoff: {} }),
      pods: [pod({ phase: 'Failed', exitCode: 1, item: 'b', finishedAt: NOW - 1_000 })],
      run: knows(),
    });
    expect(closing.claim).toBeUndefined();
    // b failed a fourth time: 1m doubled three times is 8m, sooner than a's frequency.
    expect(closing.draft.status.next).toEqual({ reason: 'Backoff', item: 'b', at: iso(NOW - 1_000 + 8 * 60_000) });
    // Later, nothing changed: nothing is rewritten, though the forecast's time has come.
    const idle = { ...closing.draft.status, observedGeneration: 1 };
    const later = planGroup({ pods: [], type: TYPE, now: NOW + 60_000, group: group(idle, { oaatItems: ['a', 'b'], failureCoolOff: '1m', failureBackoff: {}, paused: false }) }, settings, seededRng(7));
    expect(later.draft.status.next).toEqual(closing.draft.status.next);
    // The frequency, a window, paused: each named.
    const waiting = plan({ group: group({ items: { a: items.a }, observedGeneration: 0 }, { oaatItems: ['a'] }) });
    expect(waiting.draft.status.next).toEqual({ reason: 'Frequency', item: 'a', at: iso(NOW - 3_000_000 + 3_600_000 + 1) });
    const windows = [{ name: 'deploys', noStartItem: { start: { time: '11:00' }, end: { time: '12:00:09' } } }];
    expect(plan({ group: group({ observedGeneration: 0 }, { windows }) }).draft.status.next).toMatchObject({ reason: 'Window', window: 'deploys', at: iso(NOW + 10_000) });
    expect(plan({ group: group({ observedGeneration: 0 }, { paused: true }) }).draft.status.next).toEqual({ reason: 'Paused' });
  });

  it('noRunItem: starts only items predicted to end before the window opens; the others wait until it has closed', () => {
    // NOW is 12:00; the window opens at 12:30 and closes at the end of 13:00.
    const windows = [{ name: 'backup', noRunItem: { start: { time: '12:30' }, end: { time: '13:00' } } }];
    const runtime = (seconds: number): Record<string, unknown> => ({ runtime: { count: 1, total: seconds, sumSquares: seconds * seconds, min: seconds, max: seconds, sample: [seconds] } });
    const old = iso(NOW - 7_200_000);
    const items = { long: { last_success: old, ...runtime(40 * 60) }, short: { last_success: old, ...runtime(5 * 60) } };
    const both = plan({ group: group({ items }, { oaatItems: ['long', 'short'], windows }) });
    expect(both.claim?.item).toBe('short'); // 5m + 5m buffer fits; 40m + 20m does not
    const longOnly = plan({ group: group({ items, observedGeneration: 0 }, { oaatItems: ['long'], windows }) });
    expect(longOnly.claim).toBeUndefined();
    expect(longOnly.draft.status.nextEligibleAt).toBe(iso(Date.parse('2026-11-26T13:01:00Z')));
    expect(longOnly.draft.status.next).toEqual({ reason: 'Window', item: 'long', at: '2026-11-26T13:01:00.000Z', window: 'backup' });
    // A run timeout bounds the prediction; a shorter percentile or margin can make it fit too.
    expect(plan({ group: group({ items }, { oaatItems: ['long'], windows, runTimeout: '20m' }) }).claim?.item).toBe('long');
    expect(plan({ group: group({ items }, { oaatItems: ['long'], windows, runtimePrediction: { marginPercent: 0, minBuffer: '0s' } }) }).claim).toBeUndefined();
    // No history and no default: it may start, with a Warning; a default runtime decides instead.
    const fresh = plan({ group: group({}, { oaatItems: ['new'], windows }) });
    expect(fresh.claim?.item).toBe('new');
    expect(fresh.events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'NoRuntimePrediction', message: expect.stringContaining('window backup opens at 2026-11-26T12:30:00.000Z') as unknown }));
    expect(plan({ group: group({}, { oaatItems: ['new'], windows, runtimePrediction: { defaultRuntime: '1h' } }) }).claim).toBeUndefined();
  });

  it('stopRunning: stops the running item as its window opens, not a failure; never a run-now run, and wakes for the opening', () => {
    const windows = (start: string): OaatGroup['spec'] => ({ windows: [{ name: 'backup', noRunItem: { start: { time: start }, end: { time: '13:00' } }, stopRunning: true }] });
    const running = pod({ startedAt: NOW - 60_000 });
    const stopped = plan({ group: group({ currentRun: claim(), runSeq: 4 }, windows('11:59')), pods: [running], run: knows() });
    expect(stopped.actions).toEqual([{ kind: 'stop', pod: running, reason: 'WindowStopped', message: 'stopped pod g-a-r1: window backup opened (stopRunning)' }]);
    const requested = plan({ group: group({ currentRun: claim({ trigger: 'RunNow' }), runSeq: 4 }, windows('11:59')), pods: [running], run: knows() });
    expect(requested.actions).toEqual([]);
    // Before it opens: the group wakes for the opening.
    const before = plan({ group: group({ currentRun: claim(), runSeq: 4 }, windows('12:00:30')), pods: [running], run: knows() });
    expect(before.actions).toEqual([]);
    expect(before.requeueAfterMs).toBe(30_000);
    // Without stopRunning, the item runs on.
    const finishing = plan({ group: group({ currentRun: claim(), runSeq: 4 }, { windows: [{ noRunItem: { start: { time: '11:59' }, end: { time: '13:00' } } }] }), pods: [running], run: knows() });
    expect(finishing.actions).toEqual([]);
    // The stop's record, unless the run succeeded before the stop took effect.
    const stop = { [ANNOTATIONS.stopReason]: 'WindowStopped' };
    expect(recordOf(pod({ phase: 'Failed', exitCode: 143, deletion: { at: NOW - 20_000, grace: 30 }, finishedAt: NOW - 10_000, annotations: stop }), NOW)).toMatchObject({
      outcome: 'WindowStopped',
      reason: 'WindowStopped',
      exitCode: 143,
    });
    expect(recordOf(pod({ phase: 'Succeeded', deletion: { at: NOW - 5_000, grace: 30 }, finishedAt: NOW - 10_000, annotations: stop }), NOW)).toMatchObject({ outcome: 'Succeeded' });
    // The close counts no failure.
    const failing = { a: { last_failure: iso(NOW - 3_600_000), failure_count: 2 } };
    const closed = plan({ group: group({ currentRun: claim(), runSeq: 4, items: failing }, windows('11:59')), pods: [pod({ phase: 'Failed', exitCode: 143, annotations: { [ANNOTATIONS.stopReason]: 'WindowStopped' } })], run: knows() });
    expect(closed.draft.status.items?.a).toMatchObject({ failure_count: 2, last_failure: iso(NOW - 3_600_000), podphase: 'WindowStopped', last_run: { outcome: 'WindowStopped' } });
    expect(closed.events).toContainEqual(expect.objectContaining({ type: 'Normal', reason: 'RunWindowStopped' }));
  });

  it('items from ConfigMaps run like listed ones; an unreadable source stops new runs, names itself, and prunes no history', () => {
    const sourced = plan({ group: group({}, { oaatItems: [] }), sourcedItems: { items: ['from-map'], problems: [] } });
    expect(sourced.claim?.item).toBe('from-map');
    const history = { 'from-map': { last_success: iso(NOW - 7 * 24 * 3_600_000) } };
    const broken = plan({
      group: group({ items: history }, { oaatItems: ['a'] }),
      sourcedItems: { items: [], problems: [{ path: 'spec.oaatItemsFrom[0]', message: 'ConfigMap hosts key list: the ConfigMap does not exist' }] },
    });
    expect(broken.claim).toBeUndefined();
    expect(broken.draft.condition('Ready')).toMatchObject({ status: 'False', reason: 'ItemsSourceNotReady', message: 'spec.oaatItemsFrom[0]: ConfigMap hosts key list: the ConfigMap does not exist' });
    expect(broken.events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'ItemsSourceNotReady' }));
    expect(broken.draft.status.items?.['from-map']).toBeDefined();
  });

  it('starts nothing from an OaatType the pod restrictions refuse, says why, and fails a claimed run instead of creating its pod', () => {
    const hostType: OaatType = { ...TYPE, spec: { type: 'pod', podspec: { hostNetwork: true, container: { name: 'c', image: 'busybox' } } } };
    const refused = plan({ group: group(), type: hostType }, { podRestrictions: new Set(['hostNamespaces']) });
    expect(refused.claim).toBeUndefined();
    expect(refused.draft.condition('Ready')).toMatchObject({
      status: 'False',
      reason: 'OaatTypeRefused',
      message: 'OaatType t: spec.podspec.hostNetwork: a host namespace: refused by this operator (pod restriction hostNamespaces)',
    });
    expect(refused.events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'OaatTypeRefused' }));
    // Another restriction leaves it alone.
    expect(plan({ group: group(), type: hostType }, { podRestrictions: new Set(['hostPath', 'serviceAccount']) }).claim).toBeDefined();
    // Claimed before the OaatType changed: the create is not sent, the run fails with the reason.
    const pending = plan({ group: group({ currentRun: claim(), runSeq: 4 }), type: hostType, run: knows({ create: { state: 'pending' } }) }, { podRestrictions: new Set(['hostNamespaces']) });
    expect(pending.actions.filter((action) => action.kind === 'create')).toEqual([]);
    expect(pending.draft.closed).toEqual([expect.objectContaining({ lastRun: expect.objectContaining({ outcome: 'CreateFailed', reason: expect.stringContaining('pod restriction hostNamespaces') as unknown }) as unknown })]);
  });

  it('prunes history of unlisted items at once, oldest first, when the map would outgrow its bound, and never while the item list is invalid', () => {
    const items = Object.fromEntries(['old', 'older', 'a'].map((name, i) => [name, { last_success: iso(NOW - (i === 1 ? 9_000 : 5_000)) }]));
    const result = plan({ group: group({ items }, { oaatItems: ['a'] }) }, { statusItemsLimit: 3 });
    expect(Object.keys(result.draft.status.items ?? {}).sort()).toEqual(['a', 'old']);
    const invalid = plan({ group: group({ items }, { oaatItems: ['a'], frequency: 'x' }) }, { statusItemsLimit: 3 });
    expect(Object.keys(invalid.draft.status.items ?? {}).sort()).toEqual(['a', 'old', 'older']);
  });

  it('wakes the group just after its next item becomes eligible, and a wake a little early claims nothing', () => {
    const items = { a: { last_success: iso(NOW - 3_600_000 + 30_000) }, b: { last_success: iso(NOW - 3_600_000 + 40_000) } };
    const waiting = plan({ group: group({ items }), type: TYPE });
    expect(waiting.claim).toBeUndefined();
    // a is eligible strictly after its last success + 1h: 30 s + 1 ms from now.
    expect(waiting.requeueAfterMs).toBe(30_001 + ELIGIBILITY_WAKE_MARGIN_MS);
    expect(ELIGIBILITY_WAKE_MARGIN_MS).toBeLessThanOrEqual(50);
    const early = plan({ group: group({ items }), type: TYPE, now: NOW + 30_000 });
    expect(early.claim).toBeUndefined();
    expect(early.requeueAfterMs).toBe(1 + ELIGIBILITY_WAKE_MARGIN_MS);
    expect(plan({ group: group({ items }), type: TYPE, now: NOW + 30_001 }).claim?.item).toBe('a');
  });

  it('prunes history older than the retention only when the status is written anyway', () => {
    const stale = { gone: { last_success: iso(NOW - 13 * 3_600_000) }, a: { last_success: iso(NOW - 1_000) }, b: { last_success: iso(NOW - 1_000) } };
    const conditions = plan({ group: group() }).draft.status.conditions ?? [];
    const nextEligibleAt = iso(NOW - 1_000 + 3_600_000 + 1);
    const idle = plan({ group: group({ items: stale, conditions, observedGeneration: 1, nextEligibleAt }) });
    expect(idle.draft.patch()).toBeUndefined();
    expect(idle.draft.status.items?.gone).toBeDefined();
    const writing = plan({ group: group({ items: stale }) });
    expect(writing.draft.status.items?.gone).toBeUndefined();
  });
});

describe('planGroup: two replicas agree', () => {
  it('keeps another process\'s PodNotInCache report while the run\'s pod is still missing from the cache', () => {
    const reported = plan({ group: group({ currentRun: claim() }), run: knows({ lastSeen: pod(), polls: 5 }) }).draft.status;
    const other = plan({ group: group({ ...reported }), run: knows({ lastSeen: pod(), polls: 1 }) });
    expect(other.draft.condition('Stuck')).toMatchObject({ status: 'True', reason: 'PodNotInCache' });
    const found = plan({ group: group({ ...reported }), pods: [pod()], run: knows() });
    expect(found.draft.condition('Stuck')).toMatchObject({ status: 'False' });
  });
});

describe('planGroup: clocks', () => {
  it('never stops a run early because the kubelet clock is behind ours: a run is no older than its claim', () => {
    const behind = pod({ startedAt: NOW - 10 * 60_000 }); // kubelet ten minutes behind
    const result = plan({ group: group({ currentRun: claim({ claimedAt: iso(NOW - 20_000) }) }, { runTimeout: '1m' }), pods: [behind], run: knows() });
    expect(result.actions).toEqual([]);
    expect(result.requeueAfterMs).toBe(40_000);
  });

  it('keeps a result recorded in the same write even when its item is no longer listed and the map is full', () => {
    const items = Object.fromEntries(['x1', 'x2', 'b'].map((name) => [name, { last_success: iso(NOW - 9_000) }]));
    const result = plan({ group: group({ currentRun: claim(), items }, { oaatItems: ['b'] }), pods: [pod({ phase: 'Succeeded' })], run: knows() }, { statusItemsLimit: 3 });
    expect(result.draft.status.items?.a?.last_run).toMatchObject({ outcome: 'Succeeded' });
    expect(Object.keys(result.draft.status.items ?? {}).sort()).toEqual(['a', 'b']);
  });
});
