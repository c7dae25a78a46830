/**
 * An independent observer of the run protocol's invariants (architecture.md §4), for every
 * operator integration test. It shares no code with the controllers: it lists and watches
 * OaatGroups and the namespace's pods with client-node's own ListWatch-free primitives (a LIST,
 * then a Watch from its resourceVersion) and records:
 *
 * - two live operator pods of one group at once: pods with a run-id label, and every pod a
 *   group ever claimed (adopted pods of the original have no run-id label); live = not
 *   Succeeded/Failed, deleting included;
 * - a pod recorded twice (its UID written as an item's `last_run.podUID` by two different
 *   records), a run id recorded twice, a claim released but never recorded;
 * - a result counted twice (an item's failure_count or runtime.count rising by more than one
 *   per recorded run);
 * - a pod deleted while its run was still claimed (unless the test said it would delete it),
 *   by resourceVersion order (one global etcd order), never by timestamps;
 * - at stop, a claim still open whose pod had been gone or finished for
 *   {@link OPEN_CLAIM_LIMIT_MS} (a claim that never closes).
 *
 * It never goes blind silently: a watch that ends is resumed from the last resourceVersion
 * seen; a 410 (events lost) relists and carries on from the list (a gap in what it saw, not a
 * violation of the operator's); a watch that cannot be re-opened for {@link BLIND_LIMIT_MS} is
 * a violation. {@link InvariantChecker.stop} reads everything once more before it stops, so
 * changes still in flight are judged too.
 */
import { Watch, type KubeConfig, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import { KubeClient, type ResourceType } from '../../src/runtime/client.ts';

interface GroupStatus {
  currentRun?: { id: string; item: string; podName: string } | null;
  items?: Record<string, { failure_count?: number | string; runtime?: { count?: number }; last_run?: { id: string; outcome: string; podUID?: string } } | null>;
}

type Group = KubernetesObject & { status?: GroupStatus };

interface ItemCounts {
  failures: number;
  runtimeCount: number;
  lastRun: string | undefined;
}

const RUN_ID_LABEL = 'oaat.kawaja.net/run-id';
/** Pods the operator stops on purpose (run or pending timeout) say so here before deletion. */
const STOP_REASON = 'oaat.kawaja.net/stop-reason';
/** A claim whose pod has been gone or finished this long at stop never closed. */
const OPEN_CLAIM_LIMIT_MS = 60_000;
/** A watch that cannot be re-opened for this long leaves the checker blind: a violation. */
const BLIND_LIMIT_MS = 15_000;

const GROUPS: ResourceType = { apiVersion: 'kawaja.net/v1', kind: 'OaatGroup', plural: 'oaatgroups', namespaced: true };
const PODS: ResourceType = { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true };

export class InvariantChecker {
  private readonly found: string[] = [];
  private readonly controllers = new Set<AbortController>();
  private readonly started = Date.now();
  private stopped = false;
  /** group name -> live operator pods (name -> uid). */
  private readonly livePods = new Map<string, Map<string, string>>();
  /** Names of pods some group ever claimed. */
  private readonly everClaimed = new Set<string>();
  /** group uid -> claimed run ids; group uid -> recorded run ids. */
  private readonly claimed = new Map<string, Set<string>>();
  private readonly recorded = new Map<string, Set<string>>();
  private readonly recordedPods = new Set<string>();
  private readonly currentRun = new Map<string, { id: string; podName: string; name: string } | undefined>();
  private readonly counts = new Map<string, ItemCounts>();
  private readonly expectedDeletions = new Set<string>();
  /** run id -> resourceVersion of the group write that released the claim. */
  private readonly closedAt = new Map<string, number>();
  /** pod name -> [run id, resourceVersion at which its deletion was first seen]. */
  private readonly deletedAt = new Map<string, [string, number]>();
  /** pod name -> when it was first seen gone or finished. */
  private readonly endedAt = new Map<string, number>();
  /** Resumptions after a 410: gaps in what the checker saw. */
  relists = 0;

  private constructor(
    private readonly namespace: string,
    private readonly client: KubeClient,
    private readonly watcher: Watch,
  ) {}

  /** Lists and starts watching `namespace`; resolves once both watches are open. */
  static async start(kubeConfig: KubeConfig, namespace: string): Promise<InvariantChecker> {
    const checker = new InvariantChecker(namespace, new KubeClient({ kubeConfig }), new Watch(kubeConfig));
    // Groups first: a pod event is judged against the claims known then.
    await checker.follow(GROUPS, (type, object) => { checker.onGroup(type, object); });
    await checker.follow(PODS, (type, object) => { checker.onPod(type, object); });
    return checker;
  }

  /** The test is about to delete this pod itself: its deletion is not a violation. */
  expectDeletion(podName: string): void {
    this.expectedDeletions.add(podName);
  }

  /**
   * Reads everything once more (what is still in flight is judged too), stops watching and
   * returns every violation, with claims released but never recorded and claims that never close.
   */
  async stop(): Promise<string[]> {
    await this.sync(GROUPS, (type, object) => { this.onGroup(type, object); }).catch((error: unknown) => { this.violation(`final read of groups failed: ${String(error)}`); });
    await this.sync(PODS, (type, object) => { this.onPod(type, object); }).catch((error: unknown) => { this.violation(`final read of pods failed: ${String(error)}`); });
    this.stopped = true;
    for (const controller of this.controllers) controller.abort();
    for (const [pod, [run, deletedAt]] of this.deletedAt) {
      const closedAt = this.closedAt.get(run);
      const claimed = [...this.claimed.values()].some((runs) => runs.has(run));
      if (claimed && !this.expectedDeletions.has(pod) && (closedAt === undefined || deletedAt < closedAt)) {
        this.violation(`pod ${pod} deleted (rv ${String(deletedAt)}) before its run ${run} was closed (rv ${String(closedAt ?? 'never')})`);
      }
    }
    for (const [uid, runs] of this.claimed) {
      const current = this.currentRun.get(uid);
      for (const id of runs) {
        if (id !== current?.id && !(this.recorded.get(uid)?.has(id) ?? false)) this.violation(`group ${uid}: claim ${id} was released but never recorded`);
      }
      const ended = current === undefined ? undefined : this.endedAt.get(current.podName);
      if (current !== undefined && ended !== undefined && Date.now() - ended > OPEN_CLAIM_LIMIT_MS) {
        this.violation(`group ${current.name}: claim ${current.id} still open ${String(Math.round((Date.now() - ended) / 1000))} s after its pod ${current.podName} ended or vanished`);
      }
    }
    return [...this.found];
  }

  private violation(what: string): void {
    this.found.push(`+${String(Date.now() - this.started)} ms ${this.namespace}: ${what}`);
  }

  /** Lists `type` (feeding every object as it is now) and returns the list's resourceVersion. */
  private async sync(type: ResourceType, handle: (type: string, object: KubernetesObject) => void): Promise<string> {
    const list = await this.client.list<KubernetesObject>(type, { namespace: this.namespace });
    const present = new Set(list.items.map((o) => o.metadata?.name));
    for (const object of list.items) handle('SYNC', { ...object, apiVersion: type.apiVersion, kind: type.kind });
    if (type === PODS) {
      for (const names of this.livePods.values()) {
        for (const name of [...names.keys()]) if (!present.has(name)) this.onPod('DELETED', { metadata: { name, namespace: this.namespace, uid: names.get(name) ?? '' } });
      }
    }
    return list.metadata.resourceVersion ?? '';
  }

  /** Lists, then watches from the list; resumes after an end, relists after a 410; never stops until {@link stop}. */
  private async follow(type: ResourceType, handle: (type: string, object: KubernetesObject) => void): Promise<void> {
    const path = type.apiVersion === 'v1' ? `/api/v1/namespaces/${this.namespace}/${type.plural}` : `/apis/${type.apiVersion}/namespaces/${this.namespace}/${type.plural}`;
    let last = await this.sync(type, handle);
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
            if (event !== 'BOOKMARK') handle(event, object);
          },
          () => {
            this.controllers.delete(controller);
            if (this.stopped) return;
            setTimeout(() => {
              void (async () => {
                if (gone) {
                  this.relists++;
                  last = await this.sync(type, handle).catch(() => last);
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
        if (Date.now() - blindSince > BLIND_LIMIT_MS) this.violation(`the checker could not watch ${path} for ${String(BLIND_LIMIT_MS)} ms: ${String(error)}`);
        setTimeout(() => void open(), 500);
      }
    };
    await open();
  }

  private onGroup(type: string, group: Group): void {
    const uid = group.metadata?.uid ?? '';
    const name = group.metadata?.name ?? '';
    if (type === 'DELETED') {
      // A deleted group's open claim dies with it.
      this.claimed.delete(uid);
      this.currentRun.delete(uid);
      return;
    }
    const status = group.status ?? {};
    const run = status.currentRun ?? undefined;
    const previousRun = this.currentRun.get(uid);
    if (previousRun !== undefined && previousRun.id !== run?.id && !this.closedAt.has(previousRun.id)) {
      this.closedAt.set(previousRun.id, Number(group.metadata?.resourceVersion));
    }
    if (run) {
      let runs = this.claimed.get(uid);
      if (!runs) this.claimed.set(uid, (runs = new Set()));
      runs.add(run.id);
      this.everClaimed.add(run.podName);
    }
    this.currentRun.set(uid, run ? { id: run.id, podName: run.podName, name } : undefined);
    for (const [item, itemStatus] of Object.entries(status.items ?? {})) {
      const key = `${uid}/${item}`;
      const lastRun = itemStatus?.last_run;
      const next: ItemCounts = {
        failures: Number(itemStatus?.failure_count ?? 0) || 0,
        runtimeCount: itemStatus?.runtime?.count ?? 0,
        lastRun: lastRun === undefined ? undefined : `${lastRun.id}/${lastRun.podUID ?? ''}`,
      };
      const previous = this.counts.get(key);
      const newRun = next.lastRun !== undefined && next.lastRun !== previous?.lastRun;
      if (previous !== undefined) {
        if (next.failures > previous.failures + (newRun ? 1 : 0)) {
          this.violation(`group ${name} item ${item}: failure_count ${String(previous.failures)} -> ${String(next.failures)} for ${newRun ? 'one run' : 'no new run'}`);
        }
        if (next.runtimeCount > previous.runtimeCount + (newRun ? 1 : 0)) {
          this.violation(`group ${name} item ${item}: runtime.count ${String(previous.runtimeCount)} -> ${String(next.runtimeCount)} for ${newRun ? 'one run' : 'no new run'}`);
        }
      }
      if (newRun && lastRun !== undefined) {
        let recorded = this.recorded.get(uid);
        if (!recorded) this.recorded.set(uid, (recorded = new Set()));
        if (previous !== undefined && recorded.has(lastRun.id)) this.violation(`group ${name}: run ${lastRun.id} recorded a second time`);
        recorded.add(lastRun.id);
        if (lastRun.podUID !== undefined) {
          if (previous !== undefined && this.recordedPods.has(lastRun.podUID)) this.violation(`group ${name}: pod ${lastRun.podUID} recorded a second time (run ${lastRun.id})`);
          this.recordedPods.add(lastRun.podUID);
        }
      }
      this.counts.set(key, next);
    }
  }

  private onPod(type: string, pod: V1Pod): void {
    const name = pod.metadata?.name ?? '';
    const group = pod.metadata?.ownerReferences?.find((ref) => ref.controller === true)?.name ?? pod.metadata?.labels?.['parent-name'];
    const phase = pod.status?.phase;
    const live = type !== 'DELETED' && phase !== 'Succeeded' && phase !== 'Failed';
    if (!live && !this.endedAt.has(name)) this.endedAt.set(name, Date.now());
    if (group === undefined) return;
    const operatorPod = pod.metadata?.labels?.[RUN_ID_LABEL] !== undefined || this.everClaimed.has(name);
    let pods = this.livePods.get(group);
    if (!pods) this.livePods.set(group, (pods = new Map<string, string>()));
    if (live && operatorPod) {
      pods.set(name, pod.metadata?.uid ?? '');
      if (pods.size > 1) this.violation(`group ${group}: ${String(pods.size)} live operator pods at once: ${[...pods.keys()].join(', ')}`);
    } else {
      pods.delete(name);
    }
    const deleting = type === 'DELETED' || pod.metadata?.deletionTimestamp !== undefined;
    const claim = [...this.currentRun.values()].find((run) => run?.podName === name);
    const run = pod.metadata?.labels?.[RUN_ID_LABEL] ?? claim?.id;
    const stopped = pod.metadata?.annotations?.[STOP_REASON] !== undefined;
    const rv = Number(pod.metadata?.resourceVersion);
    if (deleting && Number.isFinite(rv) && !stopped && run !== undefined && !this.deletedAt.has(name)) this.deletedAt.set(name, [run, rv]);
  }
}
