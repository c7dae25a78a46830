/**
 * The simulation's oracle: the run protocol's promises, checked against the API server's
 * state after every step and at the end of an episode. It reads the server and its changes
 * only, never the operator's memory.
 *
 * Safety, after every step:
 * - at most one live operator pod per group name (a pod a replica created, or one a group
 *   ever claimed; live: not Succeeded/Failed, deleting included), not counting a pod whose
 *   group was already gone when its create committed (see {@link Oracle.orphans});
 * - a pod is created at most once (a pod name is a run's: created again means a run ran twice,
 *   or a pod a user deleted came back);
 * - a pod's result is recorded at most once, only by the group that created it (its
 *   controller owner), and a run id closes at most once;
 * - `failure_count` rises by at most one per write;
 * - requests stay bounded: per process and group, at most {@link MAX_GETS_PER_MINUTE} reads a
 *   minute and at most {@link MAX_REFUSED_PER_5_MIN} refused creates (dry runs included) in
 *   five minutes per group object (a re-created group starts afresh).
 * At the end, after a quiet period without faults:
 * - every pod a replica created whose group still exists, and that is no longer live, was
 *   recorded exactly once — except pods a user hid from the operator by editing their labels,
 *   and pods whose run another process closed as Lost without ever seeing them (a pod created
 *   and removed before any other process could see it leaves no trace to record);
 * - every run a group claimed was closed or is still the group's current run with its pod live;
 * - every group able to run claimed a run during the quiet period (no group is stuck).
 */
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import { APP_LABEL_VALUE, LABELS } from '../../src/api/v1/keys.ts';
import type { ItemStatus, OaatGroup } from '../../src/api/v1/types.ts';
import type { Change, SimApiServer } from './api-server.ts';
import { ownerUid } from './cluster.ts';
import type { EventLoop } from './event-loop.ts';

export const MAX_GETS_PER_MINUTE = 20;
/** A pod that ended this recently at the end of an episode may not be recorded yet. */
const RECORD_WITHIN_MS = 60_000;
export const MAX_REFUSED_PER_5_MIN = 12;

function isLive(pod: V1Pod): boolean {
  return pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
}

/** The protocol steps an episode reached, as the API server saw them. */
export type ProtocolStep =
  | 'claim'
  | 'create'
  | 'close:Succeeded'
  | 'close:Failed'
  | 'close:Deleted'
  | 'close:TimedOut'
  | 'close:WindowStopped'
  | 'close:Lost'
  | 'close:CreateFailed'
  | 'adopt'
  | 'record-unclaimed'
  | 'delete-rogue'
  | 'retention-delete';

export const PROTOCOL_STEPS: readonly ProtocolStep[] = [
  'claim',
  'create',
  'close:Succeeded',
  'close:Failed',
  'close:Deleted',
  'close:TimedOut',
  'close:WindowStopped',
  'close:Lost',
  'close:CreateFailed',
  'adopt',
  'record-unclaimed',
  'delete-rogue',
  'retention-delete',
];

export class Oracle {
  readonly violations: string[] = [];
  /** Steps reached, with the time each was last reached. */
  readonly steps = new Map<ProtocolStep, number>();
  private readonly createdPods = new Set<string>();
  /** uid -> pod, for pods replicas created. */
  private readonly operatorPods = new Map<string, { name: string; namespace: string; group: string; owner: string | undefined; runId: string; creator: string }>();
  private readonly claimedPodNames = new Set<string>();
  /**
   * Pods whose group was gone when their create committed: a create held in flight across the
   * group's deletion. No process can know of it (the group is gone); the garbage collector
   * and the re-created group's foreign-pod rule delete it at once.
   */
  private readonly orphans = new Set<string>();
  /** Pod uid -> how often recorded. */
  private readonly recordedPods = new Map<string, number>();
  /** group uid -> run ids closed. */
  private readonly closedRuns = new Map<string, Set<string>>();
  /** run id -> who closed it as Lost (a pod it never saw cannot be recorded by it). */
  private readonly lostBy = new Map<string, string>();
  /** group uid -> run ids claimed. */
  private readonly claimedRuns = new Map<string, Map<string, string>>();
  /** group uid -> last claim time. */
  private readonly lastClaimAt = new Map<string, number>();
  private readonly gets = new Map<string, number>();
  private readonly refused = new Map<string, number>();
  private readonly reported = new Set<string>();

  constructor(
    private readonly loop: EventLoop,
    private readonly server: SimApiServer,
    private readonly isReplica: (actor: string) => boolean,
    /** Whether the replica incarnation `actor` ever saw the pod with this UID. */
    private readonly sawPod: (actor: string, uid: string) => boolean,
  ) {
    server.watch((change) => {
      this.observe(change);
    });
  }

  /** Counts one request of a replica (see the rate bounds); `before`: its target as it was. */
  request(replica: string, group: string, verb: string, at: number, status: number, before: KubernetesObject | undefined): void {
    if (verb === 'get') {
      const key = `${replica} ${group}@${String(Math.floor(at / 60_000))}`;
      const count = (this.gets.get(key) ?? 0) + 1;
      this.gets.set(key, count);
      if (count > MAX_GETS_PER_MINUTE) this.violate(`rate: group ${group} read more than ${String(MAX_GETS_PER_MINUTE)} times in one minute`);
    }
    if ((verb === 'create' || verb === 'create-dry-run') && status >= 400 && status !== 409 && status < 500) {
      // Per group object: a group deleted and re-created starts afresh (its status is new).
      const [namespace = '', name = ''] = group.split('/');
      const uid = this.server.peek('OaatGroup', namespace, name)?.metadata?.uid ?? group;
      const key = `${replica} ${uid}@${String(Math.floor(at / 300_000))}`;
      const count = (this.refused.get(key) ?? 0) + 1;
      this.refused.set(key, count);
      if (count > MAX_REFUSED_PER_5_MIN) this.violate(`rate: group ${group} had more than ${String(MAX_REFUSED_PER_5_MIN)} refused creates in five minutes`);
    }
    if (verb === 'delete' && status === 200 && before !== undefined) {
      this.reach(isLive(before) ? 'delete-rogue' : 'retention-delete');
    }
  }

  /** After every step: at most one live operator pod per group name. */
  check(): void {
    const live = new Map<string, string[]>();
    for (const pod of this.server.all('Pod') as Iterable<V1Pod>) {
      const name = pod.metadata?.name ?? '';
      const uid = pod.metadata?.uid ?? '';
      const operatorPod = this.operatorPods.has(uid) ? !this.orphans.has(uid) : this.claimedPodNames.has(`${pod.metadata?.namespace ?? ''}/${name}`);
      // A pod whose `app` label a user removed is outside the operator's view (and contract).
      const labels = pod.metadata?.labels ?? {};
      if (!operatorPod || !isLive(pod) || labels[LABELS.app] !== APP_LABEL_VALUE) continue;
      const group = `${pod.metadata?.namespace ?? ''}/${labels[LABELS.parentName] ?? ''}`;
      live.set(group, [...(live.get(group) ?? []), pod.metadata?.deletionTimestamp === undefined ? name : `${name} (deleting)`]);
    }
    for (const [group, pods] of live) {
      if (pods.length > 1) this.violate(`one-pod: group ${group} has ${String(pods.length)} live pods: ${pods.sort().join(', ')}`);
    }
  }

  /**
   * The end-of-episode checks; `quietSince` is when the faults stopped, `canRun(group)` says
   * whether a group is able to run items (valid, unpaused, with its OaatType).
   */
  finish(quietSince: number, canRun: (group: OaatGroup) => boolean, hidden: ReadonlySet<string>): void {
    const groups = this.server.list('OaatGroup') as OaatGroup[];
    const groupUids = new Set(groups.map((g) => g.metadata?.uid));
    for (const [uid, pod] of this.operatorPods) {
      if (pod.owner === undefined || !groupUids.has(pod.owner) || hidden.has(pod.name)) continue;
      const stored = this.server.peek('Pod', pod.namespace, pod.name) as V1Pod | undefined;
      if (stored?.metadata?.uid === uid && isLive(stored)) continue;
      if (this.loop.now() - (this.endedAt.get(uid) ?? 0) < RECORD_WITHIN_MS) continue;
      const count = this.recordedPods.get(uid) ?? 0;
      const closer = this.lostBy.get(pod.runId);
      if (count === 0 && closer !== undefined && closer !== pod.creator && !this.sawPod(closer, uid)) continue;
      if (count !== 1) this.violate(`record: pod ${pod.name} (${uid}) of group ${pod.group} ended and was recorded ${String(count)} times`);
    }
    for (const group of groups) {
      const uid = group.metadata?.uid ?? '';
      const current = group.status?.currentRun?.id;
      for (const [id, podName] of this.claimedRuns.get(uid) ?? []) {
        if (id === current || this.closedRuns.get(uid)?.has(id) === true) continue;
        this.violate(`claim: run ${id} (pod ${podName}) of group ${group.metadata?.name ?? ''} was never closed`);
      }
      const run = group.status?.currentRun;
      if (run && !hidden.has(run.podName)) {
        const pod = this.server.peek('Pod', group.metadata?.namespace ?? '', run.podName) as V1Pod | undefined;
        if ((pod === undefined || !isLive(pod)) && this.loop.now() - Date.parse(run.claimedAt) > 5 * 60_000) {
          this.violate(`liveness: group ${group.metadata?.name ?? ''} still claims run ${run.id} whose pod is ${pod === undefined ? 'gone' : 'finished'}`);
        }
      }
      if (canRun(group) && (this.lastClaimAt.get(uid) ?? -Infinity) < quietSince) {
        this.violate(`liveness: group ${group.metadata?.name ?? ''} claimed nothing after the faults stopped`);
      }
    }
  }

  private observe(change: Change): void {
    if (change.kind === 'Pod') this.observePod(change);
    else if (change.kind === 'OaatGroup' && change.type !== 'DELETED') this.observeGroup(change.object, change.actor);
  }

  private observePod(change: Change): void {
    const pod = change.object as V1Pod;
    const uid = pod.metadata?.uid ?? '';
    const name = `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
    if (change.type === 'DELETED' && !this.endedAt.has(uid)) this.endedAt.set(uid, this.loop.now());
    const creator = this.server.creatorOfPod.get(uid) ?? '';
    if (change.type === 'ADDED' && this.isReplica(creator)) {
      if (this.createdPods.has(name)) this.violate(`create: pod ${name} was created a second time`);
      this.createdPods.add(name);
      const owner = ownerUid(pod);
      if (owner !== undefined && !this.server.exists('OaatGroup', owner)) this.orphans.add(uid);
      this.operatorPods.set(uid, {
        name: pod.metadata?.name ?? '',
        namespace: pod.metadata?.namespace ?? '',
        group: pod.metadata?.labels?.[LABELS.parentName] ?? '',
        owner: ownerUid(pod),
        runId: pod.metadata?.labels?.[LABELS.runId] ?? '',
        creator,
      });
      this.reach('create');
    }
    if (!isLive(pod) && !this.endedAt.has(uid)) this.endedAt.set(uid, this.loop.now());
  }

  /** Pod uid -> when it was first seen terminal (or removed). */
  private readonly endedAt = new Map<string, number>();

  private readonly lastStatus = new Map<string, OaatGroup['status']>();

  private observeGroup(group: OaatGroup, actor: string): void {
    const uid = group.metadata?.uid ?? '';
    const name = group.metadata?.name ?? '';
    const before = this.lastStatus.get(uid);
    const after = group.status;
    this.lastStatus.set(uid, after);
    const run = after?.currentRun;
    if (run && run.id !== before?.currentRun?.id) {
      this.lastClaimAt.set(uid, this.loop.now());
      let claims = this.claimedRuns.get(uid);
      if (claims === undefined) this.claimedRuns.set(uid, (claims = new Map<string, string>()));
      claims.set(run.id, run.podName);
      this.claimedPodNames.add(`${group.metadata?.namespace ?? ''}/${run.podName}`);
      const existing = this.server.peek('Pod', group.metadata?.namespace ?? '', run.podName);
      this.reach(existing === undefined ? 'claim' : 'adopt');
    }
    for (const [item, status] of Object.entries(after?.items ?? {})) {
      const old: ItemStatus | null | undefined = before?.items?.[item];
      const lastRun = status?.last_run;
      if (lastRun === undefined || JSON.stringify(lastRun) === JSON.stringify(old?.last_run)) continue;
      const closed = this.closedRuns.get(uid) ?? new Set<string>();
      this.closedRuns.set(uid, closed);
      if (closed.has(lastRun.id)) this.violate(`record: group ${name} closed run ${lastRun.id} twice`);
      closed.add(lastRun.id);
      if (lastRun.outcome === 'Lost') this.lostBy.set(lastRun.id, actor);
      const wasClaimed = this.claimedRuns.get(uid)?.has(lastRun.id) === true;
      this.reach(wasClaimed ? (`close:${lastRun.outcome}` as ProtocolStep) : 'record-unclaimed');
      if (lastRun.podUID !== undefined) {
        const count = (this.recordedPods.get(lastRun.podUID) ?? 0) + 1;
        this.recordedPods.set(lastRun.podUID, count);
        if (count > 1) this.violate(`record: pod ${lastRun.podUID} recorded ${String(count)} times (group ${name}, run ${lastRun.id}, ${lastRun.outcome})`);
        const pod = this.operatorPods.get(lastRun.podUID);
        if (pod !== undefined && pod.owner !== uid) this.violate(`record: group ${name} (${uid}) recorded pod ${pod.name} of another group (${pod.owner ?? 'none'})`);
      }
      const rise = Number(status?.failure_count ?? 0) - Number(old?.failure_count ?? 0);
      if (rise > 1) this.violate(`record: failure_count of ${name}/${item} rose by ${String(rise)} in one write`);
    }
  }

  private reach(step: ProtocolStep): void {
    this.steps.set(step, this.loop.now());
  }

  private violate(message: string): void {
    if (this.reported.has(message)) return;
    this.reported.add(message);
    this.violations.push(message);
    this.loop.note(`VIOLATION ${message}`);
  }
}
