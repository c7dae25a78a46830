/**
 * What an item pod says about its run: whether it is still live, and once it is terminal, the
 * outcome, exit code, reason and times to record. Pure: reads the Pod object only.
 *
 * Live means the phase is not Succeeded or Failed: Pending, Running, Unknown and Terminating
 * pods are all live (the Job controller's `podReplacementPolicy: Failed`), so a run is never
 * closed, and the next never claimed, while its pod may still be running.
 */
import type { V1Pod } from '@kubernetes/client-node';

export interface TerminalPod {
  outcome: 'Succeeded' | 'Failed';
  /** The first container's exit code, when it terminated. */
  exitCode?: number;
  /** The container's termination reason (e.g. `Error`, `OOMKilled`), else the pod's. */
  reason?: string;
  /** Epoch ms: the container's finishedAt, else the time the pod stopped being ready, else its deletion time. */
  finishedAt?: number;
  /** Epoch ms: the container's startedAt, when known. */
  startedAt?: number;
}

export function isTerminal(pod: V1Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

export function isLive(pod: V1Pod): boolean {
  return !isTerminal(pod);
}

/**
 * Epoch ms of a timestamp field. Objects from the caches are plain JSON, so their timestamps
 * are strings even where client-node's types say Date; both are accepted.
 */
export function epochMs(value: Date | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * When the pod's deletion was asked for (epoch ms): `deletionTimestamp` is when the grace
 * period ends, so the request came `deletionGracePeriodSeconds` earlier. Undefined when the pod
 * is not being deleted.
 */
export function deletionRequestedAt(pod: V1Pod): number | undefined {
  const end = epochMs(pod.metadata?.deletionTimestamp);
  return end === undefined ? undefined : end - (pod.metadata?.deletionGracePeriodSeconds ?? 0) * 1000;
}

/** When the pod started running (epoch ms), if it did. */
export function startedAt(pod: V1Pod): number | undefined {
  return epochMs(pod.status?.startTime);
}

/** The outcome of a terminal pod (undefined while it is live). */
export function terminalPod(pod: V1Pod): TerminalPod | undefined {
  if (!isTerminal(pod)) return undefined;
  const terminated = pod.status?.containerStatuses?.find((status) => status.state?.terminated !== undefined)?.state?.terminated;
  const stopped = pod.status?.conditions?.find((c) => c.type === 'DisruptionTarget' && c.status === 'True') ??
    pod.status?.conditions?.find((c) => c.type === 'Ready' && c.status !== 'True');
  const finishedAt = epochMs(terminated?.finishedAt) ?? epochMs(stopped?.lastTransitionTime) ?? epochMs(pod.metadata?.deletionTimestamp);
  const startedAt = epochMs(terminated?.startedAt);
  const reason = terminated?.reason ?? pod.status?.reason;
  return {
    outcome: pod.status?.phase === 'Succeeded' ? 'Succeeded' : 'Failed',
    ...(terminated !== undefined && { exitCode: terminated.exitCode }),
    ...(reason !== undefined && { reason }),
    ...(finishedAt !== undefined && { finishedAt }),
    ...(startedAt !== undefined && { startedAt }),
  };
}
