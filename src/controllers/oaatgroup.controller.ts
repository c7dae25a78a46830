/**
 * The OaatGroup reconciler: the only writer of an OaatGroup's status, and the run protocol of
 * architecture.md §3.
 *
 * Each reconcile reads the group, its pods and its OaatType from the caches and, in this order:
 * (1) closes the current run when its pod is terminal or confirmed gone, enforces one pod
 * (deletes rogues, adopts a lone unclaimed live pod, records unclaimed results) — always, even
 * when the spec or the OaatType is invalid; (2) validates the spec and the OaatType (invalid
 * blocks new claims only); (3) stops if paused; (4) selects the next item; (5) claims it. All
 * status changes go out as one `/status` merge patch guarded by the resourceVersion read (409:
 * the state moved, the reconcile runs again). (6) A later reconcile that reads the claim back
 * creates the pod, within the create grace and only if it was never observed.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { DEFAULT_PENDING_TIMEOUT, failureCoolOffMs, frequencyMs, pendingTimeoutMs, runTimeoutMs } from '../api/v1/defaults.ts';
import { ANNOTATIONS, LABELS } from '../api/v1/keys.ts';
import { labelValue, podName } from '../api/v1/naming.ts';
import type { CurrentRun, OaatGroup, OaatType } from '../api/v1/types.ts';
import { validateGroupSpec, validateOaatType, type Problem } from '../api/v1/validation.ts';
import { isAlreadyExists, isNotFound, isTransient } from '../runtime/api-error.ts';
import type { ApiClient } from '../runtime/client.ts';
import type { EventRecorder } from '../runtime/events.ts';
import type { Cache } from '../runtime/informer.ts';
import type { ReconcileContext, Reconciler, Request, Result } from '../runtime/reconciler.ts';
import type { Clock } from '../services/clock.ts';
import { failureCount, iso, StatusDraft, type ClosedRun, type RunRecord } from '../services/group-status.ts';
import { deletionRequestedAt, epochMs, isLive, isTerminal, startedAt, terminalPod } from '../services/pod-outcome.ts';
import { containerProblems, renderPod } from '../services/pod-templater.ts';
import { randomIndex, type Rng } from '../services/rng.ts';
import { selectItem } from '../services/selection-policy.ts';
import { removeKopfFinalizer } from './finalizers.ts';
import type { PodSightings } from './pod-sightings.ts';
import { OAATGROUPS, PODS } from './resources.ts';

/** Index of the pod informer: `uid:<owner uid>` and `label:<namespace>/<parent-name>`. */
export const POD_GROUP_INDEX = 'group';
/** Index of the group informer: `<namespace>/<oaatType>`. */
export const GROUP_TYPE_INDEX = 'oaatType';

export function podGroupIndex(pod: V1Pod): string[] {
  const values: string[] = [];
  const owner = pod.metadata?.ownerReferences?.find((ref) => ref.controller === true && ref.kind === 'OaatGroup');
  if (owner) values.push(`uid:${owner.uid}`);
  const parent = pod.metadata?.labels?.[LABELS.parentName];
  if (parent !== undefined) values.push(`label:${pod.metadata?.namespace ?? ''}/${parent}`);
  return values;
}

export function groupTypeIndex(group: OaatGroup): string[] {
  const type = group.spec?.oaatType;
  return type === undefined || type === '' ? [] : [`${group.metadata?.namespace ?? ''}/${type}`];
}

/** The group a pod belongs to: its controller owner, else its parent-name label. */
export function groupOfPod(pod: V1Pod): Request[] {
  const namespace = pod.metadata?.namespace ?? '';
  const owner = pod.metadata?.ownerReferences?.find((ref) => ref.controller === true && ref.kind === 'OaatGroup');
  if (owner) return [{ namespace, name: owner.name }];
  const parent = pod.metadata?.labels?.[LABELS.parentName];
  return parent === undefined ? [] : [{ namespace, name: parent }];
}

/** The item a pod runs: its annotation, else (pods of the original) its oaat-name label. */
export function itemOfPod(pod: V1Pod): string | undefined {
  return pod.metadata?.annotations?.[ANNOTATIONS.item] ?? pod.metadata?.labels?.[LABELS.itemName];
}

export interface GroupReconcilerSettings {
  requeueCapMs: number;
  retryFloorMs: number;
  createGraceMs: number;
  /** A run's pod still present this long after its deletion was due counts as stuck. */
  stuckAfterMs: number;
}

export interface GroupReconcilerDeps {
  groups: Cache<OaatGroup>;
  pods: Cache<V1Pod>;
  types: Cache<OaatType>;
  client: ApiClient;
  events: EventRecorder;
  sightings: PodSightings;
  clock: Clock;
  rng: Rng;
  settings: GroupReconcilerSettings;
}

const RUN_ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export class OaatGroupReconciler implements Reconciler {
  constructor(private readonly deps: GroupReconcilerDeps) {}

  async reconcile(request: Request, { log }: ReconcileContext): Promise<Result> {
    const { groups, clock, settings } = this.deps;
    const group = groups.get(request.namespace, request.name);
    if (group?.metadata?.uid === undefined) return {};
    // The original's finalizer goes first: with it a group (being deleted or not) would outlive
    // the original operator forever. The write wakes this reconcile again.
    if (await removeKopfFinalizer(this.deps.client, OAATGROUPS, group)) {
      log.info('removed the original operator\'s kopf finalizer');
      return {};
    }
    if (group.metadata.deletionTimestamp !== undefined) return {};
    const now = clock.now();
    const draft = new StatusDraft(group.status);
    const pods = this.podsOf(group);
    let wakeAt = now + settings.requeueCapMs;

    // (1) The current run: close it, create its pod, or leave it running.
    const run = draft.currentRun;
    if (run) {
      const pod = pods.find((p) => p.metadata?.name === run.podName);
      this.deps.sightings.track(request.namespace, run.podName, pod);
      if (pod !== undefined && isTerminal(pod)) {
        this.close(draft, this.recordOf(pod, now));
      } else if (pod !== undefined) {
        wakeAt = Math.min(wakeAt, await this.enforceLimits(group, pod, now, log));
      } else {
        const claimedAgo = now - Date.parse(run.claimedAt);
        const ours = run.podName === podName(group.metadata.name ?? '', run.item, run.id);
        const lastSeen = this.deps.sightings.last(request.namespace, run.podName);
        const closedHere = this.deps.sightings.wasClosed(request.namespace, run.podName);
        if (closedHere) return { requeueAfter: 1_000 }; // a stale read of a run this process closed
        if (ours && lastSeen === undefined && claimedAgo < settings.createGraceMs) {
          return this.create(group, run, draft, now, log);
        }
        if (!(await this.confirmedGone(request.namespace, run.podName))) return { requeueAfter: 1_000 };
        // Gone: its last terminal state, if seen, says how it ended; else it was deleted, or never seen at all.
        const record: RunRecord =
          lastSeen !== undefined ? this.recordOf(lastSeen, now) : { outcome: 'Lost', finishedAt: now, reason: 'PodNeverObserved' };
        this.close(draft, record);
      }
    }
    await this.enforceOnePod(group, draft, pods, now, log);
    wakeAt = Math.min(wakeAt, this.reportStuck(group, draft, pods, now));

    // (2) Validate; (3) pause; (4) select; (5) claim.
    const type = group.spec?.oaatType === undefined ? undefined : this.deps.types.get(request.namespace, group.spec.oaatType);
    const report = validateGroupSpec(group.spec);
    const problems = this.problems(group, report.errors, type);
    const duplicatesChanged = draft.setCondition(
      report.warnings.length > 0
        ? { type: 'DuplicateItems', status: 'True', reason: 'Deduplicated', message: report.warnings.map((w) => `${w.path}: ${w.message}`).join('; ') }
        : { type: 'DuplicateItems', status: 'False', reason: 'Unique', message: 'every item is listed once' },
      now,
    );
    if (report.warnings.length > 0 && duplicatesChanged) {
      this.deps.events.record(group, 'Warning', 'DuplicateItems', report.warnings.map((w) => w.message).join('; '));
    }
    const ready = problems.length === 0;
    const readyChanged = draft.setCondition(
      ready
        ? { type: 'Ready', status: 'True', reason: 'Valid', message: 'spec and OaatType are valid' }
        : { type: 'Ready', status: 'False', reason: problems[0]?.reason ?? 'Invalid', message: problems.map((p) => p.message).join('; ') },
      now,
    );
    const paused = group.spec?.paused === true || (group.metadata.annotations?.[ANNOTATIONS.pauseNewJobs] ?? '') !== '';
    draft.setCondition(
      paused
        ? { type: 'Paused', status: 'True', reason: 'Paused', message: 'no new item starts; a running item finishes' }
        : { type: 'Paused', status: 'False', reason: 'Running', message: 'items start when eligible' },
      now,
    );
    if (!ready && readyChanged) {
      this.deps.events.record(group, 'Warning', problems[0]?.reason ?? 'Invalid', problems.map((p) => p.message).join('; '));
    }

    if (ready && !paused && draft.currentRun === undefined) {
      const items = report.items;
      const history = new Map(
        items.map((item) => {
          const status = draft.status.items?.[item];
          const lastSuccess = Date.parse(status?.last_success ?? '');
          const lastFailure = Date.parse(status?.last_failure ?? '');
          return [
            item,
            {
              ...(Number.isFinite(lastSuccess) && { lastSuccess }),
              ...(Number.isFinite(lastFailure) && { lastFailure }),
              failureCount: failureCount(status),
            },
          ];
        }),
      );
      const coolOffMs = failureCoolOffMs(group.spec ?? {});
      const selection = selectItem({
        items,
        history,
        frequencyMs: frequencyMs(group.spec ?? {}),
        ...(coolOffMs !== undefined && { coolOffMs }),
        retryFloorMs: settings.retryFloorMs,
        clock: this.deps.clock,
        rng: this.deps.rng,
      });
      if (selection.item !== undefined) {
        const id = this.newRunId();
        draft.claim({ id, item: selection.item, podName: podName(group.metadata.name ?? '', selection.item, id), claimedAt: iso(now) });
        draft.status.nextEligibleAt = null;
        log.info('claimed a run', { item: selection.item, run: id });
      } else {
        draft.status.nextEligibleAt = selection.nextEligibleAt === undefined ? null : iso(selection.nextEligibleAt);
        if (selection.nextEligibleAt !== undefined) wakeAt = Math.min(wakeAt, Math.max(now, selection.nextEligibleAt) + 1_000);
      }
    }
    draft.status.observedGeneration = group.metadata.generation ?? 0;
    await this.write(group, draft, log);
    return draft.currentRun && draft.currentRun.id !== run?.id ? {} : { requeueAfter: Math.max(1, wakeAt - now) };
  }

  /**
   * Condition `Stuck`: the run's pod is still there well after its deletion should have ended
   * (its node is gone, or a finalizer holds it). Nothing is force-deleted: a person decides.
   * Returns when the current pod would count as stuck (epoch ms), or +Infinity.
   */
  private reportStuck(group: OaatGroup, draft: StatusDraft, pods: V1Pod[], now: number): number {
    const run = draft.currentRun;
    const pod = run === undefined ? undefined : pods.find((p) => p.metadata?.name === run.podName);
    const deleteBy = pod === undefined ? undefined : epochMs(pod.metadata?.deletionTimestamp);
    const stuckAt = deleteBy === undefined ? Number.POSITIVE_INFINITY : deleteBy + this.deps.settings.stuckAfterMs;
    if (now >= stuckAt) {
      const message = `pod ${pod?.metadata?.name ?? ''} has been terminating since ${iso(deleteBy ?? now)}; no new item starts until it is gone (check its node, or its finalizers: ${JSON.stringify(pod?.metadata?.finalizers ?? [])})`;
      if (draft.setCondition({ type: 'Stuck', status: 'True', reason: 'PodStuckTerminating', message }, now)) {
        this.deps.events.record(group, 'Warning', 'PodStuckTerminating', message);
      }
      return Number.POSITIVE_INFINITY;
    }
    if (draft.condition('Stuck') !== undefined) {
      draft.setCondition({ type: 'Stuck', status: 'False', reason: 'NotStuck', message: 'no pod is stuck' }, now);
    }
    return stuckAt;
  }

  /** Pods of this group: owned by it, or carrying its parent-name label. */
  private podsOf(group: OaatGroup): V1Pod[] {
    const { pods } = this.deps;
    const byUid = pods.byIndex(POD_GROUP_INDEX, `uid:${group.metadata?.uid ?? ''}`);
    const byLabel = pods.byIndex(POD_GROUP_INDEX, `label:${group.metadata?.namespace ?? ''}/${labelValue(group.metadata?.name ?? '')}`);
    const all = new Map<string, V1Pod>();
    for (const pod of [...byUid, ...byLabel]) all.set(pod.metadata?.uid ?? pod.metadata?.name ?? '', pod);
    return [...all.values()];
  }

  /**
   * The record of how a run's pod ended, from its last state (terminal, or the last seen before
   * it vanished). A pod stopped by the kubelet's deadline or by this operator for a run timeout
   * is `TimedOut`; one stopped because it stayed Pending too long is `Failed` (reason
   * PendingTimeout); one someone else deleted while it ran is `Deleted` (kubelets report a
   * terminal phase before removing it, with the exit code the deletion caused). All count as
   * failures.
   */
  private recordOf(pod: V1Pod, now: number): RunRecord {
    const end = terminalPod(pod);
    const stopReason = pod.metadata?.annotations?.[ANNOTATIONS.stopReason];
    const deletedAt = deletionRequestedAt(pod);
    const interrupted = deletedAt !== undefined && (end?.finishedAt ?? now) >= deletedAt;
    let outcome: RunRecord['outcome'] = end?.outcome ?? 'Deleted';
    let reason = end?.reason;
    if (pod.status?.reason === 'DeadlineExceeded' || stopReason === 'RunTimeout') {
      outcome = 'TimedOut';
      reason = stopReason ?? 'DeadlineExceeded';
    } else if (stopReason === 'PendingTimeout') {
      outcome = 'Failed';
      reason = stopReason;
    } else if (interrupted || end === undefined) {
      outcome = 'Deleted';
      reason ??= 'PodDeleted';
    }
    return {
      outcome,
      finishedAt: Math.min(end?.finishedAt ?? now, now),
      ...(pod.metadata?.uid !== undefined && { podUID: pod.metadata.uid }),
      ...(end?.exitCode !== undefined && { exitCode: end.exitCode }),
      ...(reason !== undefined && { reason }),
      ...(end?.startedAt !== undefined && { startedAt: end.startedAt }),
    };
  }

  /**
   * Stops a live run pod past its limits: Pending longer than the pending timeout, or running
   * longer than the run timeout. The reason goes on the pod first (so a restarted operator still
   * knows it), then the pod is deleted; its run closes once it is terminal or gone. Returns when
   * the next limit falls due (epoch ms), or +Infinity.
   */
  private async enforceLimits(group: OaatGroup, pod: V1Pod, now: number, log: ReconcileContext['log']): Promise<number> {
    if (pod.metadata?.deletionTimestamp !== undefined) return Number.POSITIVE_INFINITY;
    const spec = group.spec ?? {};
    const created = epochMs(pod.metadata?.creationTimestamp) ?? now;
    const started = startedAt(pod);
    const runLimit = runTimeoutMs(spec);
    let reason: 'PendingTimeout' | 'RunTimeout' | undefined;
    let dueAt = Number.POSITIVE_INFINITY;
    if (pod.status?.phase === 'Pending' || started === undefined) {
      dueAt = created + pendingTimeoutMs(spec);
      if (now >= dueAt) reason = 'PendingTimeout';
    } else if (runLimit !== undefined) {
      dueAt = started + runLimit;
      if (now >= dueAt) reason = 'RunTimeout';
    }
    if (reason === undefined) return dueAt;
    const namespace = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    try {
      await this.deps.client.patch(PODS, namespace, name, { metadata: { annotations: { [ANNOTATIONS.stopReason]: reason } } });
      await this.deps.client.delete(PODS, namespace, name, { uid: pod.metadata?.uid ?? '' });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    const message =
      reason === 'RunTimeout'
        ? `stopped pod ${name}: it ran longer than runTimeout ${spec.runTimeout ?? ''}`
        : `stopped pod ${name}: it stayed Pending longer than pendingTimeout ${spec.pendingTimeout ?? DEFAULT_PENDING_TIMEOUT}`;
    this.deps.events.record(group, 'Warning', reason, message);
    log.warn(message);
    return Number.POSITIVE_INFINITY;
  }

  private close(draft: StatusDraft, record: RunRecord): void {
    if (draft.currentRun) draft.close(record, this.deps.rng, this.deps.clock.now());
  }

  /**
   * What follows a close once it is written (never before: a close whose write fails is
   * computed again, and its pod must stay eligible for that): the run's pod is remembered as
   * closed, the Event and the log line.
   */
  private announceClosed(group: OaatGroup, { run, record, lastRun }: ClosedRun, log: ReconcileContext['log']): void {
    this.deps.sightings.closedRun(group.metadata?.namespace ?? '', run.podName, this.deps.clock.now());
    const code = record.exitCode === undefined ? '' : ` with exit code ${String(record.exitCode)}`;
    const why = record.reason === undefined || record.outcome === 'Succeeded' ? '' : ` (${record.reason})`;
    const message = `item ${run.item} ${record.outcome === 'Succeeded' ? 'succeeded' : `ended: ${record.outcome}${code}${why}`}`;
    this.deps.events.record(group, record.outcome === 'Succeeded' || record.outcome === 'Lost' ? 'Normal' : 'Warning', `Run${record.outcome}`, message);
    log.info('closed a run', { item: run.item, run: run.id, outcome: lastRun.outcome, exitCode: lastRun.exitCode, reason: lastRun.reason });
  }

  /** True when the pod is absent from the API server too (a live GET answers 404). */
  private async confirmedGone(namespace: string, name: string): Promise<boolean> {
    try {
      await this.deps.client.get(PODS, namespace, name);
      return false;
    } catch (error) {
      if (isNotFound(error)) return true;
      throw error;
    }
  }

  /**
   * One pod per group: a live pod that is not the current run's is a rogue and is deleted
   * (after a live read of the group confirms the claim); a lone live pod when no run is claimed
   * is adopted; terminal pods no claim covered are recorded once.
   */
  private async enforceOnePod(group: OaatGroup, draft: StatusDraft, pods: V1Pod[], now: number, log: ReconcileContext['log']): Promise<void> {
    const live = pods.filter((pod) => isLive(pod) && pod.metadata?.deletionTimestamp === undefined);
    // A pod whose run is already recorded is never adopted again, even when a stale cache still
    // shows it live: that would count its result twice.
    const recordedRuns = new Set(
      Object.values(draft.status.items ?? {}).flatMap((item) => [item?.last_run?.id, item?.last_run?.podUID]).filter((id) => id !== undefined),
    );
    const recorded = (id: string | undefined): boolean => id !== undefined && recordedRuns.has(id);
    const adoptable = live.filter((pod) => !recorded(pod.metadata?.uid) && !recorded(pod.metadata?.labels?.[LABELS.runId]));
    if (draft.currentRun === undefined && adoptable.length > 0) {
      const created = (pod: V1Pod): number => epochMs(pod.metadata?.creationTimestamp) ?? 0;
      const oldest = [...adoptable].sort((a, b) => created(a) - created(b))[0];
      if (oldest?.metadata?.name !== undefined) {
        const id = oldest.metadata.labels?.[LABELS.runId] ?? `adopted-${(oldest.metadata.uid ?? '').slice(0, 8)}`;
        draft.claim({ id, item: itemOfPod(oldest) ?? 'unknown', podName: oldest.metadata.name, claimedAt: iso(now) });
        this.deps.events.record(group, 'Normal', 'PodAdopted', `adopted running pod ${oldest.metadata.name}`);
        log.info('adopted a running pod', { pod: oldest.metadata.name });
      }
    }
    const rogues = live.filter((pod) => pod.metadata?.name !== draft.currentRun?.podName);
    if (rogues.length > 0) {
      const fresh = await this.deps.client.get<OaatGroup>(OAATGROUPS, group.metadata?.namespace ?? '', group.metadata?.name ?? '');
      const claimed = fresh.status?.currentRun?.podName ?? draft.currentRun?.podName;
      for (const rogue of rogues) {
        if (rogue.metadata?.name === claimed) continue;
        try {
          await this.deps.client.delete(PODS, rogue.metadata?.namespace ?? '', rogue.metadata?.name ?? '', { uid: rogue.metadata?.uid ?? '' });
          this.deps.events.record(group, 'Warning', 'RogueDeleted', `deleted pod ${rogue.metadata?.name ?? ''}: only one item runs at a time`);
          log.warn('deleted a rogue pod', { pod: rogue.metadata?.name });
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
      }
    }
    this.recordUnclaimed(group, draft, pods, now);
  }

  /**
   * Results of terminal pods that no claim covered (left by the original, or whose close write
   * was lost): recorded once, when the pod is this group's (controller owner), its UID is not
   * recorded yet, and it finished after the item's last recorded result.
   */
  private recordUnclaimed(group: OaatGroup, draft: StatusDraft, pods: V1Pod[], now: number): void {
    const recorded = new Set(Object.values(draft.status.items ?? {}).map((item) => item?.last_run?.podUID));
    for (const pod of pods) {
      if (!isTerminal(pod) || pod.metadata?.name === draft.currentRun?.podName) continue;
      const owned = pod.metadata?.ownerReferences?.some((ref) => ref.controller === true && ref.uid === group.metadata?.uid) === true;
      const item = itemOfPod(pod);
      if (!owned || item === undefined || recorded.has(pod.metadata?.uid)) continue;
      const record = this.recordOf(pod, now);
      const status = draft.status.items?.[item];
      const last = Math.max(Date.parse(status?.last_success ?? '') || 0, Date.parse(status?.last_failure ?? '') || 0);
      if (record.finishedAt <= last) continue;
      draft.recordUnclaimed(item, pod.metadata?.labels?.[LABELS.runId] ?? `unclaimed-${(pod.metadata?.uid ?? '').slice(0, 8)}`, record, this.deps.rng, now);
      recorded.add(pod.metadata?.uid);
    }
  }

  private problems(group: OaatGroup, specErrors: readonly Problem[], type: OaatType | undefined): { reason: string; message: string }[] {
    const problems = specErrors.map((p) => ({ reason: 'InvalidSpec', message: `${p.path}: ${p.message}` }));
    if (specErrors.length === 0 && (group.spec?.oaatItems ?? []).length === 0) {
      problems.push({ reason: 'NoItems', message: 'no items: list them in spec.oaatItems' });
    }
    const typeName = group.spec?.oaatType;
    if (typeName !== undefined && typeName !== '') {
      if (type === undefined) {
        problems.push({ reason: 'OaatTypeNotFound', message: `OaatType ${typeName} not found in namespace ${group.metadata?.namespace ?? ''}` });
      } else {
        problems.push(
          ...[...validateOaatType(type), ...containerProblems(type)].map((p) => ({ reason: 'OaatTypeInvalid', message: `OaatType ${typeName}: ${p.path}: ${p.message}` })),
        );
      }
    }
    return problems;
  }

  /** Creates the pod of a claimed run (read back from the cache), or closes the run when it cannot be. */
  private async create(group: OaatGroup, run: CurrentRun, draft: StatusDraft, now: number, log: ReconcileContext['log']): Promise<Result> {
    const type = group.spec?.oaatType === undefined ? undefined : this.deps.types.get(group.metadata?.namespace ?? '', group.spec.oaatType);
    const namespace = group.metadata?.namespace ?? '';
    let failure: string | undefined;
    if (type === undefined) {
      failure = `OaatType ${group.spec?.oaatType ?? ''} not found`;
    } else {
      const rendered = renderPod({ type, group, item: run.item, runId: run.id });
      if (!rendered.ok) {
        failure = rendered.error;
      } else {
        try {
          await this.deps.client.create(PODS, rendered.pod);
          this.deps.events.record(group, 'Normal', 'RunStarted', `started item ${run.item} in pod ${run.podName}`);
          log.info('created the run pod', { item: run.item, pod: run.podName });
          return { requeueAfter: this.deps.settings.requeueCapMs };
        } catch (error) {
          if (isAlreadyExists(error)) {
            const existing = await this.deps.client.get<V1Pod>(PODS, namespace, run.podName);
            const mine = existing.metadata?.ownerReferences?.some((ref) => ref.uid === group.metadata?.uid) === true;
            if (mine && existing.metadata?.labels?.[LABELS.runId] === run.id) return { requeueAfter: this.deps.settings.requeueCapMs };
            failure = `pod ${run.podName} exists but belongs to something else`;
          } else if (isTransient(error)) {
            throw error;
          } else {
            failure = (error as Error).message;
          }
        }
      }
    }
    this.close(draft, { outcome: 'CreateFailed', finishedAt: now, reason: failure });
    await this.write(group, draft, log);
    return {};
  }

  /**
   * Writes the draft as one status patch guarded by the resourceVersion read (nothing when
   * unchanged), then announces the runs it closed.
   */
  private async write(group: OaatGroup, draft: StatusDraft, log: ReconcileContext['log']): Promise<void> {
    const patch = draft.patch();
    if (patch === undefined) return;
    await this.deps.client.patch(OAATGROUPS, group.metadata?.namespace ?? '', group.metadata?.name ?? '', { status: patch }, {
      subresource: 'status',
      resourceVersion: group.metadata?.resourceVersion ?? '',
    });
    for (const closed of draft.closed) this.announceClosed(group, closed, log);
  }

  private newRunId(): string {
    let id = '';
    for (let i = 0; i < 8; i++) id += RUN_ID_ALPHABET.charAt(randomIndex(this.deps.rng, RUN_ID_ALPHABET.length));
    return id;
  }
}
