/**
 * The run protocol's decisions for one OaatGroup (architecture.md §3), as a pure function:
 * given what one reconcile read — the group, its pods and its OaatType from the caches, the
 * time, and what this process knows of the current run — {@link planGroup} says what the
 * group's status becomes, what must hold before that is written (live reads), which pods to
 * create or delete afterwards, which Events to record once the write succeeded, and when to
 * look again. No I/O: the reconciler performs the plan.
 *
 * The order is fixed: (1) the current run: close it when its pod is terminal or confirmed
 * gone, create its pod (only the claiming incarnation, once, before its deadline: right after
 * the claim is written, or on reading the claim back), or enforce its limits; (2) one pod per group: foreign pods and rogues are deleted, a lone pod of the
 * original is adopted, the original's finished pods are recorded — all of this even when the
 * spec or the OaatType is invalid; (3) validation; (4) pause; (5) the create backoff; (6)
 * selection and the claim, only while no other pod of the group is live (deleting included).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { DEFAULT_PENDING_TIMEOUT, failureBackoff, failureCoolOffMs, frequencyMs, pendingTimeoutMs, predictionRules, runTimeoutMs } from '../api/v1/defaults.ts';
import { ANNOTATIONS } from '../api/v1/keys.ts';
import { podName } from '../api/v1/naming.ts';
import type { CurrentRun, NextReason, NextRun, OaatGroup, OaatType } from '../api/v1/types.ts';
import { validateGroupSpec, validateOaatType, type GroupSpecReport } from '../api/v1/validation.ts';
import { failureCount, iso, itemHistory, lastResultAt, StatusDraft, succeededOnce, type RunRecord } from './group-status.ts';
import { isOurs, itemOfPod, runIdOf, runSeqOf } from './ownership.ts';
import { deletionRequestedAt, epochMs, isLive, isTerminal, startedAt, terminalPod } from './pod-outcome.ts';
import { containerProblems, renderPod } from './pod-templater.ts';
import { type PodRestriction, restrictionProblems } from './pod-restrictions.ts';
import { randomIndex, type Rng, seededRng } from './rng.ts';
import { type Blocker, failureWaitMs, type FailureRules, type ItemVerdict, selectItem, type SelectionInput } from './selection-policy.ts';
import { type ItemRequest, pendingRequest } from './item-requests.ts';
import type { SourcedItems } from './item-sources.ts';
import { type CompiledWindow, compileWindows, nextWindowOpening, startAllowed, windowAt, type WindowOccurrence } from './windows.ts';
import { predictedRuntimeMs } from './runtime-prediction.ts';

/** How far the clocks of two operator processes may disagree, for deadlines they share. */
export const CLOCK_SKEW_MARGIN_MS = 10_000;
/**
 * A group waiting for its next item wakes this long after the item becomes eligible. A timer
 * fires by the event loop's clock, which may trail the wall clock by a few milliseconds; a wake
 * that still comes early costs one reconcile that claims nothing and sets the next wake.
 */
export const ELIGIBILITY_WAKE_MARGIN_MS = 20;
/** Live reads of a run's pod that the cache does not show: the first after 1 s, doubling to the requeue cap. */
export const POLL_BACKOFF_BASE_MS = 1_000;
/** A pod just created is looked for in the cache only, this long, before a live read. */
export const CACHE_CATCH_UP_MS = 2_000;
/** After this many such reads the group reports `Stuck` (reason PodNotInCache). */
export const POLLS_BEFORE_STUCK = 5;
/** Refused creates of different claims in a row before the group backs off. */
export const REFUSALS_BEFORE_BACKOFF = 3;
/** The first backoff after refused creates, doubling to {@link REFUSAL_BACKOFF_CAP_MS}. */
export const REFUSAL_BACKOFF_BASE_MS = 30_000;
export const REFUSAL_BACKOFF_CAP_MS = 10 * 60_000;
/** The `status.next` reason for each rule that holds an item back. */
const NEXT_REASON_OF: Record<Blocker, NextReason> = { frequency: 'Frequency', coolOff: 'CoolOff', retryFloor: 'RetryFloor', backoff: 'Backoff' };

/**
 * The spec's report with the items of its sources added and their problems among its errors: an
 * unreadable source makes the item list as invalid as a bad spec (no claim; no history pruned).
 */
export function withSourcedItems(report: GroupSpecReport, sourced: SourcedItems | undefined): GroupSpecReport {
  if (sourced === undefined) return report;
  return { ...report, errors: [...report.errors, ...sourced.problems], items: [...report.items, ...sourced.items] };
}

/** A window as status and Events name it: its name, or `windows[<index>]`. */
const windowName = (group: OaatGroup, occurrence: WindowOccurrence): string =>
  group.spec?.windows?.[occurrence.window.index]?.name ?? `windows[${String(occurrence.window.index)}]`;

/** When a verdict's item may start: now when eligible. */
const startsAt = (verdict: ItemVerdict, now: number): number => (verdict.eligible ? now : verdict.eligibleAt);

/** A new claim is not sent once this much of the create grace has passed. */
const CLAIM_SEND_FRACTION = 0.25;
const RUN_ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export interface PlannerSettings {
  /** This process's identity (`<host>_<uuid>`): claims it writes carry it. */
  incarnation: string;
  requeueCapMs: number;
  retryFloorMs: number;
  /** How long after its claim a run's pod may be created. */
  createGraceMs: number;
  /** The API client's per-request timeout. */
  requestTimeoutMs: number;
  /**
   * kube-apiserver's request timeout (`--request-timeout`, 60 s by default): a request whose
   * client gave up can still be executed up to this long after it arrived.
   */
  serverRequestTimeoutMs: number;
  /** A pod still there this long after its deletion was due is reported as stuck. */
  stuckAfterMs: number;
  /** History of items no longer listed is kept this long after their last activity. */
  staleItemRetentionMs: number;
  /** The CRD's bound on `status.items` keys. */
  statusItemsLimit: number;
  /** Pod features refused in OaatTypes (pod-restrictions.ts): such a group is not Ready and starts nothing. */
  podRestrictions: ReadonlySet<PodRestriction>;
}

/** What became of the create of a run's pod, as the claiming process knows it. */
export type CreateState =
  /** Claimed here, not sent yet: this process may send it before its deadline. */
  | { readonly state: 'pending' }
  /** Sent, no answer yet. */
  | { readonly state: 'in-flight' }
  /** Answered 2xx at `at` (epoch ms; the answer is the pod's first sighting). */
  | { readonly state: 'created'; readonly at: number }
  /** Timeout, 5xx or a lost answer: it may have been created, and it is never sent again. */
  | { readonly state: 'unknown' }
  /** Not sent: its deadline passed first, so the pod cannot exist. */
  | { readonly state: 'expired' }
  /** Refused for good (4xx): the message says why. */
  | { readonly state: 'refused'; readonly message: string };

/** What this process knows about the group's current run beyond the caches. */
export interface RunKnowledge {
  /** When this process first read the claim (epoch ms). */
  readonly firstSeenAt: number;
  /** The last state seen of the run's pod: from the cache, a create answer or a live read; kept after it vanished. */
  readonly lastSeen?: V1Pod;
  /** Only in the process that claimed the run. */
  readonly create?: CreateState;
  /** Live reads that found the pod while the cache did not show it. */
  readonly polls: number;
  /** When the last of those reads answered (epoch ms). */
  readonly polledAt?: number;
  /** A live read answered 404: the pod is gone for good (a run's pod is never created again). */
  readonly gone?: boolean;
}

/** What one reconcile read. */
export interface GroupSnapshot {
  /** From the cache; has a UID and is not being deleted. */
  readonly group: OaatGroup;
  /** The group's pods in the cache (by controller UID or by label). */
  readonly pods: readonly V1Pod[];
  readonly type: OaatType | undefined;
  /** Epoch ms, the operator's clock. */
  readonly now: number;
  /** About `status.currentRun`, when there is one. */
  readonly run?: RunKnowledge | undefined;
  /** A dry-run create this process made since the last plan was refused with this message. */
  readonly probeRefusal?: string | undefined;
  /** What `spec.oaatItemsFrom` adds (services/item-sources.ts); absent: the group names no source. */
  readonly sourcedItems?: SourcedItems | undefined;
}

/** Something that must hold, by a live read, before the plan's write and actions. */
export type Check =
  /** The pod is gone: a live GET answers 404. Otherwise look again after `retryAfterMs`. */
  | { readonly kind: 'pod-gone'; readonly name: string; readonly retryAfterMs: number }
  /** A dry-run create of the pod is admitted. Otherwise note the refusal and plan again. */
  | { readonly kind: 'create-admitted'; readonly pod: V1Pod };

/** A Kubernetes Event on the group. */
export interface GroupEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

export type Action =
  /** Create the run's pod, unless `sendBy` (epoch ms) has passed before it can be sent. */
  | { readonly kind: 'create'; readonly pod: V1Pod; readonly runId: string; readonly sendBy: number }
  /** Delete a pod of another owner (UID precondition). */
  | { readonly kind: 'delete-foreign'; readonly pod: V1Pod }
  /** Delete a live pod of this group that no claim covers, once a live read of the group confirms it is not claimed. */
  | { readonly kind: 'delete-rogue'; readonly pod: V1Pod }
  /** Read the run's pod (absent from the cache) to learn whether it still exists and how it is. */
  | { readonly kind: 'read-pod'; readonly name: string }
  /** Mark the run's pod with why it is stopped, then delete it. */
  | { readonly kind: 'stop'; readonly pod: V1Pod; readonly reason: StopReason; readonly message: string };

/** Why the operator stops a run's pod (kept in its stop-reason annotation, so a restart still knows). */
export type StopReason = 'RunTimeout' | 'PendingTimeout' | 'WindowStopped';

export interface GroupPlan {
  readonly draft: StatusDraft;
  /** A new claim in the draft (the reconciler notes it before writing: it may create its pod). */
  readonly claim?: CurrentRun;
  /** The newest time the draft's write may still be sent (a claim must not outrun its create). */
  readonly sendBy?: number;
  readonly checks: readonly Check[];
  readonly actions: readonly Action[];
  /** Recorded once the draft is written. */
  readonly events: readonly GroupEvent[];
  /** When to reconcile again (ms from now). */
  readonly requeueAfterMs: number;
}

export function planGroup(snapshot: GroupSnapshot, settings: PlannerSettings, rng: Rng): GroupPlan {
  return new Planner(snapshot, settings, rng).plan();
}

/** The delay before a group's next claim after `refusals` refused creates in a row. */
export function refusalBackoffMs(refusals: number): number {
  if (refusals < REFUSALS_BEFORE_BACKOFF) return 0;
  return Math.min(REFUSAL_BACKOFF_CAP_MS, REFUSAL_BACKOFF_BASE_MS * 2 ** (refusals - REFUSALS_BEFORE_BACKOFF));
}

/**
 * How a run's pod ended, from its last state (terminal, or the last seen before it vanished).
 * A pod stopped by the kubelet's deadline or by this operator for a run timeout is `TimedOut`;
 * one stopped because it stayed Pending too long is `Failed` (PendingTimeout); one stopped as a
 * `stopRunning` window opened is `WindowStopped` (not a failure); one someone
 * else deleted while it ran is `Deleted` (kubelets report a terminal phase before removing it,
 * with the exit code the deletion caused). `finishedAt` never lies in the future (a kubelet
 * clock ahead of ours); the runtime comes from the container's own start and finish.
 */
export function recordOf(pod: V1Pod, now: number): RunRecord {
  const end = terminalPod(pod);
  const stopReason = pod.metadata?.annotations?.[ANNOTATIONS.stopReason];
  const deletedAt = deletionRequestedAt(pod);
  const interrupted = deletedAt !== undefined && (end?.finishedAt ?? now) >= deletedAt;
  let outcome: RunRecord['outcome'] = end?.outcome ?? 'Deleted';
  let reason = end?.reason;
  // A run that succeeded before a window's stop took effect keeps its success.
  if (stopReason === 'WindowStopped' && !(end?.outcome === 'Succeeded' && !interrupted)) {
    outcome = 'WindowStopped';
    reason = stopReason;
  } else if (pod.status?.reason === 'DeadlineExceeded' || stopReason === 'RunTimeout') {
    outcome = 'TimedOut';
    reason = stopReason ?? 'DeadlineExceeded';
  } else if (stopReason === 'PendingTimeout') {
    outcome = 'Failed';
    reason = stopReason;
  } else if (interrupted || end === undefined) {
    outcome = 'Deleted';
    reason ??= 'PodDeleted';
  }
  const runtimeMs = end?.finishedAt !== undefined && end.startedAt !== undefined ? end.finishedAt - end.startedAt : undefined;
  return {
    outcome,
    finishedAt: Math.min(end?.finishedAt ?? now, now),
    ...(pod.metadata?.uid !== undefined && { podUID: pod.metadata.uid }),
    ...(end?.exitCode !== undefined && { exitCode: end.exitCode }),
    ...(reason !== undefined && { reason }),
    ...(runtimeMs !== undefined && { runtimeMs }),
  };
}

class Planner {
  private readonly draft: StatusDraft;
  private readonly group: OaatGroup;
  private readonly now: number;
  private readonly checks: Check[] = [];
  private readonly actions: Action[] = [];
  private readonly events: GroupEvent[] = [];
  /** Live pods of the group other than the current run's: while any exists, nothing is claimed. */
  private readonly blockers: V1Pod[] = [];
  private wakeAt: number;
  private stuck: { reason: string; message: string } | undefined;
  /** The current run stays open and its pod is not in the cache. */
  private runPodMissing = false;
  private claimed: CurrentRun | undefined;
  private compiledWindows: readonly CompiledWindow[] | undefined;

  constructor(
    private readonly snapshot: GroupSnapshot,
    private readonly settings: PlannerSettings,
    private readonly rng: Rng,
  ) {
    this.group = snapshot.group;
    this.now = snapshot.now;
    this.draft = new StatusDraft(snapshot.group.status);
    this.wakeAt = this.now + settings.requeueCapMs;
  }

  plan(): GroupPlan {
    const readSeq = this.draft.status.runSeq;
    this.currentRun();
    this.onePod(readSeq);
    const report = withSourcedItems(validateGroupSpec(this.group.spec), this.snapshot.sourcedItems);
    const ready = this.validate(report);
    if (report.errors.length === 0) {
      this.handleReset(report);
      this.noteRetryTimes(report);
      this.reportCompletion(report);
    }
    const paused = this.pause();
    this.backoff();
    if (ready && !paused) this.claimNext(report);
    this.forecast(report, paused);
    this.reportStuck();
    this.pruneItems(report);
    this.draft.status.observedGeneration = this.group.metadata?.generation ?? 0;
    return {
      draft: this.draft,
      ...(this.claimed && { claim: this.claimed, sendBy: Date.parse(this.claimed.claimedAt) + this.settings.createGraceMs * CLAIM_SEND_FRACTION }),
      checks: this.checks,
      actions: this.actions,
      events: this.events,
      requeueAfterMs: Math.max(1, this.wakeAt - this.now),
    };
  }

  /** The group's blackout windows, compiled once per plan (a spec with problems in them has none of those). */
  private get windows(): readonly CompiledWindow[] {
    this.compiledWindows ??= compileWindows(this.group.spec).windows;
    return this.compiledWindows;
  }

  private wake(at: number): void {
    this.wakeAt = Math.min(this.wakeAt, Math.max(at, this.now + 1));
  }

  /** (1) Close the current run, create its pod, or watch over it. */
  private currentRun(): void {
    const run = this.draft.currentRun;
    if (run === undefined) return;
    const knowledge = this.snapshot.run;
    const cached = this.snapshot.pods.find((pod) => pod.metadata?.name === run.podName && isOurs(pod, this.group));
    const seen = cached ?? knowledge?.lastSeen;
    if (seen !== undefined && isTerminal(seen)) {
      this.close(recordOf(seen, this.now));
    } else if (cached !== undefined) {
      this.enforceLimits(cached, Date.parse(run.claimedAt));
      this.stuckTerminating(cached, 'PodStuckTerminating', 'no new item starts until it is gone');
    } else if (knowledge?.create?.state === 'created' && this.now < knowledge.create.at + CACHE_CATCH_UP_MS) {
      // Created, and the cache has not caught up yet.
      this.wake(knowledge.create.at + CACHE_CATCH_UP_MS);
    } else if (seen !== undefined) {
      // It was there, live, and the cache lost it: deleted, or hidden from the cache (its labels edited).
      if (this.confirmGone(run, knowledge)) this.close(recordOf(seen, this.now));
    } else {
      this.neverSeen(run, knowledge);
    }
    this.runPodMissing = cached === undefined && this.draft.currentRun !== undefined;
  }

  /** The run's pod was never seen by this process. */
  private neverSeen(run: CurrentRun, knowledge: RunKnowledge | undefined): void {
    const claimedAt = Date.parse(run.claimedAt);
    // What became of the create is known only to the process that claimed the run.
    const create = run.claimedBy === this.settings.incarnation ? knowledge?.create : undefined;
    const sendBy = claimedAt + this.settings.createGraceMs - this.settings.requestTimeoutMs;
    if (create?.state === 'pending' && this.now < sendBy) {
      this.createPod(run, sendBy);
    } else if (create?.state === 'pending' || create?.state === 'expired') {
      this.close({ outcome: 'Lost', finishedAt: this.now, reason: 'PodNotCreated' });
    } else if (create?.state === 'refused') {
      this.close({ outcome: 'CreateFailed', finishedAt: this.now, reason: create.message });
    } else if (create?.state === 'in-flight') {
      this.wake(this.now + this.settings.requestTimeoutMs);
    } else {
      // Created, or maybe created (unknown), or claimed by another process: a create can commit
      // up to the server's request timeout after it was sent, and it was sent before the grace
      // ended; another process counts from when it first saw the claim, on its own clock.
      const from = create === undefined ? Math.max(claimedAt, knowledge?.firstSeenAt ?? this.now) : claimedAt;
      const goneAfter = from + this.settings.createGraceMs + this.settings.serverRequestTimeoutMs + CLOCK_SKEW_MARGIN_MS;
      if (this.now < goneAfter) {
        this.wake(goneAfter);
      } else if (this.confirmGone(run, knowledge)) {
        this.close({ outcome: 'Lost', finishedAt: this.now, reason: 'PodNeverObserved' });
      }
    }
  }

  private createPod(run: CurrentRun, sendBy: number): void {
    const type = this.snapshot.type;
    const rendered = type === undefined ? undefined : renderPod({ type, group: this.group, item: run.item, runId: run.id, restrictions: this.settings.podRestrictions });
    if (rendered?.ok !== true) {
      const reason = rendered === undefined ? `OaatType ${this.group.spec?.oaatType ?? ''} not found` : rendered.error;
      this.close({ outcome: 'CreateFailed', finishedAt: this.now, reason });
      return;
    }
    const pod = rendered.pod;
    const metadata = (pod.metadata ??= {});
    metadata.annotations = { ...metadata.annotations, [ANNOTATIONS.runSeq]: String(run.seq ?? 0) };
    this.actions.push({ kind: 'create', pod, runId: run.id, sendBy });
  }

  /**
   * Whether the run's pod, absent from the cache, may be closed as gone in this plan: when a
   * live read said so before, or — the first time — on the condition that a live read answers
   * 404 now (a check). Once a read found it, it is read again with backoff (an action, so the
   * rest of the status is still written) and the group reports Stuck after a few reads.
   */
  private confirmGone(run: CurrentRun, knowledge: RunKnowledge | undefined): boolean {
    const polls = knowledge?.polls ?? 0;
    if (knowledge?.gone === true) return true;
    if (polls === 0) {
      this.checks.push({ kind: 'pod-gone', name: run.podName, retryAfterMs: POLL_BACKOFF_BASE_MS });
      return true;
    }
    // Read again only when the backoff since the last read has passed: other events wake the
    // group meanwhile (another replica's writes, foreign pods), and must not read it each time.
    const dueAt = (knowledge?.polledAt ?? this.now) + Math.min(this.settings.requeueCapMs, POLL_BACKOFF_BASE_MS * 2 ** polls);
    if (this.now < dueAt && knowledge?.polledAt !== undefined) this.wake(dueAt);
    else {
      this.actions.push({ kind: 'read-pod', name: run.podName });
      this.wake(this.now + Math.min(this.settings.requeueCapMs, POLL_BACKOFF_BASE_MS * 2 ** polls));
    }
    if (polls >= POLLS_BEFORE_STUCK) {
      this.stuck ??= { reason: 'PodNotInCache', message: `pod ${run.podName} exists but the operator's pod cache does not show it (were its labels edited?); it is read again with backoff` };
    }
    return false;
  }

  private close(record: RunRecord): void {
    const closed = this.draft.close(record, this.rng, this.now);
    const { run } = closed;
    const code = record.exitCode === undefined ? '' : ` with exit code ${String(record.exitCode)}`;
    const why = record.reason === undefined || record.outcome === 'Succeeded' ? '' : ` (${record.reason})`;
    this.events.push({
      type: record.outcome === 'Succeeded' || record.outcome === 'Lost' || record.outcome === 'WindowStopped' ? 'Normal' : 'Warning',
      reason: `Run${record.outcome}`,
      message: `item ${run.item} ${record.outcome === 'Succeeded' ? 'succeeded' : `ended: ${record.outcome}${code}${why}`}`,
    });
    const backoff = this.draft.status.createBackoff;
    if (record.outcome === 'CreateFailed') {
      const refusals = (backoff?.refusals ?? 0) + 1;
      const delay = refusalBackoffMs(refusals);
      this.draft.status.createBackoff = { refusals, message: record.reason ?? '', ...(delay > 0 && { retryAt: iso(this.now + delay) }) };
    } else if (record.outcome !== 'Lost' && backoff) {
      this.draft.status.createBackoff = null;
    }
  }

  /**
   * Stops a live run pod past its limits: Pending longer than the pending timeout, or running
   * longer than the run timeout, by the operator's clock (a kubelet clock behind ours must not
   * make a pod look older than its claim). The run closes once its pod is terminal or gone.
   */
  private enforceLimits(pod: V1Pod, claimedAt: number): void {
    if (pod.metadata?.deletionTimestamp !== undefined) return;
    const spec = this.group.spec ?? {};
    // Other clocks (the API server's, the kubelet's) are trusted only between the claim and now.
    const bounded = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : Math.min(Math.max(ms, claimedAt), this.now));
    const created = bounded(epochMs(pod.metadata?.creationTimestamp)) ?? this.now;
    const started = bounded(startedAt(pod));
    const runLimit = runTimeoutMs(spec);
    const name = pod.metadata?.name ?? '';
    if (this.stopForWindow(pod)) return;
    if (pod.status?.phase === 'Pending' || started === undefined) {
      const dueAt = created + pendingTimeoutMs(spec);
      if (this.now < dueAt) {
        this.wake(dueAt);
        return;
      }
      const message = `stopped pod ${name}: it stayed Pending longer than pendingTimeout ${spec.pendingTimeout ?? DEFAULT_PENDING_TIMEOUT}`;
      this.actions.push({ kind: 'stop', pod, reason: 'PendingTimeout', message });
    } else if (runLimit !== undefined) {
      const dueAt = started + runLimit;
      if (this.now < dueAt) {
        this.wake(dueAt);
        return;
      }
      this.actions.push({ kind: 'stop', pod, reason: 'RunTimeout', message: `stopped pod ${name}: it ran longer than runTimeout ${spec.runTimeout ?? ''}` });
    }
  }

  /**
   * A noRunItem window with `stopRunning` that holds now stops the run's pod (outcome
   * WindowStopped, not a failure), unless the run was requested (run-now: explicit intent wins);
   * otherwise the group wakes when the next such window opens. Returns whether it stops the pod.
   */
  private stopForWindow(pod: V1Pod): boolean {
    if (this.draft.currentRun?.trigger === 'RunNow') return false;
    const stopping = this.windows.filter((window) => window.stopRunning);
    if (stopping.length === 0) return false;
    const holding = windowAt(stopping, 'noRunItem', this.now);
    if (holding === undefined) {
      const opening = nextWindowOpening(stopping, 'noRunItem', this.now);
      if (opening !== undefined) this.wake(opening.opensAt);
      return false;
    }
    const message = `stopped pod ${pod.metadata?.name ?? ''}: window ${windowName(this.group, holding)} opened (stopRunning)`;
    this.actions.push({ kind: 'stop', pod, reason: 'WindowStopped', message });
    return true;
  }

  /** A deleting pod still there `stuckAfter` past its deletion's due time makes the group Stuck. */
  private stuckTerminating(pod: V1Pod, reason: string, consequence: string): void {
    const deleteBy = epochMs(pod.metadata?.deletionTimestamp);
    if (deleteBy === undefined) return;
    const stuckAt = deleteBy + this.settings.stuckAfterMs;
    if (this.now < stuckAt) {
        this.wake(stuckAt);
        return;
      }
    const finalizers = JSON.stringify(pod.metadata?.finalizers ?? []);
    const message = `pod ${pod.metadata?.name ?? ''} has been terminating since ${iso(deleteBy)}; ${consequence} (check its node, or its finalizers: ${finalizers})`;
    this.stuck ??= { reason, message };
  }

  /**
   * (2) One pod per group. Live pods other than the current run's block new claims. A foreign
   * pod (another owner) is deleted; a pod of this group whose claim number is past the status
   * read is a claim the cache does not show yet (wait); one whose claim is closed, or a pod of
   * the original while a run is claimed, is a rogue (deleted); a lone live pod of the original
   * with no claim is adopted; finished pods of the original are recorded once.
   */
  private onePod(readSeq: number | undefined): void {
    const current = this.draft.currentRun?.podName;
    const adoptable: V1Pod[] = [];
    for (const pod of this.snapshot.pods) {
      if (pod.metadata?.name === current && isOurs(pod, this.group)) continue;
      const deleting = pod.metadata?.deletionTimestamp !== undefined;
      if (!isOurs(pod, this.group)) {
        if (!isLive(pod)) continue;
        this.blockers.push(pod);
        if (!deleting) this.actions.push({ kind: 'delete-foreign', pod });
        this.stuckTerminating(pod, 'ForeignPodStuckTerminating', 'it belongs to another owner (a deleted group of the same name?) and no new item starts until it is gone');
        continue;
      }
      const seq = runSeqOf(pod);
      if (isTerminal(pod)) {
        if (seq === undefined && readSeq === undefined) this.recordLegacy(pod);
        continue;
      }
      this.blockers.push(pod);
      if (seq !== undefined && seq > (readSeq ?? 0)) this.wake(this.now + POLL_BACKOFF_BASE_MS);
      else if (seq === undefined && this.draft.currentRun === undefined && !this.recorded(pod)) adoptable.push(pod);
      else if (!deleting) this.actions.push({ kind: 'delete-rogue', pod });
      else this.stuckTerminating(pod, 'PodStuckTerminating', 'no new item starts until it is gone');
    }
    const created = (pod: V1Pod): number => epochMs(pod.metadata?.creationTimestamp) ?? 0;
    const [oldest, ...others] = adoptable.sort((a, b) => created(a) - created(b));
    if (oldest?.metadata?.name !== undefined) {
      const id = runIdOf(oldest) ?? `adopted-${(oldest.metadata.uid ?? '').slice(0, 8)}`;
      this.claimed = this.draft.claim({ id, item: itemOfPod(oldest) ?? 'unknown', podName: oldest.metadata.name, claimedAt: iso(this.now), claimedBy: this.settings.incarnation });
      this.blockers.splice(this.blockers.indexOf(oldest), 1);
      this.events.push({ type: 'Normal', reason: 'PodAdopted', message: `adopted running pod ${oldest.metadata.name}` });
    }
    for (const pod of others) if (pod.metadata?.deletionTimestamp === undefined) this.actions.push({ kind: 'delete-rogue', pod });
  }

  /** Whether the pod's run or UID is some item's recorded last run. */
  private recorded(pod: V1Pod): boolean {
    const ids = [runIdOf(pod), pod.metadata?.uid].filter((id) => id !== undefined);
    return Object.values(this.draft.status.items ?? {}).some((item) => ids.includes(item?.last_run?.id ?? '\0') || ids.includes(item?.last_run?.podUID ?? '\0'));
  }

  /**
   * A finished pod of the original (no claim number) before this operator's first claim of the
   * group: recorded once, unless its UID is recorded already or it finished before the item's
   * last recorded result (the original recorded it then).
   */
  private recordLegacy(pod: V1Pod): void {
    const item = itemOfPod(pod);
    if (item === undefined || this.recorded(pod)) return;
    const record = recordOf(pod, this.now);
    if (record.finishedAt <= lastResultAt(this.draft.status.items?.[item])) return;
    this.draft.record(item, runIdOf(pod) ?? `unclaimed-${(pod.metadata?.uid ?? '').slice(0, 8)}`, record, this.rng, this.now);
  }

  /** (3) Spec and OaatType: conditions Ready and DuplicateItems. Returns whether the group may claim. */
  private validate(report: GroupSpecReport): boolean {
    const { group, draft, now } = this;
    const problems = report.errors.map((p) => ({ reason: this.snapshot.sourcedItems?.problems.includes(p) === true ? 'ItemsSourceNotReady' : 'InvalidSpec', message: `${p.path}: ${p.message}` }));
    if (report.errors.length === 0 && report.items.length === 0) {
      problems.push({ reason: 'NoItems', message: 'no items: list them in spec.oaatItems or spec.oaatItemsFrom' });
    }
    const typeName = group.spec?.oaatType;
    const type = this.snapshot.type;
    if (typeName !== undefined && typeName !== '') {
      if (type === undefined) {
        problems.push({ reason: 'OaatTypeNotFound', message: `OaatType ${typeName} not found in namespace ${group.metadata?.namespace ?? ''}` });
      } else {
        const invalid = [...validateOaatType(type), ...containerProblems(type)];
        for (const p of invalid) problems.push({ reason: 'OaatTypeInvalid', message: `OaatType ${typeName}: ${p.path}: ${p.message}` });
        if (invalid.length === 0) {
          for (const p of restrictionProblems(type, this.settings.podRestrictions)) {
            problems.push({ reason: 'OaatTypeRefused', message: `OaatType ${typeName}: ${p.path}: ${p.message}` });
          }
        }
      }
    }
    const duplicates = report.warnings.map((w) => `${w.path}: ${w.message}`).join('; ');
    const duplicatesChanged = draft.setCondition(
      duplicates !== ''
        ? { type: 'DuplicateItems', status: 'True', reason: 'Deduplicated', message: duplicates }
        : { type: 'DuplicateItems', status: 'False', reason: 'Unique', message: 'every item is listed once' },
      now,
    );
    if (duplicates !== '' && duplicatesChanged) this.events.push({ type: 'Warning', reason: 'DuplicateItems', message: report.warnings.map((w) => w.message).join('; ') });
    const first = problems[0];
    const message = problems.map((p) => p.message).join('; ');
    const readyChanged = draft.setCondition(
      first === undefined
        ? { type: 'Ready', status: 'True', reason: 'Valid', message: 'spec and OaatType are valid' }
        : { type: 'Ready', status: 'False', reason: first.reason, message },
      now,
    );
    if (first !== undefined && readyChanged) this.events.push({ type: 'Warning', reason: first.reason, message });
    return first === undefined;
  }

  /** (4) Condition Paused; returns whether new runs are paused. */
  private pause(): boolean {
    const paused = this.group.spec?.paused === true || (this.group.metadata?.annotations?.[ANNOTATIONS.pauseNewJobs] ?? '') !== '';
    this.draft.setCondition(
      paused
        ? { type: 'Paused', status: 'True', reason: 'Paused', message: 'no new item starts; a running item finishes' }
        : { type: 'Paused', status: 'False', reason: 'Running', message: 'items start when eligible' },
      this.now,
    );
    return paused;
  }

  /** (5) A refused dry run extends the backoff; condition CreatesRefused says why nothing starts. */
  private backoff(): void {
    const { draft, now } = this;
    const refusal = this.snapshot.probeRefusal;
    // A refused probe extends the backoff it was made under; another process may have done so already.
    if (refusal !== undefined && !(Date.parse(draft.status.createBackoff?.retryAt ?? '') > now)) {
      const refusals = (draft.status.createBackoff?.refusals ?? 0) + 1;
      draft.status.createBackoff = { refusals, message: refusal, retryAt: iso(now + refusalBackoffMs(Math.max(refusals, REFUSALS_BEFORE_BACKOFF))) };
    }
    const backoff = draft.status.createBackoff;
    if (backoff?.retryAt !== undefined) {
      const message = `the API server refused ${String(backoff.refusals)} pod creates in a row; the next try is at ${backoff.retryAt}: ${backoff.message}`;
      if (draft.setCondition({ type: 'CreatesRefused', status: 'True', reason: 'PodCreateRefused', message }, now)) {
        this.events.push({ type: 'Warning', reason: 'CreatesRefused', message });
      }
    } else if (draft.condition('CreatesRefused') !== undefined) {
      draft.setCondition({ type: 'CreatesRefused', status: 'False', reason: 'CreatesAdmitted', message: 'pod creates are admitted' }, now);
    }
  }

  /**
   * The selection's input for `items` (of a valid spec), from the draft's history. EachOnce:
   * items that have succeeded are left out, done for good.
   */
  private selectionInput(items: readonly string[], rng: Rng): SelectionInput {
    const { draft, group, now } = this;
    const history = new Map(items.map((item) => [item, itemHistory(draft.status.items?.[item])]));
    return {
      items: group.spec?.mode === 'EachOnce' ? items.filter((item) => !succeededOnce(draft.status.items?.[item])) : items,
      history,
      frequencyMs: frequencyMs(group.spec ?? {}),
      ...this.failureRules(),
      clock: { now: () => now },
      rng,
    };
  }

  /**
   * (7) `status.next`: the item expected to start next, from when, and what holds it until then.
   * Computed only when this write claims, closes or follows a spec change (or when the paused or
   * complete state no longer matches it), so it never costs a write of its own as time passes:
   * it is a forecast as of that write. The item is the one eligible soonest (ties: list order),
   * other than the running one; none when only the running item could run next. Absent while
   * the spec is invalid.
   */
  private forecast(report: GroupSpecReport, paused: boolean): void {
    const { draft, group } = this;
    const complete = draft.condition('Complete')?.status === 'True';
    const stored = draft.status.next ?? undefined;
    const due =
      this.claimed !== undefined ||
      draft.closed.length > 0 ||
      (group.metadata?.generation ?? 0) !== (group.status?.observedGeneration ?? 0) ||
      (stored?.reason === 'Paused') !== paused ||
      (stored?.reason === 'Complete') !== complete;
    if (!due) return;
    const next = report.errors.length > 0 ? undefined : paused ? { reason: 'Paused' as const } : complete ? { reason: 'Complete' as const } : this.nextRun(report);
    if (next === undefined) delete draft.status.next;
    else draft.status.next = next;
  }

  /** The soonest-eligible item other than the running one, and the window that may hold it back. */
  private nextRun(report: GroupSpecReport): NextRun | undefined {
    const { draft, group, now } = this;
    const running = draft.currentRun?.item;
    // The verdicts only: the choice among eligible items is not predicted (it may be random).
    const { verdicts } = selectItem(this.selectionInput(report.items.filter((item) => item !== running), seededRng(0)));
    let soonest: ItemVerdict | undefined;
    for (const verdict of verdicts) {
      if (soonest === undefined || startsAt(verdict, now) < startsAt(soonest, now)) soonest = verdict;
    }
    if (soonest === undefined) return undefined;
    const eligibleAt = startsAt(soonest, now);
    const windows = this.windows;
    const window = startAllowed(windows, eligibleAt);
    if (window.blockedBy !== undefined) {
      return { reason: 'Window', item: soonest.item, ...(window.at !== undefined && { at: iso(window.at) }), window: windowName(group, window.blockedBy) };
    }
    const crossing = this.crossing(windows, [soonest.item], eligibleAt);
    if (crossing?.items.has(soonest.item) === true) {
      return { reason: 'Window', item: soonest.item, at: iso(crossing.opening.closesAt), window: windowName(group, crossing.opening) };
    }
    return { reason: soonest.eligible ? 'Eligible' : NEXT_REASON_OF[soonest.blockedBy], item: soonest.item, at: iso(eligibleAt) };
  }

  /** What decides how long a failed item waits (a valid spec's). */
  private failureRules(): FailureRules {
    const spec = this.group.spec ?? {};
    return { coolOffMs: failureCoolOffMs(spec), retryFloorMs: this.settings.retryFloorMs, backoff: failureBackoff(spec) };
  }

  /**
   * (3a) A pending reset request: clears the failures (count, last failure, so cool-off and
   * backoff) of the item it names, or of every item for `*`; a name that is not listed gets a
   * Warning. Handled either way, in this write.
   */
  private handleReset(report: GroupSpecReport): void {
    const { draft } = this;
    const request = pendingRequest(this.group.metadata?.annotations?.[ANNOTATIONS.reset], draft.status.reset?.handled);
    if (request === undefined) return;
    if (request.item === '*') {
      for (const item of report.items) draft.clearFailures(item);
      this.events.push({ type: 'Normal', reason: 'ItemReset', message: 'cleared the failures of every item' });
    } else if (report.items.includes(request.item)) {
      draft.clearFailures(request.item);
      this.events.push({ type: 'Normal', reason: 'ItemReset', message: `cleared the failures of item ${request.item}` });
    } else {
      this.events.push({ type: 'Warning', reason: 'UnknownItem', message: `reset ${JSON.stringify(request.item)}: no such item in spec.oaatItems` });
    }
    draft.status.reset = { handled: request.value };
  }

  /**
   * (3b) `retry_at` of each failing item: its last failure plus its failure wait. It changes with
   * the item's history or the spec only, never because time passed, so it costs no write of its own.
   */
  private noteRetryTimes(report: GroupSpecReport): void {
    const rules = this.failureRules();
    for (const name of report.items) {
      const status = this.draft.status.items?.[name];
      if (status === undefined || status === null) continue;
      const count = failureCount(status);
      const lastFailure = Date.parse(status.last_failure ?? '');
      const wait = count > 0 && Number.isFinite(lastFailure) ? failureWaitMs(count, rules) : undefined;
      if (wait !== undefined) status.retry_at = iso(lastFailure + wait);
      else if (status.retry_at !== undefined) delete status.retry_at;
    }
  }

  /**
   * (3c) Condition Complete of an `EachOnce` group: True once every item has succeeded (with an
   * Event), else False with the counts: reason ItemsFailing while an item that never succeeded
   * has failed, ItemsPending otherwise. A `Continuous` group has no such condition.
   */
  private reportCompletion(report: GroupSpecReport): void {
    const { draft, now } = this;
    if (this.group.spec?.mode !== 'EachOnce') {
      draft.removeCondition('Complete');
      return;
    }
    const total = report.items.length;
    let succeeded = 0;
    let failing = 0;
    for (const name of report.items) {
      const status = draft.status.items?.[name];
      if (succeededOnce(status)) succeeded++;
      else if (failureCount(status) > 0) failing++;
    }
    const pending = total - succeeded - failing;
    if (succeeded === total) {
      const message = `all ${String(total)} items succeeded`;
      if (draft.setCondition({ type: 'Complete', status: 'True', reason: 'AllItemsSucceeded', message }, now)) {
        this.events.push({ type: 'Normal', reason: 'AllItemsSucceeded', message });
      }
      return;
    }
    const message = `${String(succeeded)} of ${String(total)} items succeeded, ${String(failing)} failing, ${String(pending)} not run yet`;
    draft.setCondition({ type: 'Complete', status: 'False', reason: failing > 0 ? 'ItemsFailing' : 'ItemsPending', message }, now);
  }

  /** (6) Select the next item and claim it, when nothing else of the group runs. */
  private claimNext(report: GroupSpecReport): void {
    const { draft, now, group } = this;
    if (draft.currentRun !== undefined || this.blockers.length > 0) return;
    const retryAt = Date.parse(draft.status.createBackoff?.retryAt ?? '');
    if (retryAt > now) {
      this.wake(retryAt);
      return;
    }
    const next = this.requestedItem(report) ?? this.selectedItem(report);
    if (next === undefined) return;
    const id = this.newRunId();
    const name = podName(group.metadata?.name ?? '', next.item, id);
    if (draft.status.createBackoff?.retryAt !== undefined && this.snapshot.type !== undefined) {
      // Backing off: a dry run first, so a refusal burns no item (nor the request).
      const rendered = renderPod({ type: this.snapshot.type, group, item: next.item, runId: id, restrictions: this.settings.podRestrictions });
      if (rendered.ok) this.checks.push({ kind: 'create-admitted', pod: rendered.pod });
    }
    this.claimed = draft.claim({
      id,
      item: next.item,
      podName: name,
      claimedAt: iso(now),
      claimedBy: this.settings.incarnation,
      ...(next.request !== undefined && { trigger: 'RunNow' as const }),
    });
    // The request is handled in the claim's own write: it cannot start a second run, nor be lost.
    if (next.request !== undefined) draft.status.runNow = { handled: next.request.value };
    draft.status.nextEligibleAt = null;
    // The claimer creates the pod as soon as the claim is written (actions follow a successful
    // write only), rather than after reading its claim back: no watch round trip and work-queue
    // wait eat into the create's window.
    this.createPod(this.claimed, now + this.settings.createGraceMs - this.settings.requestTimeoutMs);
  }

  /**
   * The item of a pending run-now request, whatever its eligibility (explicit intent wins over
   * frequency, cool-off, backoff and EachOnce). A request naming no listed item is handled with
   * a Warning and runs nothing.
   */
  private requestedItem(report: GroupSpecReport): { item: string; request: ItemRequest } | undefined {
    const { draft } = this;
    const request = pendingRequest(this.group.metadata?.annotations?.[ANNOTATIONS.runNow], draft.status.runNow?.handled);
    if (request === undefined) return undefined;
    if (report.items.includes(request.item)) return { item: request.item, request };
    this.events.push({ type: 'Warning', reason: 'UnknownItem', message: `run-now ${JSON.stringify(request.item)}: no such item in spec.oaatItems` });
    draft.status.runNow = { handled: request.value };
    return undefined;
  }

  /**
   * The item the selection policy chooses, outside blackout windows; when none may start, notes
   * when one will (`nextEligibleAt`) and wakes just after.
   */
  private selectedItem(report: GroupSpecReport): { item: string; request?: undefined } | undefined {
    const { draft, now, group } = this;
    const windows = this.windows;
    // Inside a window (either kind) nothing starts; the group wakes as it closes.
    const window = startAllowed(windows, now);
    if (window.blockedBy !== undefined) {
      draft.status.nextEligibleAt = window.at === undefined ? null : iso(window.at);
      if (window.at !== undefined) this.wake(window.at + ELIGIBILITY_WAKE_MARGIN_MS);
      return undefined;
    }
    // Items predicted to be still running when the next noRunItem window opens wait until it has closed.
    const input = this.selectionInput(report.items, this.rng);
    const crossing = this.crossing(windows, input.items, now);
    const selection = selectItem(crossing === undefined ? input : { ...input, items: input.items.filter((item) => !crossing.items.has(item)) });
    if (selection.item === undefined) {
      const held = crossing !== undefined && crossing.items.size > 0 ? crossing.opening.closesAt : undefined;
      const next = Math.min(selection.nextEligibleAt ?? Number.POSITIVE_INFINITY, held ?? Number.POSITIVE_INFINITY);
      draft.status.nextEligibleAt = Number.isFinite(next) ? iso(next) : null;
      if (Number.isFinite(next)) this.wake(Math.max(now, next) + ELIGIBILITY_WAKE_MARGIN_MS);
      return undefined;
    }
    if (crossing !== undefined && predictedRuntimeMs(draft.status.items?.[selection.item], predictionRules(group.spec ?? {})) === undefined) {
      this.events.push({
        type: 'Warning',
        reason: 'NoRuntimePrediction',
        message:
          `item ${selection.item} started with no runtime to predict (no successful run, no spec.runtimePrediction.defaultRuntime): ` +
          `it may still run when window ${windowName(group, crossing.opening)} opens at ${iso(crossing.opening.opensAt)}`,
      });
    }
    return { item: selection.item };
  }

  /**
   * The next noRunItem window opening after `at`, and those of `items` whose predicted run
   * (runtime-prediction.ts) from `at` would not end before it opens; undefined without such a
   * window ahead. An item without a prediction is not among them.
   */
  private crossing(windows: readonly CompiledWindow[], items: readonly string[], at: number): { opening: WindowOccurrence; items: ReadonlySet<string> } | undefined {
    const opening = nextWindowOpening(windows, 'noRunItem', at);
    if (opening === undefined) return undefined;
    const rules = predictionRules(this.group.spec ?? {});
    const crossingItems = items.filter((item) => {
      const predicted = predictedRuntimeMs(this.draft.status.items?.[item], rules);
      return predicted !== undefined && at + predicted >= opening.opensAt;
    });
    return { opening, items: new Set(crossingItems) };
  }

  /**
   * Condition Stuck. A PodNotInCache report rests on one process's reads: another process
   * (a second replica) that has not read the pod yet keeps it while the run's pod is still
   * missing from its cache, so two replicas never flap the condition.
   */
  private reportStuck(): void {
    const { draft, now } = this;
    const current = draft.condition('Stuck');
    if (this.stuck !== undefined) {
      const { reason, message } = this.stuck;
      if (draft.setCondition({ type: 'Stuck', status: 'True', reason, message }, now)) this.events.push({ type: 'Warning', reason, message });
    } else if (current?.status === 'True' && current.reason === 'PodNotInCache' && this.runPodMissing) {
      return;
    } else if (current !== undefined) {
      draft.setCondition({ type: 'Stuck', status: 'False', reason: 'NotStuck', message: 'no pod is stuck' }, now);
    }
  }

  /**
   * History of items no longer listed is removed once it is older than the retention period
   * (only when the status is written anyway: time alone never causes a write), and at once,
   * oldest first, when the map would outgrow its bound. Nothing is removed while the item list
   * itself is invalid.
   */
  private pruneItems(report: GroupSpecReport): void {
    const { draft, now } = this;
    if (report.errors.length > 0) return;
    // A result recorded in this very write is kept, whatever its item: it must be seen once.
    const listed = new Set([...report.items, draft.currentRun?.item, ...draft.closed.map((closed) => closed.run.item)]);
    const activity = (name: string): number => {
      const item = draft.status.items?.[name];
      return Math.max(lastResultAt(item), Date.parse(item?.last_started ?? '') || 0);
    };
    const stale = Object.keys(draft.status.items ?? {}).filter((name) => !listed.has(name)).sort((a, b) => activity(a) - activity(b));
    if (stale.length === 0) return;
    const keys = Object.keys(draft.status.items ?? {}).length;
    const excess = Math.max(0, keys - (this.settings.statusItemsLimit - 1));
    const writing = draft.patch() !== undefined;
    stale.forEach((name, index) => {
      if (index < excess || (writing && activity(name) + this.settings.staleItemRetentionMs < now)) draft.forgetItem(name);
    });
  }

  private newRunId(): string {
    let id = '';
    for (let i = 0; i < 8; i++) id += RUN_ID_ALPHABET.charAt(randomIndex(this.rng, RUN_ID_ALPHABET.length));
    return id;
  }
}
