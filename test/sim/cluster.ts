/**
 * The parts of a cluster besides the API server that act on pods: a kubelet (starts pods,
 * ends them with exit codes after a run time, honours activeDeadlineSeconds, terminates
 * deleted pods within their grace period and reports a terminal phase before removing them,
 * stamps times with its own, possibly skewed, clock) and the garbage collector (deletes pods
 * whose controller owner is gone).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { timestamp, type SimApiServer } from './api-server.ts';
import type { EventLoop } from './event-loop.ts';

export interface KubeletBehaviour {
  /** Kubelet clock minus the server's (ms). */
  skewMs: number;
  /** Chance that a pod never starts (stays Pending). */
  neverStarts: number;
  /** Chance that a run succeeds. */
  succeeds: number;
  /** Run time range (ms). */
  runMs: readonly [number, number];
  /** How a deleted running pod stops: at once or after its whole grace period (`random`: either). */
  termination?: 'random' | 'full-grace';
}

function controllerUid(pod: V1Pod): string | undefined {
  return pod.metadata?.ownerReferences?.find((ref) => ref.controller === true)?.uid;
}

export class Kubelet {
  /** Pods whose termination has begun (by uid). */
  private readonly terminating = new Set<string>();

  constructor(
    private readonly loop: EventLoop,
    private readonly server: SimApiServer,
    readonly behaviour: KubeletBehaviour,
  ) {
    server.watch((change) => {
      if (change.kind !== 'Pod') return;
      const pod = change.object as V1Pod;
      if (change.type === 'ADDED') this.admit(pod);
      else if (change.type === 'MODIFIED' && pod.metadata?.deletionTimestamp !== undefined) this.terminate(pod);
    });
  }

  private stamp(): Date {
    return timestamp(this.loop.now() + this.behaviour.skewMs);
  }

  private admit(pod: V1Pod): void {
    const { loop } = this;
    if (loop.chance(this.behaviour.neverStarts)) return;
    const uid = pod.metadata?.uid;
    const name = pod.metadata?.name ?? '';
    const namespace = pod.metadata?.namespace ?? '';
    loop.schedule(loop.uniform(100, 2_000), `kubelet: start ${name}`, () => {
      let startedAt: Date | undefined;
      this.update(namespace, name, uid, (p) => {
        if (p.status?.phase !== 'Pending' || p.metadata?.deletionTimestamp !== undefined) return false;
        startedAt = this.stamp();
        p.status = {
          phase: 'Running',
          startTime: startedAt,
          conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: startedAt }],
          containerStatuses: [{ name: 'main', image: 'x', imageID: '', ready: true, restartCount: 0, state: { running: { startedAt } } }],
        };
        return true;
      });
      if (startedAt === undefined) return;
      const runMs = loop.uniform(...this.behaviour.runMs);
      const deadlineMs = (pod.spec?.activeDeadlineSeconds ?? Infinity) * 1000;
      if (deadlineMs < runMs) {
        loop.schedule(deadlineMs, `kubelet: deadline of ${name}`, () => { this.finish(namespace, name, uid, 'Failed', 137, 'DeadlineExceeded'); });
      } else {
        const ok = loop.chance(this.behaviour.succeeds);
        const code = ok ? 0 : loop.pick([1, 2, 3]);
        loop.schedule(runMs, `kubelet: ${name} exits ${String(code)}`, () => { this.finish(namespace, name, uid, ok ? 'Succeeded' : 'Failed', code); });
      }
    });
  }

  private terminate(pod: V1Pod): void {
    const { loop } = this;
    const uid = pod.metadata?.uid;
    if (uid === undefined || this.terminating.has(uid)) return;
    this.terminating.add(uid);
    const name = pod.metadata?.name ?? '';
    const namespace = pod.metadata?.namespace ?? '';
    const live = pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
    const graceMs = (pod.metadata?.deletionGracePeriodSeconds ?? 30) * 1000;
    const quick = (): boolean => this.behaviour.termination !== 'full-grace' && loop.chance(0.5);
    const stopMs = !live ? 0 : quick() ? loop.uniform(100, 2_000) : graceMs;
    loop.schedule(stopMs, live ? `kubelet: stop ${name}` : '', () => {
      if (live) this.finish(namespace, name, uid, 'Failed', 143, 'Error');
      loop.schedule(loop.uniform(50, 500), `kubelet: remove ${name}`, () => {
        const current = this.server.peek('Pod', namespace, name);
        if (current?.metadata?.uid === uid) this.server.remove('Pod', namespace, name);
      });
    });
  }

  private finish(namespace: string, name: string, uid: string | undefined, phase: 'Succeeded' | 'Failed', exitCode: number, podReason?: string): void {
    this.update(namespace, name, uid, (p) => {
      if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') return false;
      const finishedAt = this.stamp();
      const startedAt = p.status?.containerStatuses?.[0]?.state?.running?.startedAt ?? finishedAt;
      const running = p.status?.phase === 'Running';
      p.status = {
        ...(p.status?.startTime !== undefined && { startTime: p.status.startTime }),
        phase,
        ...(podReason === 'DeadlineExceeded' && { reason: 'DeadlineExceeded' }),
        conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: finishedAt }],
        containerStatuses: running
          ? [{ name: 'main', image: 'x', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt, finishedAt } } }]
          : (p.status?.containerStatuses ?? []),
      };
      return true;
    });
  }

  /** Applies a status change to the pod if it is still the same pod (uid). */
  private update(namespace: string, name: string, uid: string | undefined, change: (pod: V1Pod) => boolean): void {
    const current = this.server.peek('Pod', namespace, name);
    if (current?.metadata?.uid !== uid) return;
    this.server.updateStatus('Pod', namespace, name, (object) => {
      if (!change(object)) Object.assign(object, current);
    });
  }
}

/** Deletes pods whose controller owner no longer exists (background propagation). */
export class GarbageCollector {
  constructor(
    private readonly loop: EventLoop,
    private readonly server: SimApiServer,
  ) {
    server.watch((change) => {
      if (change.kind === 'OaatGroup' && change.type === 'DELETED') {
        const uid = change.object.metadata?.uid;
        for (const pod of server.list('Pod') as V1Pod[]) if (controllerUid(pod) === uid) this.collect(pod);
      } else if (change.kind === 'Pod' && change.type === 'ADDED') {
        const pod = change.object as V1Pod;
        const owner = controllerUid(pod);
        if (owner !== undefined && !server.exists('OaatGroup', owner)) this.collect(pod);
      }
    });
  }

  private collect(pod: V1Pod): void {
    const name = pod.metadata?.name ?? '';
    const namespace = pod.metadata?.namespace ?? '';
    const uid = pod.metadata?.uid;
    this.loop.schedule(this.loop.uniform(100, 3_000), `gc: delete ${name}`, () => {
      try {
        this.server.delete('Pod', namespace, name, uid === undefined ? {} : { uid });
      } catch {
        // gone or replaced: nothing to collect
      }
    });
  }
}

/** The group a pod was created for (its controller owner), or undefined. */
export function ownerUid(pod: V1Pod): string | undefined {
  return controllerUid(pod);
}
