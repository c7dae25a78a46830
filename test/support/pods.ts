/**
 * Pods in tests: manifests for pods the harness controls, and the two ways to make a pod end.
 *
 * - T0 (no kubelet, no KWOK): {@link setPodPhase} writes the pod's status through `pods/status`,
 *   as a kubelet would. Use it on pods no node agent manages ({@link unmanagedPod}).
 * - T1 and up: pods bound to the KWOK node go Running by themselves; {@link simulateOutcome}
 *   tells KWOK how and when each one ends (hack/kwok/stages.yaml has the contract).
 */
import { PatchStrategy, setHeaderOptions, type CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { TEST_FIELD_MANAGER } from './cluster.ts';

/** Request options for a JSON merge patch (client-node sends strategic merge otherwise). */
export const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** Annotation keys the KWOK stages read. */
export const SIM = {
  outcome: 'sim.oaat.test/outcome',
  after: 'sim.oaat.test/after',
  exitCode: 'sim.oaat.test/exit-code',
  terminateAfter: 'sim.oaat.test/terminate-after',
  exitCodeOnDelete: 'sim.oaat.test/exit-code-on-delete',
} as const;

export interface PodOptions {
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Bind the pod to this node (skips the scheduler). */
  nodeName?: string;
  /** Constrain scheduling, e.g. to something no node has, so the pod stays Pending. */
  nodeSelector?: Record<string, string>;
}

/** A one-container pod that never pulls a real image (nothing runs it but KWOK or the test). */
export function podManifest(options: PodOptions): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: options.name,
      ...(options.labels && { labels: options.labels }),
      ...(options.annotations && { annotations: options.annotations }),
    },
    spec: {
      restartPolicy: 'Never',
      containers: [{ name: 'main', image: 'oaat.invalid/test:never-pulled', command: ['true'] }],
      ...(options.nodeName !== undefined && { nodeName: options.nodeName }),
      ...(options.nodeSelector && { nodeSelector: options.nodeSelector }),
    },
  };
}

/** A pod no scheduler can place and no node agent touches: its phase is the test's to set. */
export function unmanagedPod(options: Omit<PodOptions, 'nodeName' | 'nodeSelector'>): V1Pod {
  return podManifest({ ...options, nodeSelector: { 'oaat.test/unschedulable': 'true' } });
}

export type SimulatedOutcome =
  | { outcome: 'succeed'; after?: string }
  | { outcome: 'fail'; exitCode?: number; after?: string };

/**
 * Tells KWOK how a Running pod on its node ends: `succeed` (exit code 0) or `fail` (exit code,
 * default 1), after `after` (a Go duration such as "2s", or an RFC 3339 time; default at once).
 */
export async function simulateOutcome(core: CoreV1Api, namespace: string, name: string, how: SimulatedOutcome): Promise<V1Pod> {
  const annotations: Record<string, string> = { [SIM.outcome]: how.outcome };
  if (how.after !== undefined) annotations[SIM.after] = how.after;
  if (how.outcome === 'fail' && how.exitCode !== undefined) annotations[SIM.exitCode] = String(how.exitCode);
  return core.patchNamespacedPod(
    { name, namespace, body: { metadata: { annotations } }, fieldManager: TEST_FIELD_MANAGER },
    MERGE_PATCH,
  );
}

export type DrivenPhase = 'Running' | 'Succeeded' | 'Failed';

/**
 * Writes the pod's status as a kubelet would report `phase` (container running, or terminated
 * with `exitCode`: default 0 for Succeeded, 1 for Failed). For pods no node agent manages.
 */
export async function setPodPhase(
  core: CoreV1Api,
  namespace: string,
  name: string,
  phase: DrivenPhase,
  exitCode?: number,
): Promise<V1Pod> {
  const pod = await core.readNamespacedPod({ name, namespace });
  const now = new Date().toISOString();
  const startedAt = pod.status?.startTime?.toISOString() ?? now;
  const code = exitCode ?? (phase === 'Failed' ? 1 : 0);
  const state =
    phase === 'Running'
      ? { running: { startedAt } }
      : { terminated: { exitCode: code, reason: code === 0 ? 'Completed' : 'Error', startedAt, finishedAt: now } };
  const status = {
    phase,
    startTime: startedAt,
    conditions: [{ type: 'Ready', status: phase === 'Running' ? 'True' : 'False', lastTransitionTime: now }],
    containerStatuses: (pod.spec?.containers ?? []).map((container) => ({
      name: container.name,
      image: container.image,
      imageID: '',
      ready: phase === 'Running',
      started: phase === 'Running',
      restartCount: 0,
      state,
    })),
  };
  return core.patchNamespacedPodStatus({ name, namespace, body: { status }, fieldManager: TEST_FIELD_MANAGER }, MERGE_PATCH);
}

/** Exit code of the pod's first container once it has terminated, else undefined. */
export function exitCodeOf(pod: V1Pod): number | undefined {
  return pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode;
}
