/**
 * The test run's control plane: started once per integration run by global-setup.ts through
 * hack/control-plane.sh, described by the `info.json` that script writes.
 *
 * A suite declares the tier it needs with {@link requireControlPlane}; when the running control
 * plane is of a lower tier (or none runs) the suite fails with a message saying how to run it.
 * It never skips.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** T0 = etcd + kube-apiserver; T1 = T0 + KWOK fake node; T2 = T1 + scheduler + controller-manager. */
export type Tier = 'T0' | 'T1' | 'T2';

const TIER_LEVEL: Record<Tier, number> = { T0: 0, T1: 1, T2: 2 };

export function isTier(value: string): value is Tier {
  return value in TIER_LEVEL;
}

/** What hack/control-plane.sh writes to `info.json` once every component of the tier is ready. */
export interface ControlPlaneInfo {
  tier: Tier;
  kubeconfig: string;
  server: string;
  /** etcd's client URL; empty when the script attached to a cluster it did not start (CP_ATTACH_KUBECONFIG). */
  etcd: string;
  kubernetesVersion: string;
  /** The KWOK-managed node (T1 and up), else null. */
  node: string | null;
  /** Pod capacity of that node (CP_NODE_PODS). */
  nodePods: number;
  binDir: string;
  logDir: string;
  /** kube-apiserver's audit log when the plane was started with CP_AUDIT=1, else null. */
  auditLog: string | null;
  /** The directory of the CA and admin certificates; empty when attached (see {@link ControlPlaneInfo.etcd}). */
  pki: string;
}

/** Environment variable naming the state directory of the run's control plane. */
export const STATE_ENV = 'OAAT_TEST_CP_STATE';

/**
 * The repository: tests and benchmarks run from it (npm scripts start in the package's root).
 * Not derived from this file's location: that needs __dirname under Jest and import.meta
 * under Node's own loader.
 */
export const REPO_ROOT = process.cwd();
if (!existsSync(path.join(REPO_ROOT, 'hack', 'control-plane.sh'))) {
  throw new Error(`run tests and benchmarks from the repository root (the current directory is ${REPO_ROOT})`);
}
const SCRIPT = path.join(REPO_ROOT, 'hack', 'control-plane.sh');

export interface StartOptions {
  stateDir: string;
  tier: Tier;
  /** The control plane stops by itself once this process is gone (an interrupted test run). */
  ownerPid?: number;
  audit?: boolean;
  /** kube-apiserver's --request-timeout as a Go duration (default its own, 1m0s). */
  requestTimeout?: string;
  /** Pod capacity of the KWOK node (default 110). */
  nodePods?: number;
  /** Pods KWOK moves through their stages at once (default KWOK's, 4: about 100 a second here). */
  kwokPodParallelism?: number;
  /** `make run`'s KWOK: pods without an outcome annotation end by themselves (hack/kwok/demo-stages.yaml). */
  kwokDemo?: boolean;
  /**
   * A kubeconfig of a running cluster to attach to instead of starting one (CP_ATTACH_KUBECONFIG):
   * only KWOK and its node are started there; `tier` must be T2.
   */
  attachKubeconfig?: string;
}

/** Starts a control plane and returns its description; throws with the script's message. */
export function startControlPlane(options: StartOptions): ControlPlaneInfo {
  const env: NodeJS.ProcessEnv = { ...process.env, CP_STATE_DIR: options.stateDir, CP_TIER: options.tier };
  if (options.ownerPid !== undefined) env.CP_OWNER_PID = String(options.ownerPid);
  if (options.audit === true) env.CP_AUDIT = '1';
  if (options.requestTimeout !== undefined) env.CP_REQUEST_TIMEOUT = options.requestTimeout;
  if (options.nodePods !== undefined) env.CP_NODE_PODS = String(options.nodePods);
  if (options.kwokPodParallelism !== undefined) env.CP_KWOK_POD_PARALLELISM = String(options.kwokPodParallelism);
  if (options.kwokDemo === true) env.CP_KWOK_DEMO = '1';
  if (options.attachKubeconfig !== undefined) env.CP_ATTACH_KUBECONFIG = options.attachKubeconfig;
  const result = spawnSync('bash', [SCRIPT, 'start'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) {
    throw new Error(`hack/control-plane.sh start --tier ${options.tier} failed (exit ${String(result.status)}); its message is above`);
  }
  return readControlPlane(options.stateDir);
}

/** Stops the control plane in `stateDir`; returns once none of its processes runs. */
export function stopControlPlane(stateDir: string): void {
  spawnSync('bash', [SCRIPT, 'stop'], { env: { ...process.env, CP_STATE_DIR: stateDir }, stdio: 'inherit' });
}

export function readControlPlane(stateDir: string): ControlPlaneInfo {
  return JSON.parse(readFileSync(path.join(stateDir, 'info.json'), 'utf8')) as ControlPlaneInfo;
}

/**
 * The running control plane, which must be of `tier` or higher. Throws (failing the suite)
 * when there is none or it is of a lower tier.
 */
export function requireControlPlane(tier: Tier): ControlPlaneInfo {
  const stateDir = process.env[STATE_ENV];
  if (stateDir === undefined || stateDir === '') {
    throw new Error(`no control plane: ${STATE_ENV} is not set (run the suite with 'npm run test:integration')`);
  }
  const info = readControlPlane(stateDir);
  if (TIER_LEVEL[info.tier] < TIER_LEVEL[tier]) {
    throw new Error(
      `this suite needs control-plane tier ${tier} but the running one is ${info.tier}; ` +
        `run it with OAAT_TEST_TIER=${tier} (or higher)`,
    );
  }
  return info;
}
