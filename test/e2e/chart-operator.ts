/**
 * The chart installed with `helm install` into the test cluster, and its operator, run by the
 * {@link OperatorRunner} the global setup chose (./operator-runner.ts): from the unpacked image
 * on the local control plane (`make e2e-local`), or as the chart's Deployment in kind
 * (`make e2e`). The Deployment is installed with `replicaCount=0` in both: locally there is no
 * kubelet to run it, and in kind the runner scales it up when a suite starts the operator.
 *
 * The suites share one cluster, so their releases share the CRDs as several releases in one
 * cluster do: none of them owns the CRDs (`crds.enabled=false`), which come from config/crd/;
 * crds.test.ts tests the release that owns them. Release namespaces enforce Pod Security
 * `restricted`, as the chart's pod must pass it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { V1Deployment } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import type { ChildProgram, ExitInfo, ProgramSpec } from '../support/child-program.ts';
import { POD_SECURITY_RESTRICTED, type TestCluster } from '../support/cluster.ts';
import { REPO_ROOT } from '../support/control-plane.ts';
import { installOaatCrds } from '../support/oaat.ts';
import type { LogRecord } from '../support/operator-process.ts';
import { waitUntil } from '../support/wait.ts';
import { requiredEnv } from './image.ts';
import { operatorRunner, type OperatorRunner } from './operator-runner.ts';

export const CHART = path.join(REPO_ROOT, 'charts', 'oaat-operator');

/** Time knobs that keep the e2e runs fast, passed through the chart's `env` value. */
export const FAST_ENV = [
  { name: 'OAAT_REQUEUE_CAP', value: '5s' },
  { name: 'OAAT_RETRY_FLOOR', value: '2s' },
  { name: 'OAAT_CREATE_GRACE', value: '10s' },
  { name: 'OAAT_REQUEST_TIMEOUT', value: '5s' },
  { name: 'OAAT_SERVER_REQUEST_TIMEOUT', value: '5s' },
  { name: 'OAAT_BACKOFF_CAP', value: '1s' },
];

interface Manifest {
  kind: string;
  metadata: { name: string; namespace?: string };
  [key: string]: unknown;
}

/** Runs helm against the test control plane; throws with helm's output when it fails. */
export function helm(cluster: TestCluster, ...args: string[]): string {
  const result = spawnSync(requiredEnv('HELM'), args, { encoding: 'utf8', env: { ...process.env, KUBECONFIG: cluster.info.kubeconfig } });
  if (result.status !== 0) throw new Error(`helm ${args.join(' ')} failed (exit ${String(result.status)}): ${result.stdout}${result.stderr}`);
  return result.stdout;
}

export class ChartOperator {
  program: ChildProgram | undefined;
  /** The objects of the release (`helm get manifest`). */
  manifest: Manifest[] = [];
  /** The environment of the chart's operator container, as rendered. */
  chartEnv: Record<string, string> = {};
  /** The chart container's command. */
  command: string[] = [];
  /** The chart container's securityContext.readOnlyRootFilesystem. */
  readOnlyRootFilesystem = false;
  /** What `helm install` printed (NOTES included). */
  installOutput = '';

  private constructor(
    readonly cluster: TestCluster,
    readonly release: string,
    readonly namespace: string,
    private readonly runner: OperatorRunner,
  ) {}

  /**
   * Applies the CRDs of config/crd/ (idempotent), then `helm install`s the chart into a fresh
   * release namespace enforcing Pod Security `restricted`, with `values` (helm flags) after
   * crds.enabled=false, replicaCount=0, the fast settings and the runner's values.
   */
  static async install(cluster: TestCluster, values: string[] = []): Promise<ChartOperator> {
    await installOaatCrds(cluster);
    const namespace = await cluster.createNamespace('oaat-system', POD_SECURITY_RESTRICTED);
    const runner = operatorRunner();
    const chart = new ChartOperator(cluster, `oaat-operator-${randomBytes(3).toString('hex')}`, namespace, runner);
    chart.installOutput = helm(
      cluster, 'install', chart.release, CHART, '--namespace', namespace, '--set', 'crds.enabled=false',
      '--set', 'replicaCount=0', '--set', 'logLevel=debug', '--set-json', `env=${JSON.stringify(FAST_ENV)}`, ...runner.installValues, ...values,
    );
    chart.manifest = parseAllDocuments(helm(cluster, 'get', 'manifest', chart.release, '--namespace', namespace))
      .map((document) => document.toJS() as Manifest | null)
      .filter((object): object is Manifest => object !== null);
    const deployment = chart.object('Deployment') as unknown as V1Deployment;
    const container = deployment.spec?.template.spec?.containers[0];
    if (container === undefined) throw new Error('the chart Deployment has no container');
    chart.command = container.command ?? [];
    chart.readOnlyRootFilesystem = container.securityContext?.readOnlyRootFilesystem === true;
    for (const variable of container.env ?? []) {
      if (variable.value === undefined) throw new Error(`chart env ${variable.name} is not a plain value; the e2e harness cannot reproduce it`);
      chart.chartEnv[variable.name] = variable.value;
    }
    return chart;
  }

  /** The one object of `kind` (in `namespace` when given) in the release. */
  object(kind: string, namespace?: string): Manifest {
    const found = this.manifest.filter((o) => o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace));
    const [first] = found;
    if (first === undefined || found.length !== 1) throw new Error(`release ${this.release}: expected one ${kind}, found ${String(found.length)}`);
    return first;
  }

  get serviceAccount(): string {
    return this.object('ServiceAccount').metadata.name;
  }

  /** `system:serviceaccount:<ns>:<name>` of the chart's ServiceAccount. */
  get user(): string {
    return `system:serviceaccount:${this.namespace}:${this.serviceAccount}`;
  }

  /** kubectl (of the cluster's binDir) against the test cluster, in the release namespace, as a program to spawn. */
  kubectlProgram(...args: string[]): Omit<ProgramSpec, 'name'> {
    return {
      command: path.join(this.cluster.info.binDir, 'kubectl'),
      args: ['--namespace', this.namespace, ...args],
      env: { ...process.env, KUBECONFIG: this.cluster.info.kubeconfig },
    };
  }

  /** Runs kubectl (see {@link kubectlProgram}) and returns what it printed; throws when it fails. */
  kubectl(...args: string[]): string {
    const { command, args: argv, env } = this.kubectlProgram(...args);
    return execFileSync(command, argv ?? [], { encoding: 'utf8', env });
  }

  /** A token of the chart's ServiceAccount from the TokenRequest API, through `kubectl create token`. */
  token(): string {
    return this.kubectl('create', 'token', this.serviceAccount, '--duration', '1h').trim();
  }

  /** Starts the operator with the runner (see the module comment); resolves once it runs. */
  async start(): Promise<ChildProgram> {
    this.program = await this.runner.start(this);
    return this.program;
  }

  private running(): ChildProgram {
    if (this.program === undefined) throw new Error('the operator was not started');
    return this.program;
  }

  /** Waits for a JSON log line whose message matches, and returns it parsed. */
  async logged(message: string | RegExp, timeoutMs = 30_000): Promise<LogRecord> {
    const pattern = typeof message === 'string' ? new RegExp(`"message":"${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"`) : message;
    return JSON.parse(await this.running().waitForLine(pattern, timeoutMs)) as LogRecord;
  }

  /** GET on its probe and metrics server. */
  async http(pathname: string): Promise<{ status: number; text: string }> {
    const response = await fetch(`${await this.runner.httpBase()}${pathname}`);
    return { status: response.status, text: await response.text() };
  }

  /** Waits until /readyz answers 200. */
  async ready(timeoutMs = 30_000): Promise<void> {
    await waitUntil(() => this.http('/readyz'), (r) => r.status === 200, { what: `${this.release} /readyz to answer 200`, timeoutMs });
  }

  /** Every log line of the current run. */
  output(): string {
    return this.program?.output() ?? '';
  }

  /**
   * Stops the operator (SIGTERM, see {@link OperatorRunner.stop}), uninstalls the release
   * (checking that its cluster-scoped RBAC goes with it) and deletes the release namespace;
   * returns how the operator exited (undefined when it was never started).
   */
  async uninstall(): Promise<ExitInfo | undefined> {
    const exit = await this.runner.stop();
    helm(this.cluster, 'uninstall', this.release, '--namespace', this.namespace, '--wait');
    const left = (await this.cluster.rbac.listClusterRole({ labelSelector: `app.kubernetes.io/instance=${this.release}` })).items;
    if (left.length > 0) throw new Error(`helm uninstall left ClusterRoles behind: ${left.map((r) => r.metadata?.name ?? '').join(', ')}`);
    await this.cluster.core.deleteNamespace({ name: this.namespace });
    return exit;
  }
}
