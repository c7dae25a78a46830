/**
 * An independent observer of the run protocol's invariants (architecture.md §4), for every
 * operator integration test. It shares no code with the controllers: it watches OaatGroups and
 * oaat pods in one namespace with client-node's own Watch and records, with timestamps:
 *
 * - two live operator pods of one group at once (pods with a run-id label, or a pod that was
 *   the group's claimed run; live = not Succeeded/Failed, Terminating included);
 * - a claim closed twice (its run id recorded as an item's last run, then recorded again after
 *   the item's counters moved), or never closed (seen claimed, gone from currentRun, never
 *   recorded);
 * - a result counted twice (an item's failure_count or runtime.count rising by more than one
 *   per recorded run);
 * - a pod deleted while its run was still claimed (unless the test said it would delete it).
 *   The two watches are separate streams, so this compares resourceVersions (etcd revisions,
 *   one global order): the pod's deletion must come after the group write that closed its run.
 */
import { Watch, type KubeConfig, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';

interface GroupStatus {
  currentRun?: { id: string; item: string; podName: string } | null;
  items?: Record<string, { failure_count?: number | string; runtime?: { count?: number }; last_run?: { id: string; outcome: string } } | null>;
}

type Group = KubernetesObject & { status?: GroupStatus };

interface ItemCounts {
  failures: number;
  runtimeCount: number;
  lastRunId: string | undefined;
}

const RUN_ID_LABEL = 'oaat.kawaja.net/run-id';
/** Pods the operator stops on purpose (run or pending timeout) say so here before deletion. */
const STOP_REASON = 'oaat.kawaja.net/stop-reason';

export class InvariantChecker {
  private readonly found: string[] = [];
  private readonly controllers: AbortController[] = [];
  private readonly started = Date.now();
  /** group name -> live operator pods (name -> uid). */
  private readonly livePods = new Map<string, Map<string, string>>();
  /** claimed run ids per group, and the runs recorded as an item's last run. */
  private readonly claimed = new Map<string, Set<string>>();
  private readonly recorded = new Map<string, Set<string>>();
  private readonly currentRun = new Map<string, { id: string; podName: string } | undefined>();
  private readonly counts = new Map<string, ItemCounts>();
  private readonly expectedDeletions = new Set<string>();
  /** run id -> resourceVersion of the group write that released the claim. */
  private readonly closedAt = new Map<string, number>();
  /** pod name -> [run id, resourceVersion at which its deletion was first seen]. */
  private readonly deletedAt = new Map<string, [string, number]>();

  private constructor(private readonly namespace: string) {}

  /** Starts watching `namespace`; resolves once both watches are open. */
  static async start(kubeConfig: KubeConfig, namespace: string): Promise<InvariantChecker> {
    const checker = new InvariantChecker(namespace);
    const watch = new Watch(kubeConfig);
    // A watch that ends (server timeout, 429 under load) resumes from the last resourceVersion
    // seen, so no event is missed; one that cannot resume (410) means events were lost.
    const open = async (path: string, handle: (type: string, object: KubernetesObject) => void, resourceVersion?: string): Promise<void> => {
      let last = resourceVersion;
      checker.controllers.push(
        await watch.watch(
          path,
          { allowWatchBookmarks: true, ...(last !== undefined && { resourceVersion: last }) },
          (type: string, object: KubernetesObject) => {
            last = object.metadata?.resourceVersion ?? last;
            if (type === 'ERROR') {
              if (!checker.stopped) checker.violation(`the checker lost events of ${path}: ${JSON.stringify(object)}`);
            } else if (type !== 'BOOKMARK') {
              handle(type, object);
            }
          },
          () => {
            if (!checker.stopped) setTimeout(() => void open(path, handle, last), 200);
          },
        ),
      );
    };
    await open(`/apis/kawaja.net/v1/namespaces/${namespace}/oaatgroups`, (type, object) => {
      checker.onGroup(type, object);
    });
    await open(`/api/v1/namespaces/${namespace}/pods`, (type, object) => {
      checker.onPod(type, object);
    });
    return checker;
  }

  private stopped = false;

  /** The test is about to delete this pod itself: its deletion is not a violation. */
  expectDeletion(podName: string): void {
    this.expectedDeletions.add(podName);
  }

  /** Stops watching and returns every violation, plus claims that were never closed. */
  stop(): string[] {
    this.stopped = true;
    for (const controller of this.controllers) controller.abort();
    for (const [pod, [run, deletedAt]] of this.deletedAt) {
      const closedAt = this.closedAt.get(run);
      const claimed = [...this.claimed.values()].some((runs) => runs.has(run));
      if (claimed && !this.expectedDeletions.has(pod) && (closedAt === undefined || deletedAt < closedAt)) {
        this.violation(`pod ${pod} deleted (rv ${String(deletedAt)}) before its run ${run} was closed (rv ${String(closedAt ?? 'never')})`);
      }
    }
    for (const [group, runs] of this.claimed) {
      const current = this.currentRun.get(group)?.id;
      for (const id of runs) {
        if (id !== current && !(this.recorded.get(group)?.has(id) ?? false)) this.violation(`group ${group}: claim ${id} was released but never recorded`);
      }
    }
    return [...this.found];
  }

  private violation(what: string): void {
    this.found.push(`+${String(Date.now() - this.started)} ms ${this.namespace}: ${what}`);
  }

  private onGroup(type: string, group: Group): void {
    const name = group.metadata?.name ?? '';
    if (type === 'DELETED') {
      // A deleted group's open claim dies with it.
      this.claimed.delete(name);
      this.currentRun.delete(name);
      return;
    }
    const status = group.status ?? {};
    const run = status.currentRun ?? undefined;
    const previousRun = this.currentRun.get(name);
    if (previousRun !== undefined && previousRun.id !== run?.id && !this.closedAt.has(previousRun.id)) {
      this.closedAt.set(previousRun.id, Number(group.metadata?.resourceVersion));
    }
    if (run) {
      let runs = this.claimed.get(name);
      if (!runs) this.claimed.set(name, (runs = new Set()));
      runs.add(run.id);
    }
    this.currentRun.set(name, run ? { id: run.id, podName: run.podName } : undefined);
    for (const [item, itemStatus] of Object.entries(status.items ?? {})) {
      const key = `${name}/${item}`;
      const lastRunId = itemStatus?.last_run?.id;
      const next: ItemCounts = {
        failures: Number(itemStatus?.failure_count ?? 0) || 0,
        runtimeCount: itemStatus?.runtime?.count ?? 0,
        lastRunId,
      };
      const previous = this.counts.get(key);
      if (previous !== undefined) {
        const newRun = lastRunId !== undefined && lastRunId !== previous.lastRunId;
        if (next.failures > previous.failures + (newRun ? 1 : 0)) {
          this.violation(`group ${name} item ${item}: failure_count ${String(previous.failures)} -> ${String(next.failures)} for ${newRun ? 'one run' : 'no new run'}`);
        }
        if (next.runtimeCount > previous.runtimeCount + (newRun ? 1 : 0)) {
          this.violation(`group ${name} item ${item}: runtime.count ${String(previous.runtimeCount)} -> ${String(next.runtimeCount)} for ${newRun ? 'one run' : 'no new run'}`);
        }
        if (newRun && (this.recorded.get(name)?.has(lastRunId) ?? false)) {
          this.violation(`group ${name}: run ${lastRunId} recorded a second time`);
        }
      }
      if (lastRunId !== undefined) {
        let recorded = this.recorded.get(name);
        if (!recorded) this.recorded.set(name, (recorded = new Set()));
        recorded.add(lastRunId);
      }
      this.counts.set(key, next);
    }
  }

  private onPod(type: string, pod: V1Pod): void {
    const name = pod.metadata?.name ?? '';
    const group = pod.metadata?.ownerReferences?.find((ref) => ref.controller === true)?.name ?? pod.metadata?.labels?.['parent-name'];
    if (group === undefined) return;
    const claimed = this.currentRun.get(group);
    const operatorPod = pod.metadata?.labels?.[RUN_ID_LABEL] !== undefined || claimed?.podName === name;
    const phase = pod.status?.phase;
    const live = type !== 'DELETED' && phase !== 'Succeeded' && phase !== 'Failed';
    let pods = this.livePods.get(group);
    if (!pods) this.livePods.set(group, (pods = new Map<string, string>()));
    if (live && operatorPod) {
      pods.set(name, pod.metadata?.uid ?? '');
      if (pods.size > 1) this.violation(`group ${group}: ${String(pods.size)} live operator pods at once: ${[...pods.keys()].join(', ')}`);
    } else {
      pods.delete(name);
    }
    const deleting = type === 'DELETED' || pod.metadata?.deletionTimestamp !== undefined;
    const run = pod.metadata?.labels?.[RUN_ID_LABEL] ?? (claimed?.podName === name ? claimed.id : undefined);
    const stopped = pod.metadata?.annotations?.[STOP_REASON] !== undefined;
    if (deleting && !stopped && run !== undefined && !this.deletedAt.has(name)) this.deletedAt.set(name, [run, Number(pod.metadata?.resourceVersion)]);
  }
}
