/**
 * What a chaos run works on: one T2 control plane with kube-apiserver's audit log (started once
 * per run), the operator as the chart runs it (its ServiceAccount and RBAC, one or two
 * replicas from `dist/`, each behind a fault proxy of its own), and the pods' behaviour (KWOK
 * for most pods; the harness itself as the kubelet of a second node, whose clock is skewed).
 */
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoordinationV1Api, Watch, type V1Pod } from '@kubernetes/client-node';
import { seededRng, type Rng } from '../../src/services/rng.ts';
import { ChildProgram } from '../support/child-program.ts';
import { apiStatus, loadManifests, TEST_FIELD_MANAGER, TestCluster } from '../support/cluster.ts';
import { REPO_ROOT, startControlPlane, stopControlPlane, type ControlPlaneInfo } from '../support/control-plane.ts';
import { FaultProxy } from '../support/fault-proxy.ts';
import { installOaatCrds } from '../support/oaat.ts';
import { MERGE_PATCH, SIM } from '../support/pods.ts';
import { waitUntil } from '../support/wait.ts';
import type { EpisodePlan } from './plan.ts';
import type { Profile } from './profiles.ts';

/** Where the chart installs the operator (config/rbac is rendered for this namespace). */
export const OPERATOR_NAMESPACE = 'oaat-system';
/** The chart's ServiceAccount and Lease name. */
export const OPERATOR_ACCOUNT = 'oaat-operator';
export const OPERATOR_USER = `system:serviceaccount:${OPERATOR_NAMESPACE}:${OPERATOR_ACCOUNT}`;
/**
 * The operator's entry point: the build (`dist/main.js`), or OPERATOR_MAIN (a deliberately
 * broken build, to see the oracle catch it).
 */
export const OPERATOR_MAIN = process.env.OPERATOR_MAIN === undefined || process.env.OPERATOR_MAIN === '' ? path.join(REPO_ROOT, 'dist', 'main.js') : path.resolve(process.env.OPERATOR_MAIN);
/** The node whose kubelet the harness plays (KWOK leaves it alone: it lacks KWOK's annotation). */
export const HARNESS_NODE = 'chaos-harness-node';


/** A small, stable hash of a string (FNV-1a), to seed per-pod decisions. */
export function hashOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

/** The control plane of a chaos run and the operator's identity on it. */
export class ChaosCluster {
  /** Resolves when etcd runs: at once, unless {@link pauseEtcd} has stopped it. */
  private etcdRunning: Promise<void> = Promise.resolve();

  private constructor(
    readonly stateDir: string,
    readonly info: ControlPlaneInfo,
    readonly cluster: TestCluster,
    /** A bearer token of the operator's ServiceAccount. */
    readonly operatorToken: string,
  ) {}

  static async start(stateDir: string, profile: Profile): Promise<ChaosCluster> {
    const info = startControlPlane({
      stateDir,
      tier: 'T2',
      ownerPid: process.pid,
      audit: true,
      requestTimeout: `${String(profile.serverRequestTimeoutMs / 1000)}s`,
      nodePods: 1000,
    });
    const cluster = new TestCluster(info);
    await installOaatCrds(cluster);
    await cluster.core.createNamespace({ body: { metadata: { name: OPERATOR_NAMESPACE } } });
    await cluster.apply(loadManifests({ file: path.join(REPO_ROOT, 'config', 'rbac', 'rbac.yaml') }));
    const request = await cluster.core.createNamespacedServiceAccountToken({
      name: OPERATOR_ACCOUNT,
      namespace: OPERATOR_NAMESPACE,
      body: { spec: { audiences: [], expirationSeconds: 7 * 24 * 3600 } },
    });
    await cluster.core.createNode({ body: { metadata: { name: HARNESS_NODE, labels: { 'chaos.oaat.test/node': 'harness' } } } });
    return new ChaosCluster(stateDir, info, cluster, request.status?.token ?? '');
  }

  /**
   * SIGKILLs kube-apiserver and starts it again on the same port (hack/control-plane.sh), once
   * etcd is not paused: a kube-apiserver started while etcd is stopped gives up after 20 s and
   * exits, and this plane has no kubelet to start it again (seed 9106 lost its plane so).
   */
  async restartApiserver(): Promise<void> {
    await this.etcdRunning;
    const result = spawnSync('bash', [path.join(REPO_ROOT, 'hack', 'control-plane.sh'), 'restart-apiserver'], {
      env: { ...process.env, CP_STATE_DIR: this.stateDir },
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new Error(`restarting kube-apiserver failed: ${result.stderr}`);
  }

  /** Stops etcd (SIGSTOP) for `ms`, then lets it go on (SIGCONT). */
  async pauseEtcd(ms: number): Promise<void> {
    const pid = Number(readFileSync(path.join(this.stateDir, 'etcd.pid'), 'utf8').split(' ')[0]);
    let resumed = (): void => undefined;
    this.etcdRunning = new Promise((resolve) => {
      resumed = resolve;
    });
    process.kill(pid, 'SIGSTOP');
    try {
      await sleep(ms);
    } finally {
      process.kill(pid, 'SIGCONT');
      resumed();
    }
  }

  /** The operator Lease's holder now, or undefined. */
  async leaseHolder(): Promise<string | undefined> {
    const lease = await this.cluster.kubeConfig
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name: OPERATOR_ACCOUNT, namespace: OPERATOR_NAMESPACE })
      .catch(() => undefined);
    return lease?.spec?.holderIdentity ?? undefined;
  }

  /**
   * Gives the Lease to a holder that does not exist (a forced lease loss), fresh for `seconds`;
   * retried for a while, as kube-apiserver may be restarting (another fault).
   */
  async stealLease(seconds: number): Promise<void> {
    const leases = this.cluster.kubeConfig.makeApiClient(CoordinationV1Api);
    const steal = (): Promise<unknown> =>
      leases.patchNamespacedLease(
        {
          name: OPERATOR_ACCOUNT,
          namespace: OPERATOR_NAMESPACE,
          // A MicroTime: RFC 3339 with exactly six fractional digits.
          body: { spec: { holderIdentity: 'chaos-intruder', renewTime: new Date().toISOString().replace('Z', '000Z'), leaseDurationSeconds: seconds } },
          fieldManager: TEST_FIELD_MANAGER,
        },
        MERGE_PATCH,
      );
    await waitUntil(
      () => steal().then(() => true, (error: unknown) => { if (apiStatus(error) === 422) throw error; return false; }),
      (done) => done,
      { what: 'the Lease to be stolen', timeoutMs: 20_000, intervalMs: 250 },
    );
  }

  /** Deletes the Lease (between episodes, so the next starts without a holder). */
  async deleteLease(): Promise<void> {
    await this.cluster.kubeConfig
      .makeApiClient(CoordinationV1Api)
      .deleteNamespacedLease({ name: OPERATOR_ACCOUNT, namespace: OPERATOR_NAMESPACE })
      .catch(() => undefined);
  }

  stop(keepLogs: boolean): void {
    if (keepLogs) process.env.CP_KEEP_LOGS = '1';
    stopControlPlane(this.stateDir);
  }
}

/** How a replica exited without being asked to: its exit and its last log lines. */
export interface UnaskedExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Its output since it was last started. */
  output: string;
  lastLines: string[];
}

/**
 * One operator process from `dist/`, behind its own fault proxy. Like a Deployment's pod, it
 * is started again when it exits without being asked to (2 s later); `onExit` hears of it.
 */
export class Replica {
  /** The harness stopped it (a fault's kill, the episode's end): not to be restarted by itself. */
  private down = false;

  private constructor(
    readonly name: string,
    readonly proxy: FaultProxy,
    readonly program: ChildProgram,
    private readonly onExit: (replica: Replica, exit: UnaskedExit) => void,
  ) {}

  static async start(world: ChaosCluster, name: string, env: Record<string, string>, kubeconfigFile: string, onExit: (replica: Replica, exit: UnaskedExit) => void): Promise<Replica> {
    const proxy = await FaultProxy.start(world.info, { seed: hashOf(name) });
    await proxy.writeKubeconfig(world.operatorToken, kubeconfigFile);
    const program = new ChildProgram({
      name,
      command: process.execPath,
      args: [OPERATOR_MAIN],
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        KUBECONFIG: kubeconfigFile,
        OAAT_LOG_FORMAT: 'json',
        OAAT_LOG_LEVEL: 'debug',
        OAAT_HTTP_ADDRESS: '127.0.0.1:0',
        OAAT_LEADER_ELECT: 'true',
        OAAT_LEASE_NAMESPACE: OPERATOR_NAMESPACE,
        OAAT_LEASE_NAME: OPERATOR_ACCOUNT,
        ...env,
      },
    });
    const replica = new Replica(name, proxy, program, onExit);
    replica.run();
    return replica;
  }

  private run(): void {
    this.down = false;
    this.program.start();
    void this.program.exited().then(async ({ code, signal }) => {
      if (this.down) return;
      const all = this.program.output();
      const output = all.slice(all.lastIndexOf(`--- ${this.name} start #${String(this.program.starts)} ---`));
      this.onExit(this, { code, signal, output, lastLines: output.split('\n').slice(-6) });
      await sleep(2_000);
      this.restartUnlessDown();
    });
  }

  private restartUnlessDown(): void {
    if (!this.down && !this.program.isRunning) this.run();
  }

  /** kill -9; it stays down until {@link ensureRunning}. */
  async kill(): Promise<void> {
    this.down = true;
    await this.program.kill('SIGKILL');
  }

  /** Starts it again if it is not running. */
  ensureRunning(): void {
    if (!this.program.isRunning) this.run();
  }

  /** Whether this process (its current start) holds or held `identity` (its log says so). */
  isIdentity(identity: string): boolean {
    const marker = `--- ${this.name} start #${String(this.program.starts)} ---`;
    const output = this.program.output();
    return output.slice(output.lastIndexOf(marker)).includes(`"identity":"${identity}"`);
  }

  async stop(): Promise<void> {
    this.down = true;
    await this.program.kill('SIGTERM', 10_000);
    this.proxy.heal();
    this.proxy.dropHeld();
    await this.proxy.stop();
  }
}

/** How one item pod ends: after `runMs`, with `exitCode` (0 = success). */
interface PodFate {
  runMs: number;
  exitCode: number;
  /** After a graceful delete, the pod takes this long to stop (bounded by its grace period). */
  terminateMs: number;
}

/**
 * Makes the item pods of an episode behave: each new pod gets a fate drawn from the episode's
 * seed and its name (so a re-run gives its pods the same fates). Pods on the KWOK node are told
 * their fate through KWOK's annotations; pods on {@link HARNESS_NODE} are run by this class as
 * a kubelet whose clock is off by the type's skew: Running, then Succeeded or Failed with
 * skewed timestamps, and a graceful delete honoured (terminal status, then removal).
 */
export class PodDriver {
  private readonly seen = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private abort: AbortController | undefined;
  /** Pod uid -> when it was first seen (for recovery times). */
  readonly createdAt = new Map<string, { time: number; namespace: string; name: string }>();

  constructor(
    private readonly world: ChaosCluster,
    private readonly plan: EpisodePlan,
    private readonly profile: Profile,
    private readonly namespaces: ReadonlySet<string>,
    /** A group's pods: the share that fail, and the clock skew of their kubelet (harness node). */
    private readonly podsOf: (namespace: string, group: string) => { failRate: number; skewMs: number },
  ) {}

  async start(): Promise<void> {
    const watch = new Watch(this.world.cluster.kubeConfig);
    const follow = async (): Promise<void> => {
      if (this.stopped) return;
      this.abort = await watch
        .watch(
          '/api/v1/pods',
          { labelSelector: 'app=oaat-operator' },
          (type: string, pod: V1Pod) => {
            if (type !== 'DELETED') this.onPod(pod);
          },
          () => {
            if (!this.stopped) setTimeout(() => void follow(), 300);
          },
        )
        .catch(() => {
          if (!this.stopped) setTimeout(() => void follow(), 500);
          return undefined;
        });
    };
    await follow();
  }

  private stopped = false;

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
    for (const timer of this.timers) clearTimeout(timer);
  }

  /**
   * Runs `action` after `ms`, and again every half second while it fails for a reason other
   * than the pod being gone or changed (404, 409, 422): a fate must reach its pod through
   * kube-apiserver restarts, or the pod would run for ever.
   */
  private later(ms: number, action: () => Promise<unknown>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void action().catch((error: unknown) => {
        const status = apiStatus(error);
        if (!this.stopped && status !== 404 && status !== 409 && status !== 422) this.later(500, action);
      });
    }, ms);
    this.timers.add(timer);
  }

  private fateOf(pod: V1Pod, rng: Rng): PodFate {
    const namespace = pod.metadata?.namespace ?? '';
    const { failRate } = this.podsOf(namespace, pod.metadata?.labels?.['parent-name'] ?? '');
    const [min, max] = this.profile.podRunMs;
    const grace = pod.spec?.terminationGracePeriodSeconds ?? 30;
    return {
      runMs: Math.round(min + rng.next() * (max - min)),
      exitCode: rng.next() < failRate ? 1 + Math.floor(rng.next() * 254) : 0,
      terminateMs: Math.round(rng.next() * Math.min(grace, this.profile.maxGraceSeconds) * 1000),
    };
  }

  private onPod(pod: V1Pod): void {
    const namespace = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    const uid = pod.metadata?.uid ?? '';
    if (!this.namespaces.has(namespace)) return;
    if (!this.createdAt.has(uid)) this.createdAt.set(uid, { time: Date.now(), namespace, name });
    if (pod.spec?.nodeName === HARNESS_NODE) {
      this.drive(pod);
      return;
    }
    if (this.seen.has(uid) || pod.metadata?.annotations?.[SIM.outcome] !== undefined || pod.spec?.nodeName !== this.world.info.node) return;
    this.seen.add(uid);
    const fate = this.fateOf(pod, seededRng(hashOf(`${String(this.plan.seed)}/${name}`)));
    const annotations: Record<string, string> = {
      [SIM.outcome]: fate.exitCode === 0 ? 'succeed' : 'fail',
      [SIM.after]: `${String(fate.runMs)}ms`,
      [SIM.terminateAfter]: `${String(fate.terminateMs)}ms`,
      ...(fate.exitCode !== 0 && { [SIM.exitCode]: String(fate.exitCode) }),
    };
    this.later(0, () => this.world.cluster.core.patchNamespacedPod({ name, namespace, body: { metadata: { annotations } }, fieldManager: TEST_FIELD_MANAGER }, MERGE_PATCH));
  }

  /** The harness node's kubelet, for one pod event. */
  private drive(pod: V1Pod): void {
    const namespace = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    const uid = pod.metadata?.uid ?? '';
    const skew = this.podsOf(namespace, pod.metadata?.labels?.['parent-name'] ?? '').skewMs;
    const fate = this.fateOf(pod, seededRng(hashOf(`${String(this.plan.seed)}/${name}`)));
    const clock = (): string => new Date(Date.now() + skew).toISOString();
    const core = this.world.cluster.core;
    const writeStatus = (status: Record<string, unknown>): Promise<unknown> =>
      core.patchNamespacedPodStatus({ name, namespace, body: { status }, fieldManager: TEST_FIELD_MANAGER }, MERGE_PATCH);
    const terminated = (exitCode: number): Record<string, unknown> => ({
      phase: exitCode === 0 ? 'Succeeded' : 'Failed',
      containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
        name: c.name,
        image: c.image ?? '',
        imageID: '',
        ready: false,
        restartCount: 0,
        state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt: pod.status?.startTime ?? clock(), finishedAt: clock() } },
      })),
    });
    const key = (step: string): string => `${uid}/${step}`;
    const once = (step: string): boolean => {
      if (this.seen.has(key(step))) return false;
      this.seen.add(key(step));
      return true;
    };
    const phase = pod.status?.phase ?? 'Pending';
    if (pod.metadata?.deletionTimestamp !== undefined) {
      if (!once('delete')) return;
      const grace = (pod.metadata.deletionGracePeriodSeconds ?? 0) * 1000;
      this.later(Math.min(fate.terminateMs, grace), async () => {
        if (phase !== 'Succeeded' && phase !== 'Failed') await writeStatus(terminated(143));
        await core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0, body: { preconditions: { uid } } });
      });
      return;
    }
    if (phase === 'Pending' && once('run')) {
      const now = clock();
      this.later(0, () => writeStatus({
        phase: 'Running',
        startTime: now,
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }],
        containerStatuses: (pod.spec?.containers ?? []).map((c) => ({ name: c.name, image: c.image ?? '', imageID: '', ready: true, started: true, restartCount: 0, state: { running: { startedAt: now } } })),
      }));
      this.later(fate.runMs, () => writeStatus(terminated(fate.exitCode)));
    }
  }
}
