/**
 * A test namespace with the oaat CRDs installed, an OaatType whose pods run on the KWOK node,
 * the operator as a child process watching only that namespace, and the invariant checker
 * watching it too. Helpers read groups and pods and make pods end.
 */
import path from 'node:path';
import { PatchStrategy, setHeaderOptions, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import { apiStatus, connectCluster, loadManifests, type TestCluster } from './cluster.ts';
import { REPO_ROOT, type Tier } from './control-plane.ts';
import { InvariantChecker } from './invariant-checker.ts';
import { OperatorProcess } from './operator-process.ts';
import { simulateOutcome, type SimulatedOutcome } from './pods.ts';
import { waitUntil, type WaitOptions } from './wait.ts';

export const GROUP_API = { group: 'kawaja.net', version: 'v1' } as const;

/** Time knobs that keep tests fast; each test may override them. */
export const FAST_SETTINGS: Record<string, string> = {
  OAAT_LEADER_ELECT: 'false',
  OAAT_REQUEUE_CAP: '5s',
  OAAT_RETRY_FLOOR: '2s',
  OAAT_CREATE_GRACE: '10s',
  // A request to the local API server answers in milliseconds; these keep the create window
  // (grace - request timeout) and a lost run's confirmation (grace + server timeout + 10 s) short.
  OAAT_REQUEST_TIMEOUT: '5s',
  OAAT_SERVER_REQUEST_TIMEOUT: '5s',
  OAAT_BACKOFF_CAP: '1s',
};

export interface GroupStatusView {
  currentRun?: { id: string; item: string; podName: string; claimedAt: string; trigger?: string } | null;
  runNow?: { handled: string };
  next?: { reason: string; item?: string; at?: string; window?: string };
  reset?: { handled: string };
  /** Claims made so far (each claim adds one). */
  runSeq?: number;
  conditions?: { type: string; status: string; reason: string; message: string }[];
  nextEligibleAt?: string | null;
  items?: Record<
    string,
    {
      last_success?: string;
      last_failure?: string;
      retry_at?: string;
      failure_count?: number | string;
      podphase?: string;
      last_run?: { id: string; podUID?: string; outcome: string; exitCode?: number; reason?: string; finishedAt: string; trigger?: string };
      runtime?: { count: number; sample: number[] };
    }
  >;
  handler_status?: { state?: string; currently_running?: string; pod?: string };
}

export type GroupView = KubernetesObject & { spec?: Record<string, unknown>; status?: GroupStatusView };

/** Installs the generated CRDs (idempotent; shared by every suite of the run). */
export async function installOaatCrds(cluster: TestCluster): Promise<void> {
  for (const file of ['oaatgroups.kawaja.net.yaml', 'oaattypes.kawaja.net.yaml']) {
    const [crd] = loadManifests({ file: path.join(REPO_ROOT, 'config', 'crd', file) });
    if (crd) await cluster.installCrd(crd);
  }
}

export class OaatNamespace {
  operators: OperatorProcess[] = [];
  checker: InvariantChecker | undefined;

  private constructor(
    readonly cluster: TestCluster,
    readonly name: string,
  ) {}

  /**
   * A fresh namespace (with `labels`, e.g. cluster.ts's POD_SECURITY_RESTRICTED) with an OaatType
   * `runner` whose pods run on the KWOK node and comply with Pod Security `restricted`.
   */
  static async create(cluster: TestCluster, prefix: string, labels: Record<string, string> = {}): Promise<OaatNamespace> {
    const namespace = new OaatNamespace(cluster, await cluster.createNamespace(prefix, labels));
    await namespace.apply({
      apiVersion: 'kawaja.net/v1',
      kind: 'OaatType',
      metadata: { name: 'runner' },
      spec: {
        type: 'pod',
        podspec: {
          nodeName: cluster.info.node,
          securityContext: { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: 'RuntimeDefault' } },
          container: {
            name: 'main',
            image: 'oaat.invalid/item:never-pulled',
            command: ['run', '%%oaat_item%%'],
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          },
        },
      },
    });
    namespace.checker = await InvariantChecker.start(cluster.kubeConfig, namespace.name);
    return namespace;
  }

  async apply(object: Record<string, unknown>): Promise<KubernetesObject> {
    const [stored] = await this.cluster.apply([object], this.name);
    if (!stored) throw new Error('nothing stored');
    return stored;
  }

  /** Creates a group (frequency 1m unless given) over `items`. */
  group(name: string, items: string[], spec: Record<string, unknown> = {}): Promise<KubernetesObject> {
    return this.apply({
      apiVersion: 'kawaja.net/v1',
      kind: 'OaatGroup',
      metadata: { name },
      spec: { frequency: '1m', oaatType: 'runner', oaatItems: items, ...spec },
    });
  }

  /** Imports item history the way users do: a merge patch of /status. */
  async seedStatus(group: string, status: Record<string, unknown>): Promise<void> {
    await this.cluster.custom.patchNamespacedCustomObjectStatus(
      { ...GROUP_API, namespace: this.name, plural: 'oaatgroups', name: group, body: { status } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  /** Starts an operator watching this namespace (several may run at once). */
  startOperator(env: Record<string, string> = {}, name = `operator-${String(this.operators.length)}`): OperatorProcess {
    const operator = new OperatorProcess({
      name,
      entry: 'src/main.ts',
      kubeconfig: this.cluster.info.kubeconfig,
      env: { OAAT_WATCH_NAMESPACES: this.name, OAAT_LEASE_NAMESPACE: this.name, ...FAST_SETTINGS, ...env },
    });
    this.operators.push(operator);
    operator.start();
    return operator;
  }

  async readGroup(name: string): Promise<GroupView> {
    return (await this.cluster.custom.getNamespacedCustomObject({ ...GROUP_API, namespace: this.name, plural: 'oaatgroups', name })) as GroupView;
  }

  waitForGroup(name: string, accept: (group: GroupView) => boolean, what: string, options: Partial<WaitOptions> = {}): Promise<GroupView> {
    return waitUntil(() => this.readGroup(name), accept, { what: `group ${name}: ${what}`, timeoutMs: 60_000, ...options });
  }

  async pods(): Promise<V1Pod[]> {
    return (await this.cluster.core.listNamespacedPod({ namespace: this.name, labelSelector: 'app=oaat-operator' })).items;
  }

  async livePods(): Promise<V1Pod[]> {
    return (await this.pods()).filter((pod) => pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed');
  }

  /** Waits until the group's claimed run has a Running pod, and returns it. */
  async runningPod(group: string, timeoutMs = 60_000): Promise<V1Pod> {
    return waitUntil(
      async () => {
        const run = (await this.readGroup(group)).status?.currentRun;
        if (!run) return undefined;
        try {
          return await this.cluster.core.readNamespacedPod({ namespace: this.name, name: run.podName });
        } catch (error) {
          if (apiStatus(error) === 404) return undefined;
          throw error;
        }
      },
      (pod): pod is V1Pod => pod?.status?.phase === 'Running',
      { what: `a Running pod for group ${group}`, timeoutMs },
    ) as Promise<V1Pod>;
  }

  /** Ends a pod the way KWOK simulates it. */
  end(pod: V1Pod, how: SimulatedOutcome): Promise<V1Pod> {
    return simulateOutcome(this.cluster.core, this.name, pod.metadata?.name ?? '', how);
  }

  /** Stops the operators and the checker; returns the checker's violations. */
  async close(): Promise<string[]> {
    await Promise.all(this.operators.map((operator) => operator.program.kill('SIGTERM')));
    return (await this.checker?.stop()) ?? [];
  }
}

/** What an operator suite's tests use: the control plane, and a fresh namespace per test. */
export interface OperatorSuite {
  readonly cluster: TestCluster;
  readonly ns: OaatNamespace;
}

/**
 * Registers the hooks of an operator suite: connects to the run's control plane (which must be
 * of `tier` or higher) and installs the CRDs once; gives each test a fresh {@link OaatNamespace};
 * after each test stops its operators and fails the test on any invariant violation.
 */
export function operatorSuite(tier: Tier, prefix: string): OperatorSuite {
  let cluster: TestCluster | undefined;
  let ns: OaatNamespace | undefined;
  beforeAll(async () => {
    cluster = connectCluster(tier);
    await installOaatCrds(cluster);
  });
  beforeEach(async () => {
    if (cluster) ns = await OaatNamespace.create(cluster, prefix);
  });
  afterEach(async () => {
    const violations = (await ns?.close()) ?? [];
    ns = undefined;
    expect(violations).toEqual([]);
  });
  return {
    get cluster(): TestCluster {
      if (!cluster) throw new Error('the suite has no control plane yet');
      return cluster;
    },
    get ns(): OaatNamespace {
      if (!ns) throw new Error('no namespace outside a test');
      return ns;
    },
  };
}
