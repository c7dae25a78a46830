/**
 * The item Pod reconciler: retention of finished pods, and removal of the Python original's
 * kopf finalizer from its pods. It never writes group status.
 *
 * A pod is deleted only when its run is closed in the group version read (the group no longer
 * claims its run, and its result is recorded or can never be), and then only when it falls
 * outside the group's history limits: the newest `successfulPodsHistoryLimit` succeeded and
 * `failedPodsHistoryLimit` failed pods are kept (like CronJob's job history; the group's spec
 * fields, else the operator's defaults), and none older than the retention period. Deletes
 * carry the pod's UID as a precondition.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { historyLimits } from '../api/v1/defaults.ts';
import { LABELS } from '../api/v1/keys.ts';
import type { OaatGroup } from '../api/v1/types.ts';
import { isNotFound } from '../runtime/api-error.ts';
import type { ApiClient } from '../runtime/client.ts';
import type { Cache } from '../runtime/informer.ts';
import { OwnWrites } from '../runtime/own-writes.ts';
import type { ReconcileContext, Reconciler, Request, Result } from '../runtime/reconciler.ts';
import type { Clock } from '../services/clock.ts';
import { lastResultAt } from '../services/group-status.ts';
import { groupOfPod, isOurs, itemOfPod, POD_GROUP_INDEX, podIndexKeysOf, runSeqOf } from '../services/ownership.ts';
import { epochMs, isTerminal, terminalPod } from '../services/pod-outcome.ts';
import { removeKopfFinalizer } from './finalizers.ts';
import { PODS } from './resources.ts';

export interface RetentionSettings {
  successfulPodsHistoryLimit: number;
  failedPodsHistoryLimit: number;
  /** Finished pods older than this are deleted whatever the limits. */
  retentionMs: number;
}

export interface PodReconcilerDeps {
  pods: Cache<V1Pod>;
  groups: Cache<OaatGroup>;
  client: ApiClient;
  clock: Clock;
  settings: RetentionSettings;
}

/**
 * Whether the group version read shows the terminal pod's run closed: never while it is the
 * claimed run, nor for a pod of another owner (the garbage collector's); for a pod with a
 * claim number, yes when the group's last claim number is at least that (claims are
 * sequential: each closes before the next is written). For pods of the original (no number):
 * when its item's last run is this pod's (by run id or pod UID), or the item has a result at
 * or after the pod finished. A group read older than the pod's close shows neither: the pod waits.
 */
export function runClosed(pod: V1Pod, group: OaatGroup): boolean {
  if (group.status?.currentRun?.podName === pod.metadata?.name || !isOurs(pod, group)) return false;
  const seq = runSeqOf(pod);
  if (seq !== undefined) return seq <= (group.status?.runSeq ?? 0);
  const item = itemOfPod(pod);
  const status = item === undefined ? undefined : group.status?.items?.[item];
  const lastRun = status?.last_run;
  const runId = pod.metadata?.labels?.[LABELS.runId];
  if (lastRun !== undefined && ((runId !== undefined && lastRun.id === runId) || lastRun.podUID === pod.metadata?.uid)) return true;
  const finishedAt = terminalPod(pod)?.finishedAt;
  if (finishedAt === undefined) return false;
  return lastResultAt(status) >= finishedAt;
}

export class PodReconciler implements Reconciler {
  /** Pod versions this reconciler deleted: a cache still showing one is behind (a delete again would answer 404). */
  private readonly ownWrites = new OwnWrites();

  constructor(private readonly deps: PodReconcilerDeps) {}

  async reconcile(request: Request, { log }: ReconcileContext): Promise<Result> {
    const pod = this.deps.pods.get(request.namespace, request.name);
    if (this.ownWrites.isStale(`${request.namespace}/${request.name}`, pod)) return {};
    if (pod === undefined) return {};
    if (await removeKopfFinalizer(this.deps.client, PODS, pod)) {
      log.info('removed the original operator\'s kopf finalizer');
      return {};
    }
    if (!isTerminal(pod) || pod.metadata?.deletionTimestamp !== undefined) return {};
    const [owner] = groupOfPod(pod);
    const group = owner === undefined ? undefined : this.deps.groups.get(owner.namespace, owner.name);
    if (group === undefined || !runClosed(pod, group)) return {};

    const { retentionMs } = this.deps.settings;
    const limits = historyLimits(group.spec ?? {}, {
      successful: this.deps.settings.successfulPodsHistoryLimit,
      failed: this.deps.settings.failedPodsHistoryLimit,
    });
    const now = this.deps.clock.now();
    const finished = (p: V1Pod): number => terminalPod(p)?.finishedAt ?? epochMs(p.metadata?.creationTimestamp) ?? 0;
    const phase = pod.status?.phase;
    const siblings = this.deps.pods
      .byIndex(POD_GROUP_INDEX, podIndexKeysOf(group)[0])
      .filter((p) => p.status?.phase === phase && p.metadata?.deletionTimestamp === undefined && runClosed(p, group))
      .sort((a, b) => finished(b) - finished(a));
    const limit = phase === 'Succeeded' ? limits.successful : limits.failed;
    const keptByLimit = siblings.slice(0, limit).some((p) => p.metadata?.uid === pod.metadata?.uid);
    const expiresAt = finished(pod) + retentionMs;
    if (keptByLimit && expiresAt > now) return { requeueAfter: expiresAt - now + 1_000 };

    try {
      await this.deps.client.delete(PODS, request.namespace, request.name, { uid: pod.metadata?.uid ?? '' });
      log.info('deleted a finished pod', { reason: keptByLimit ? 'older than the retention period' : `beyond the ${String(limit)} kept ${phase ?? ''} pods` });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    // Gone or going either way: its DELETED (or deletionTimestamp) event is on its way.
    this.ownWrites.wrote(`${request.namespace}/${request.name}`, pod.metadata?.resourceVersion);
    return {};
  }
}
