/**
 * An independent observer of the run protocol's invariants (architecture.md §4), for every
 * operator integration test and for harnesses that watch a whole cluster. It shares no code
 * with the controllers (it is the oracle): it lists and watches OaatGroups and pods, of one
 * namespace or of all of them, with plain primitives (a LIST through src/runtime/client.ts,
 * then client-node's Watch from its resourceVersion), and states the rules it checks here,
 * taken from the documentation and confirmed against the operator's code without importing it.
 *
 * **Operator pods.** A pod is the operator's when the operator created it: the operator's field
 * manager ({@link OPERATOR_FIELD_MANAGER}) manages the pod's spec (`metadata.managedFields`). The
 * API server records a create as an `Update` entry of the creating manager (an entry's
 * `operation` is only ever `Apply` or `Update`) owning the spec, and the operator never writes a
 * pod's spec afterwards, so owning `f:spec` marks the creator. A pod without managedFields
 * counts as the operator's when it has a run-id label. Every pod a group ever claimed is the
 * operator's too (adopted pods of the original). Pods a user or a harness made with a group's
 * labels are foreign, run-id label or not, and so is every pod named to
 * {@link InvariantChecker.expectForeign}. A pod's group is its controller owner (else its
 * `parent-name` label); live = not Succeeded/Failed, deleting included. Groups and pods are keyed
 * by `namespace/name`, a group's history by its uid (a re-created group starts a new one).
 *
 * Every violation reads `+<ms since start> ms <check>: ...`; the checks:
 *
 * - `two live pods`: two live operator pods of one group (namespace/name) at once;
 * - `created again`: an operator pod name (namespace/name) or a run id (run-id label, per
 *   namespace) seen with two different UIDs (a run ran twice, or a pod a user deleted came back);
 * - `recorded twice`: a pod UID written as an item's `last_run.podUID` by two different records
 *   (one group or two), or a run id recorded twice by one group;
 * - `claim never recorded` (at stop): a claim released without its run being recorded;
 * - `wrong failure_count` / `wrong runtime.count`: when an item's `last_run` changes to a new run
 *   between two consecutive versions of its group (a watch delivers every version), its counts
 *   must be what {@link countsAfter} derives from the version before and the run's outcome;
 *   without a new run they never rise. An item's first observation, and a version a list shows
 *   (at start, after a 410, at the final read when the watch did not catch up), are not judged;
 * - `deleted while claimed` (at stop): an operator pod deleted while its run was still claimed
 *   (unless the test said it would delete it; the operator's own stops say why on the pod), by
 *   resourceVersion order (one global etcd order), never by timestamps;
 * - `claim never closed` (at stop): a claim still open `recordWithinMs` after its pod ended or
 *   vanished;
 * - `lost result` (at stop): an operator pod that ended (finished or vanished) at least
 *   `recordWithinMs` before, whose group (its controller owner's uid) still exists, recorded in
 *   no observed version of that group. Excused: a pod whose run that group recorded `Lost`
 *   without a pod UID (given up before any process saw the pod; a create can commit after
 *   that), a pod named to {@link InvariantChecker.expectUnrecorded}, and a pod that ended before
 *   the last list of groups the watch did not follow (its record may be in the gap);
 * - `checker blind` / `checker read failed`: the checker could not watch for
 *   {@link BLIND_LIMIT_MS}, or could not read everything at stop.
 *
 * Versions are applied in resourceVersion order: a watch event older than what a list already
 * showed is dropped. It never goes blind silently: a watch that ends is resumed from the last
 * resourceVersion seen; a 410 (events lost) relists and carries on from the list (a gap in what
 * it saw, not a violation of the operator's). {@link InvariantChecker.stop} reads everything
 * once more, first letting the watches deliver what the read shows, so changes still in flight
 * are judged too.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Watch, type KubeConfig, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import { KubeClient, resourcePath, type ResourceType } from '../../src/runtime/client.ts';
import { pendingRequest } from '../../src/services/item-requests.ts';
import { clusterAccess } from './cluster.ts';

/** Which namespaces the checker watches. */
export type CheckerScope = { namespace: string } | { allNamespaces: true };

export interface CheckerOptions {
  /**
   * A run whose pod ended (finished or vanished) at least this long before
   * {@link InvariantChecker.stop} must be closed, and its pod recorded. Default 60 s.
   */
  recordWithinMs?: number;
}

/** A pod named as `[namespace, podName]`, or `[podName]` on a checker of one namespace. */
export type PodName = [podName: string] | [namespace: string, podName: string];

interface LastRunStatus {
  id: string;
  outcome: string;
  podUID?: string;
}

interface ItemStatus {
  failure_count?: number | string;
  runtime?: { count?: number } | null;
  /** The original's runtime statistics (strings), converted at the item's first record. */
  runtime_count?: number | string | null;
  last_run?: LastRunStatus;
}

interface GroupStatus {
  currentRun?: { id: string; podName: string } | null;
  items?: Record<string, ItemStatus | null>;
  /** The last `oaat.kawaja.net/reset` request acted on (it clears failure counts). */
  reset?: { handled?: string };
}

type Group = KubernetesObject & { status?: GroupStatus };

/** An item's counts as one version of its group shows them. */
interface ItemCounts {
  /** failure_count as the operator reads it: a whole number > 0, else 0. */
  readonly failures: number;
  /** runtime.count; without `runtime`, the original's `runtime_count` (NaN if unreadable); else 0. */
  readonly runtimeCount: number;
  /** Whether {@link runtimeCount} is the original's `runtime_count`. */
  readonly legacyRuntime: boolean;
  /** `<run id>/<pod UID>` of the item's last run. */
  readonly lastRun: string | undefined;
}

/** The runtime.count values a record may leave: one of a few, or any up to a bound. */
type RuntimeCountRule = { readonly oneOf: readonly number[] } | { readonly atMost: number };

/** What the checker knows of one group object (one uid). */
interface GroupHistory {
  readonly namespace: string;
  readonly name: string;
  /** `namespace/name`. */
  readonly key: string;
  deleted: boolean;
  /** Run ids claimed; forgotten when the group is deleted (its open claim dies with it). */
  readonly claimed: Set<string>;
  currentRun: { id: string; podName: string } | undefined;
  /** Run ids some version recorded as an item's last run. */
  readonly recordedRuns: Set<string>;
  /** Pod UIDs some version recorded as an item's last run. */
  readonly recordedPods: Set<string>;
  /** Run ids recorded `Lost` without a pod UID. */
  readonly lostUnseen: Set<string>;
  /** Item -> its counts in the last version observed; undefined before the first. */
  items: Map<string, ItemCounts> | undefined;
  /** `status.reset.handled` in the last version observed. */
  resetHandled: string | undefined;
}

/** An operator pod that ended (finished or vanished). */
interface EndedPod {
  /** `namespace/name`. */
  readonly key: string;
  readonly runId: string | undefined;
  /** The uid of its controller owner. */
  readonly owner: string | undefined;
  /** When the checker first saw it ended (epoch ms), and at which resourceVersion. */
  readonly at: number;
  readonly resourceVersion: number;
}

/** One kind of object the checker follows. */
interface Feed {
  readonly type: ResourceType;
  /** Applies one observed version: a watch event, or `SYNC` for the object as a list shows it. */
  apply(event: string, object: KubernetesObject): void;
  /** The objects believed to exist, by uid (a list without one reveals its deletion). */
  existing(): Map<string, KubernetesObject>;
}

/** The operator's field manager: `FIELD_MANAGER` in src/container.ts. */
const OPERATOR_FIELD_MANAGER = 'oaat-operator';
/** Label and annotation keys of src/api/v1/keys.ts. */
const RUN_ID_LABEL = 'oaat.kawaja.net/run-id';
const PARENT_NAME_LABEL = 'parent-name';
/** Pods the operator stops on purpose (run or pending timeout) say so here before deletion. */
const STOP_REASON = 'oaat.kawaja.net/stop-reason';
const DEFAULT_RECORD_WITHIN_MS = 60_000;
/** A watch that cannot be re-opened for this long leaves the checker blind: a violation. */
const BLIND_LIMIT_MS = 15_000;
/** How long the final read waits for the watches to deliver what it shows. */
const CATCH_UP_MS = 5_000;

const GROUPS: ResourceType = { apiVersion: 'kawaja.net/v1', kind: 'OaatGroup', plural: 'oaatgroups', namespaced: true };
const PODS: ResourceType = { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true };

export class InvariantChecker {
  private readonly found: string[] = [];
  private readonly reported = new Set<string>();
  private readonly controllers = new Set<AbortController>();
  private readonly started = Date.now();
  private stopped = false;
  /** uid -> resourceVersion of the last version applied. */
  private readonly appliedVersions = new Map<string, number>();
  /** group uid -> its history. */
  private readonly groups = new Map<string, GroupHistory>();
  /** pod `namespace/name` -> the pod as last seen, while it exists. */
  private readonly existingPods = new Map<string, V1Pod>();
  /** group `namespace/name` -> its live operator pods (`namespace/name` -> uid). */
  private readonly livePods = new Map<string, Map<string, string>>();
  /** `namespace/name` of every pod some group ever claimed. */
  private readonly everClaimed = new Set<string>();
  private readonly foreignPods = new Set<string>();
  private readonly unrecordedPods = new Set<string>();
  private readonly expectedDeletions = new Set<string>();
  private readonly expectedNamespaceDeletions = new Set<string>();
  /** operator pod `namespace/name` -> the UIDs seen under it; `namespace/run id` -> likewise. */
  private readonly uidsByPodName = new Map<string, Set<string>>();
  private readonly uidsByRunId = new Map<string, Set<string>>();
  /** pod UID -> the record that first named it. */
  private readonly recordedBy = new Map<string, string>();
  /** `namespace/run id` -> resourceVersion of the group write that released the claim. */
  private readonly closedAt = new Map<string, number>();
  /** operator pod `namespace/name` -> its run and the resourceVersion at which its deletion was first seen. */
  private readonly deletedAt = new Map<string, { namespace: string; run: string; resourceVersion: number }>();
  /** pod `namespace/name` -> when it was first seen gone or finished. */
  private readonly endedAt = new Map<string, number>();
  /** operator pod uid -> how and when it ended. */
  private readonly endedOperatorPods = new Map<string, EndedPod>();
  /** Every version of every group after this resourceVersion was observed. */
  private groupsObservedSince = 0;
  /** Resumptions after a 410: gaps in what the checker saw. */
  relists = 0;

  private readonly groupFeed: Feed = {
    type: GROUPS,
    apply: (event, object) => { this.onGroup(event, object); },
    existing: () => {
      const existing = new Map<string, KubernetesObject>();
      for (const [uid, group] of this.groups) {
        if (!group.deleted) existing.set(uid, { metadata: { uid, namespace: group.namespace, name: group.name } });
      }
      return existing;
    },
  };

  private readonly podFeed: Feed = {
    type: PODS,
    apply: (event, object) => { this.onPod(event, object); },
    existing: () => new Map([...this.existingPods.values()].map((pod) => [pod.metadata?.uid ?? '', pod])),
  };

  private constructor(
    /** Undefined: every namespace. */
    private readonly namespace: string | undefined,
    private readonly recordWithinMs: number,
    private readonly client: KubeClient,
    private readonly watcher: Watch,
  ) {}

  /**
   * Lists and starts watching, and resolves once both watches are open: `InvariantChecker.start(kc,
   * 'ns')` for one namespace, `start(kc, { allNamespaces: true, recordWithinMs: 5_000 })` for the
   * whole cluster, `start(kc, { namespace: 'ns', ...options })`.
   */
  static async start(kubeConfig: KubeConfig, scope: string | (CheckerScope & CheckerOptions)): Promise<InvariantChecker> {
    const options: CheckerScope & CheckerOptions = typeof scope === 'string' ? { namespace: scope } : scope;
    const namespace = 'namespace' in options ? options.namespace : undefined;
    const recordWithinMs = options.recordWithinMs ?? DEFAULT_RECORD_WITHIN_MS;
    const checker = new InvariantChecker(namespace, recordWithinMs, new KubeClient({ access: clusterAccess(kubeConfig) }), new Watch(kubeConfig));
    // Groups first: a pod event is judged against the claims known then.
    await checker.follow(checker.groupFeed);
    await checker.follow(checker.podFeed);
    return checker;
  }

  /** The test is about to delete this pod itself: its deletion while its run is claimed is not a violation. */
  expectDeletion(...pod: PodName): void {
    this.expectedDeletions.add(this.podKey(pod));
  }

  /**
   * The test deletes `namespace` (or the checker's one namespace): the deletion of any of its
   * pods, seen or not yet, is not a violation (the namespace controller deletes them in no
   * particular order with their groups).
   */
  expectNamespaceDeletion(namespace?: string): void {
    const name = namespace ?? this.namespace;
    if (name === undefined) throw new Error('a checker of every namespace needs the namespace to be deleted');
    this.expectedNamespaceDeletions.add(name);
  }

  /** This pod (call before it exists) is not the operator's, whatever its labels, managers or claims say: no check counts it. */
  expectForeign(...pod: PodName): void {
    this.foreignPods.add(this.podKey(pod));
  }

  /** This pod may end without its result ever being recorded (no `lost result`). */
  expectUnrecorded(...pod: PodName): void {
    this.unrecordedPods.add(this.podKey(pod));
  }

  /**
   * Reads everything once more (what is still in flight is judged too), stops watching and
   * returns every violation, with the checks made at stop.
   */
  async stop(): Promise<string[]> {
    for (const feed of [this.groupFeed, this.podFeed]) {
      await this.sync(feed, { catchUp: true }).catch((error: unknown) => {
        this.violation(`checker read failed: final read of ${feed.type.plural} failed: ${String(error)}`);
      });
    }
    this.stopped = true;
    for (const controller of this.controllers) controller.abort();
    const now = Date.now();
    this.judgeDeletions();
    this.judgeClaims(now);
    this.judgeRecords(now);
    return [...this.found];
  }

  private podKey(pod: PodName): string {
    if (pod.length === 2) return `${pod[0]}/${pod[1]}`;
    if (this.namespace === undefined) throw new Error(`pod ${pod[0]}: a checker of every namespace needs the pod's namespace`);
    return `${this.namespace}/${pod[0]}`;
  }

  private violation(what: string): void {
    if (this.reported.has(what)) return;
    this.reported.add(what);
    this.found.push(`+${String(Date.now() - this.started)} ms ${what}`);
  }

  private judgeDeletions(): void {
    for (const [pod, { namespace, run, resourceVersion }] of this.deletedAt) {
      const closedAt = this.closedAt.get(`${namespace}/${run}`);
      const claimed = [...this.groups.values()].some((group) => group.namespace === namespace && group.claimed.has(run));
      const expected = this.expectedDeletions.has(pod) || this.expectedNamespaceDeletions.has(namespace);
      if (claimed && !expected && (closedAt === undefined || resourceVersion < closedAt)) {
        this.violation(`deleted while claimed: pod ${pod} deleted (rv ${String(resourceVersion)}) before its run ${run} was closed (rv ${String(closedAt ?? 'never')})`);
      }
    }
  }

  private judgeClaims(now: number): void {
    for (const group of this.groups.values()) {
      const current = group.currentRun;
      for (const id of group.claimed) {
        if (id !== current?.id && !group.recordedRuns.has(id)) this.violation(`claim never recorded: group ${group.key}: claim ${id} was released but never recorded`);
      }
      const ended = current === undefined ? undefined : this.endedAt.get(`${group.namespace}/${current.podName}`);
      if (current !== undefined && ended !== undefined && now - ended >= this.recordWithinMs) {
        this.violation(`claim never closed: group ${group.key}: claim ${current.id} still open ${seconds(now - ended)} after its pod ${current.podName} ended or vanished`);
      }
    }
  }

  private judgeRecords(now: number): void {
    for (const [uid, pod] of this.endedOperatorPods) {
      const group = pod.owner === undefined ? undefined : this.groups.get(pod.owner);
      if (group === undefined || group.deleted || this.foreignPods.has(pod.key) || this.unrecordedPods.has(pod.key)) continue;
      if (now - pod.at < this.recordWithinMs || pod.resourceVersion < this.groupsObservedSince) continue;
      if (group.recordedPods.has(uid) || (pod.runId !== undefined && group.lostUnseen.has(pod.runId))) continue;
      this.violation(`lost result: pod ${pod.key} (uid ${uid}, run ${pod.runId ?? 'none'}) of group ${group.key} ended ${seconds(now - pod.at)} before stop and was never recorded`);
    }
  }

  /**
   * Lists `feed` and applies what the list shows, deletions it reveals included (dated at the
   * list's resourceVersion); returns the list's resourceVersion. With `catchUp`, first waits
   * (up to {@link CATCH_UP_MS}) for the watch to deliver every version the list shows, so that
   * each is judged in order; a list the watch did not catch up with is a gap.
   */
  private async sync(feed: Feed, { catchUp }: { catchUp: boolean }): Promise<string> {
    const list = await this.client.list<KubernetesObject>(feed.type, this.namespace === undefined ? {} : { namespace: this.namespace });
    const resourceVersion = list.metadata.resourceVersion ?? '';
    const listed = new Set(list.items.map((object) => object.metadata?.uid ?? ''));
    const applied = (uid: string): number => this.appliedVersions.get(uid) ?? 0;
    // Objects believed to exist that the list lacks, and that no version after the list showed.
    const deleted = (): [string, KubernetesObject][] =>
      [...feed.existing()].filter(([uid]) => !listed.has(uid) && applied(uid) <= Number(resourceVersion));
    const behind = (): boolean =>
      list.items.some((object) => applied(object.metadata?.uid ?? '') < Number(object.metadata?.resourceVersion)) || deleted().length > 0;
    const deadline = Date.now() + CATCH_UP_MS;
    while (catchUp && behind() && Date.now() < deadline) await sleep(20);
    const caughtUp = catchUp && !behind();
    if (feed === this.groupFeed && !caughtUp) this.groupsObservedSince = Number(resourceVersion);
    // Deletions first: a pod re-created under the same name replaces the one that is gone.
    for (const [, object] of deleted()) {
      const gone = structuredClone(object);
      (gone.metadata ??= {}).resourceVersion = resourceVersion;
      feed.apply('DELETED', gone);
    }
    for (const object of list.items) feed.apply('SYNC', { ...object, apiVersion: feed.type.apiVersion, kind: feed.type.kind });
    return resourceVersion;
  }

  /** Lists, then watches from the list; resumes after an end, relists after a 410; never stops until {@link stop}. */
  private async follow(feed: Feed): Promise<void> {
    const path = resourcePath(feed.type, this.namespace);
    let last = await this.sync(feed, { catchUp: false });
    let blindSince: number | undefined;
    const open = async (): Promise<void> => {
      if (this.stopped) return;
      let gone = false;
      try {
        const controller = await this.watcher.watch(
          path,
          { allowWatchBookmarks: true, resourceVersion: last },
          (event: string, object: KubernetesObject) => {
            if (event === 'ERROR') {
              gone = (object as { code?: number }).code === 410;
              return;
            }
            last = object.metadata?.resourceVersion ?? last;
            if (event !== 'BOOKMARK') feed.apply(event, object);
          },
          () => {
            this.controllers.delete(controller);
            if (this.stopped) return;
            setTimeout(() => {
              void (async () => {
                if (gone) {
                  this.relists++;
                  last = await this.sync(feed, { catchUp: false }).catch(() => last);
                }
                await open();
              })();
            }, 200);
          },
        );
        this.controllers.add(controller);
        blindSince = undefined;
      } catch (error) {
        blindSince ??= Date.now();
        if (Date.now() - blindSince > BLIND_LIMIT_MS) this.violation(`checker blind: could not watch ${path} for ${String(BLIND_LIMIT_MS)} ms: ${String(error)}`);
        setTimeout(() => void open(), 500);
      }
    };
    await open();
  }

  /** Whether `object` is newer than the version of it applied last (notes it if so). */
  private isNewVersion(object: KubernetesObject): boolean {
    const uid = object.metadata?.uid ?? '';
    const version = Number(object.metadata?.resourceVersion);
    const applied = this.appliedVersions.get(uid);
    if (applied !== undefined && !(version > applied)) return false;
    if (Number.isFinite(version)) this.appliedVersions.set(uid, version);
    return true;
  }

  private historyOf(group: KubernetesObject): GroupHistory {
    const uid = group.metadata?.uid ?? '';
    let history = this.groups.get(uid);
    if (history === undefined) {
      const namespace = group.metadata?.namespace ?? '';
      const name = group.metadata?.name ?? '';
      history = {
        namespace,
        name,
        key: `${namespace}/${name}`,
        deleted: false,
        claimed: new Set(),
        currentRun: undefined,
        recordedRuns: new Set(),
        recordedPods: new Set(),
        lostUnseen: new Set(),
        items: undefined,
        resetHandled: undefined,
      };
      this.groups.set(uid, history);
    }
    return history;
  }

  private onGroup(event: string, group: Group): void {
    if (!this.isNewVersion(group)) return;
    const history = this.historyOf(group);
    if (event === 'DELETED') {
      history.deleted = true;
      history.claimed.clear();
      history.currentRun = undefined;
      return;
    }
    const run = group.status?.currentRun ?? undefined;
    const previousRun = history.currentRun;
    const released = previousRun === undefined ? undefined : `${history.namespace}/${previousRun.id}`;
    if (released !== undefined && previousRun?.id !== run?.id && !this.closedAt.has(released)) {
      this.closedAt.set(released, Number(group.metadata?.resourceVersion));
    }
    history.currentRun = run ? { id: run.id, podName: run.podName } : undefined;
    if (run) {
      history.claimed.add(run.id);
      const podKey = `${history.namespace}/${run.podName}`;
      if (!this.everClaimed.has(podKey)) {
        this.everClaimed.add(podKey);
        // A pod claimed after it was seen (adopted) is judged again as the operator's.
        const pod = this.existingPods.get(podKey);
        if (pod !== undefined) this.judgePod('CLAIMED', pod);
      }
    }
    const consecutive = event !== 'SYNC';
    // A reset request acted on in this version cleared the failures of the item it names (or all).
    const handled = group.status?.reset?.handled;
    const reset = handled !== undefined && handled !== history.resetHandled ? pendingRequest(handled, undefined)?.item : undefined;
    history.resetHandled = handled;
    const items = new Map<string, ItemCounts>();
    for (const [item, status] of Object.entries(group.status?.items ?? {})) {
      if (status === null) continue;
      const after = itemCounts(status);
      items.set(item, after);
      const seen = history.items?.get(item);
      const before = seen !== undefined && (reset === '*' || reset === item) ? { ...seen, failures: 0 } : seen;
      const lastRun = status.last_run;
      const newRun = lastRun !== undefined && after.lastRun !== before?.lastRun;
      if (consecutive && before !== undefined) this.judgeCounts(`group ${history.key} item ${item}`, before, after, newRun ? lastRun : undefined);
      if (newRun) this.noteRecord(history, lastRun, before !== undefined);
    }
    history.items = items;
  }

  /** Counts between two consecutive versions of an item; `run`: the new run recorded between them, if any. */
  private judgeCounts(where: string, before: ItemCounts, after: ItemCounts, run: LastRunStatus | undefined): void {
    if (run === undefined) {
      if (after.failures > before.failures) this.violation(`wrong failure_count: ${where}: ${String(before.failures)} -> ${String(after.failures)} without a new run`);
      if (after.runtimeCount > before.runtimeCount) this.violation(`wrong runtime.count: ${where}: ${String(before.runtimeCount)} -> ${String(after.runtimeCount)} without a new run`);
      return;
    }
    const expected = countsAfter(before, run.outcome);
    const what = `${where}: run ${run.id} ${run.outcome}`;
    if (after.failures !== expected.failures) {
      this.violation(`wrong failure_count: ${what}: ${String(before.failures)} -> ${String(after.failures)}, expected ${String(expected.failures)}`);
    }
    const rule = expected.runtimeCount;
    if ('oneOf' in rule ? !rule.oneOf.includes(after.runtimeCount) : !(after.runtimeCount <= rule.atMost)) {
      const allowed = 'oneOf' in rule ? [...new Set(rule.oneOf)].join(' or ') : `at most ${String(rule.atMost)}`;
      this.violation(`wrong runtime.count: ${what}: ${String(before.runtimeCount)} -> ${String(after.runtimeCount)}, expected ${allowed}`);
    }
  }

  /** A new last run of an item; `itemSeenBefore`: the previous version had the item (else a duplicate is not judged). */
  private noteRecord(group: GroupHistory, run: LastRunStatus, itemSeenBefore: boolean): void {
    if (itemSeenBefore && group.recordedRuns.has(run.id)) this.violation(`recorded twice: group ${group.key}: run ${run.id}`);
    group.recordedRuns.add(run.id);
    if (run.podUID === undefined) {
      if (run.outcome === 'Lost') group.lostUnseen.add(run.id);
      return;
    }
    const record = `run ${run.id} of group ${group.key}`;
    const earlier = this.recordedBy.get(run.podUID);
    if (itemSeenBefore && earlier !== undefined) this.violation(`recorded twice: pod ${run.podUID}: by ${earlier}, then by ${record}`);
    if (earlier === undefined) this.recordedBy.set(run.podUID, record);
    group.recordedPods.add(run.podUID);
  }

  private onPod(event: string, pod: V1Pod): void {
    if (!this.isNewVersion(pod)) return;
    const key = `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
    if (event === 'DELETED') this.existingPods.delete(key);
    else this.existingPods.set(key, pod);
    this.judgePod(event, pod);
  }

  private judgePod(event: string, pod: V1Pod): void {
    const meta = pod.metadata ?? {};
    const namespace = meta.namespace ?? '';
    const key = `${namespace}/${meta.name ?? ''}`;
    const uid = meta.uid ?? '';
    const phase = pod.status?.phase;
    const live = event !== 'DELETED' && phase !== 'Succeeded' && phase !== 'Failed';
    if (!live && !this.endedAt.has(key)) this.endedAt.set(key, Date.now());
    const owner = meta.ownerReferences?.find((ref) => ref.controller === true);
    const groupName = owner?.name ?? meta.labels?.[PARENT_NAME_LABEL];
    if (groupName === undefined) return;
    const groupKey = `${namespace}/${groupName}`;
    const operatorPod = this.isOperatorPod(pod, key);
    let pods = this.livePods.get(groupKey);
    if (!pods) this.livePods.set(groupKey, (pods = new Map<string, string>()));
    if (live && operatorPod) {
      pods.set(key, uid);
      if (pods.size > 1) this.violation(`two live pods: group ${groupKey}: ${String(pods.size)} live operator pods at once: ${[...pods.keys()].join(', ')}`);
    } else {
      pods.delete(key);
    }
    if (!operatorPod) return;
    const runId = meta.labels?.[RUN_ID_LABEL];
    this.noteIdentity(this.uidsByPodName, key, uid, `pod ${key}`);
    if (runId !== undefined) this.noteIdentity(this.uidsByRunId, `${namespace}/${runId}`, uid, `run ${namespace}/${runId} (pod ${key})`);
    const resourceVersion = Number(meta.resourceVersion);
    if (!live && !this.endedOperatorPods.has(uid)) this.endedOperatorPods.set(uid, { key, runId, owner: owner?.uid, at: Date.now(), resourceVersion });
    const deleting = event === 'DELETED' || meta.deletionTimestamp !== undefined;
    const run = runId ?? [...this.groups.values()].find((group) => group.namespace === namespace && group.currentRun?.podName === meta.name)?.currentRun?.id;
    const stopped = meta.annotations?.[STOP_REASON] !== undefined;
    if (deleting && Number.isFinite(resourceVersion) && !stopped && run !== undefined && !this.deletedAt.has(key)) {
      this.deletedAt.set(key, { namespace, run, resourceVersion });
    }
  }

  private isOperatorPod(pod: V1Pod, key: string): boolean {
    if (this.foreignPods.has(key)) return false;
    if (this.everClaimed.has(key)) return true;
    return createdByOperator(pod) ?? pod.metadata?.labels?.[RUN_ID_LABEL] !== undefined;
  }

  /** Notes that `uid` was seen under `key` (a pod name or run id); a second UID is a violation. */
  private noteIdentity(seen: Map<string, Set<string>>, key: string, uid: string, what: string): void {
    let uids = seen.get(key);
    if (!uids) seen.set(key, (uids = new Set()));
    if (uids.has(uid)) return;
    uids.add(uid);
    if (uids.size > 1) this.violation(`created again: ${what}: uids ${[...uids].join(', ')}`);
  }
}

/**
 * Whether the operator created the pod: an entry of its field manager, through the main
 * resource, manages the pod's spec. Undefined when the pod carries no managedFields.
 */
function createdByOperator(pod: V1Pod): boolean | undefined {
  const entries = pod.metadata?.managedFields;
  if (entries === undefined || entries.length === 0) return undefined;
  return entries.some((entry) => {
    const fields: unknown = entry.fieldsV1;
    return entry.manager === OPERATOR_FIELD_MANAGER && (entry.subresource ?? '') === '' && typeof fields === 'object' && fields !== null && 'f:spec' in fields;
  });
}

function itemCounts(item: ItemStatus): ItemCounts {
  const failures = Number(item.failure_count ?? 0);
  const runtime = item.runtime ?? undefined;
  const legacyRuntime = runtime === undefined && item.runtime_count !== undefined && item.runtime_count !== null;
  return {
    failures: Number.isInteger(failures) && failures > 0 ? failures : 0,
    runtimeCount: runtime !== undefined ? (runtime.count ?? 0) : legacyRuntime ? Number(item.runtime_count) : 0,
    legacyRuntime,
    lastRun: item.last_run === undefined ? undefined : `${item.last_run.id}/${item.last_run.podUID ?? ''}`,
  };
}

/**
 * What an item's counts must be once a run with `outcome` is recorded, from its counts in the
 * version before. The rule (README "OaatGroup status"; original-spec.md §3, "mark_item_*";
 * confirmed against `StatusDraft.record` in src/services/group-status.ts, read, not imported):
 *
 * - failure_count (consecutive failures): Succeeded resets it to 0; Lost and WindowStopped leave
 *   it; every other outcome (Failed, TimedOut, Deleted, CreateFailed) adds one. A reset request
 *   acted on in the same version clears it first.
 * - runtime.count (successful runs timed): other outcomes leave it. Succeeded adds one only when
 *   the container's run time is known and positive, which the checker does not see: previous or
 *   previous + 1 (bounded). Also bounded, as the checker does not re-implement them: statistics
 *   the operator finds malformed start again (a success gives 1), and the first record of an item
 *   holding the original's `runtime_*` strings converts them (at most their count + 1).
 */
function countsAfter(before: ItemCounts, outcome: string): { failures: number; runtimeCount: RuntimeCountRule } {
  const succeeded = outcome === 'Succeeded';
  const count = before.runtimeCount;
  let runtimeCount: RuntimeCountRule;
  if (before.legacyRuntime) runtimeCount = { atMost: Number.isFinite(count) ? count + 1 : 1 };
  else runtimeCount = { oneOf: succeeded ? [count, count + 1, 1] : [count] };
  const failures = succeeded ? 0 : outcome === 'Lost' || outcome === 'WindowStopped' ? before.failures : before.failures + 1;
  return { failures, runtimeCount };
}

function seconds(ms: number): string {
  return `${String(Math.round(ms / 1000))} s`;
}
