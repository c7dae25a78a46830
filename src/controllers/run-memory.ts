/**
 * What this process knows about open runs beyond what the caches show, by the pod name of
 * each run (names are unique per run): when it first read the claim, the last state it saw of
 * the run's pod (from the cache, a create answer or a live read, kept after the pod vanished,
 * so a pod removed right after it ended still tells how it ended), what became of the create
 * when this process claimed the run, and how often a live read found a pod the cache did not
 * show. It also holds refused dry-run creates until the group's next plan.
 *
 * A process that restarts starts with an empty memory: that is what makes a restarted process
 * "another process" to the run protocol (it never creates the pod of a claim it finds).
 * Entries go when their run is closed; entries of claims whose write never committed, and of
 * runs closed by another process, are dropped after {@link RunMemory.maxAgeMs} of silence.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { CurrentRun } from '../api/v1/types.ts';
import type { CreateState, RunKnowledge } from '../services/group-planner.ts';
import { isTerminal } from '../services/pod-outcome.ts';

interface Entry {
  /** When a reconcile first read the claim; undefined for runs known only from their pod. */
  firstSeenAt?: number;
  touchedAt: number;
  lastSeen?: V1Pod;
  /** When this process first saw the run's pod ended (terminal). */
  endedSeenAt?: number;
  create?: CreateState;
  polls: number;
  /** When the last live read found the pod (while the cache did not show it). */
  polledAt?: number;
  gone?: boolean;
}

export class RunMemory {
  private readonly runs = new Map<string, Entry>();
  private readonly probeRefusals = new Map<string, string>();
  private prunedAt = 0;

  /** @param maxAgeMs entries untouched this long are forgotten */
  constructor(readonly maxAgeMs: number) {}

  /**
   * What is known of `run` (first read now, if never before), with `cached` — the run's pod
   * as the cache shows it, if it does — as its latest sighting.
   */
  knowledge(namespace: string, run: CurrentRun, cached: V1Pod | undefined, now: number): RunKnowledge {
    this.prune(now);
    const entry = this.entry(namespace, run.podName, now);
    if (cached !== undefined) seen(entry, cached, now);
    entry.touchedAt = now;
    entry.firstSeenAt ??= now;
    return {
      firstSeenAt: entry.firstSeenAt,
      polls: entry.polls,
      ...(entry.polledAt !== undefined && { polledAt: entry.polledAt }),
      ...(entry.lastSeen && { lastSeen: entry.lastSeen }),
      ...(entry.create && { create: entry.create }),
      ...(entry.gone === true && { gone: true }),
    };
  }

  /** This process is about to write the claim `run`: it alone may create its pod. */
  claimed(namespace: string, run: CurrentRun, now: number): void {
    this.entry(namespace, run.podName, now).create = { state: 'pending' };
  }

  /** What became of the create of the run whose pod is `name`; `pod`: the create's answer. */
  created(namespace: string, name: string, create: CreateState, now: number, pod?: V1Pod): void {
    const entry = this.entry(namespace, name, now);
    entry.create = create;
    if (pod !== undefined) seen(entry, pod, now);
  }

  /** A live read found the run's pod while the cache did not show it. */
  polled(namespace: string, pod: V1Pod, now: number): void {
    const entry = this.entry(namespace, pod.metadata?.name ?? '', now);
    seen(entry, pod, now);
    entry.polls += 1;
    entry.polledAt = now;
  }

  /** A live read of the run's pod answered 404. */
  gone(namespace: string, name: string, now: number): void {
    this.entry(namespace, name, now).gone = true;
  }

  /**
   * A pod changed in the cache: remembered when it is the pod of a known run, or of a run its
   * group claims as the caches show it (`claimed`; so a standby, which reconciles nothing, still
   * knows how a run's pod ended when it takes over after the pod was removed).
   */
  saw(pod: V1Pod, claimed: boolean, now: number): void {
    const key = `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
    let entry = this.runs.get(key);
    if (entry === undefined && claimed) this.runs.set(key, (entry = { touchedAt: now, polls: 0 }));
    if (entry !== undefined && (entry.lastSeen === undefined || entry.lastSeen.metadata?.uid === pod.metadata?.uid)) seen(entry, pod, now);
  }

  /**
   * The run of this pod was closed (the write succeeded): forgotten. Returns when this process
   * first saw the pod ended, if it did.
   */
  closed(namespace: string, name: string): number | undefined {
    const key = `${namespace}/${name}`;
    const endedSeenAt = this.runs.get(key)?.endedSeenAt;
    this.runs.delete(key);
    return endedSeenAt;
  }

  /**
   * A dry-run create for the group `key` was refused: plans of the group see it
   * ({@link probeRefusal}) until a status write took it in ({@link probeRefusalWritten}).
   */
  probeRefused(key: string, message: string): void {
    this.probeRefusals.set(key, message);
  }

  probeRefusal(key: string): string | undefined {
    return this.probeRefusals.get(key);
  }

  probeRefusalWritten(key: string): void {
    this.probeRefusals.delete(key);
  }

  private entry(namespace: string, name: string, now: number): Entry {
    const key = `${namespace}/${name}`;
    let entry = this.runs.get(key);
    if (entry === undefined) this.runs.set(key, (entry = { touchedAt: now, polls: 0 }));
    return entry;
  }

  private prune(now: number): void {
    if (now - this.prunedAt < this.maxAgeMs / 10) return;
    this.prunedAt = now;
    for (const [key, entry] of this.runs) if (now - entry.touchedAt > this.maxAgeMs) this.runs.delete(key);
  }
}

/** `pod` is the latest sighting of the entry's run pod; the first one showing it ended is timed. */
function seen(entry: Entry, pod: V1Pod, now: number): void {
  entry.lastSeen = pod;
  if (entry.endedSeenAt === undefined && isTerminal(pod)) entry.endedSeenAt = now;
}
