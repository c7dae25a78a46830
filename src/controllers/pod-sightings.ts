/**
 * The last state this process saw of the pod of each open run, by namespace/name, including
 * the final state of a pod that has since been removed. The run protocol needs both: a run's
 * pod is created only if it was never observed (a pod that existed and is gone must not be
 * created again), and a pod removed right after it ended (a kubelet reports the terminal
 * phase, then removes the pod) still tells how it ended.
 *
 * Only tracked pods are remembered: the reconciler tracks the pod of each run it reads, and
 * forgets it when it closes the run, so memory stays bounded by the number of open runs.
 * A closed run's pod is remembered as closed for a while longer: until the cache has caught up
 * with the close, a stale read still shows the run claimed, and its pod must not be created
 * again.
 */
import type { V1Pod } from '@kubernetes/client-node';

function key(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? ''}/${name ?? ''}`;
}

export class PodSightings {
  private readonly tracked = new Map<string, V1Pod | undefined>();
  /** Pods of closed runs -> when they were closed (epoch ms), oldest first. */
  private readonly closed = new Map<string, number>();

  /** @param closedMemoryMs how long a closed run's pod is remembered as closed */
  constructor(private readonly closedMemoryMs: number) {}

  /** Starts remembering a run's pod, with its current cached state if it has one. */
  track(namespace: string, name: string, current: V1Pod | undefined): void {
    const id = key(namespace, name);
    // A pod absent from the cache keeps the last state seen of it.
    if (current !== undefined || !this.tracked.has(id)) this.tracked.set(id, current);
  }

  /** Called for every pod event; remembers tracked pods only. */
  saw(pod: V1Pod): void {
    const id = key(pod.metadata?.namespace, pod.metadata?.name);
    if (this.tracked.has(id)) this.tracked.set(id, pod);
  }

  /** The last state seen of a tracked pod, if it was ever seen. */
  last(namespace: string, name: string): V1Pod | undefined {
    return this.tracked.get(key(namespace, name));
  }

  /** The run of this pod was closed at `now`: stop tracking it, remember it as closed. */
  closedRun(namespace: string, name: string, now: number): void {
    const id = key(namespace, name);
    this.tracked.delete(id);
    this.closed.delete(id);
    this.closed.set(id, now);
    for (const [old, at] of this.closed) {
      if (now - at <= this.closedMemoryMs) break;
      this.closed.delete(old);
    }
  }

  /** Whether the pod's run was closed recently (its pod must never be created again). */
  wasClosed(namespace: string, name: string): boolean {
    return this.closed.has(key(namespace, name));
  }
}
