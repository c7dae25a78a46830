/**
 * The operator as the chart's own Deployment runs it in a kind cluster (`make e2e`, see
 * hack/e2e.sh; this repository's CI has no container engine and never runs it). The release is
 * installed with the image that `kind load image-archive` loaded (pullPolicy Never), pinned to
 * the kind node: the scheduler would otherwise pick the roomier KWOK node, where nothing runs.
 * - `start` scales the Deployment (installed with 0 replicas, as in local mode) to 1, waits for
 *   the rollout and follows the pod's log with `kubectl logs --follow`;
 * - `httpBase` forwards a loopback port to the container's port of OAAT_HTTP_ADDRESS
 *   (`kubectl port-forward`);
 * - `stop` scales the Deployment to 0 and reads the container's exit code from the pod's last
 *   status, which the kubelet writes before it removes the pod. A container killed by a signal
 *   is reported as the kubelet reports it: exit code 128+n, signal null.
 */
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { ChildProgram, type ExitInfo } from '../support/child-program.ts';
import { RecordingWatch } from '../support/watch.ts';
import type { ChartOperator } from './chart-operator.ts';
import type { OperatorRunner } from './operator-runner.ts';

/** How long a rollout or the pod's removal may take (image already on the node; the chart's grace period is 30 s). */
const POD_TIMEOUT_MS = 120_000;

interface Started {
  chart: ChartOperator;
  deployment: string;
  container: string;
  pod: string;
  log: ChildProgram;
  forward?: { program: ChildProgram; url: string };
}

export class KindOperatorRunner implements OperatorRunner {
  readonly installValues: readonly string[];
  private started: Started | undefined;

  /** `image`: `repository:tag` as loaded into the kind cluster. */
  constructor(image: string) {
    const at = image.lastIndexOf(':');
    if (at <= 0) throw new Error(`the kind image ${JSON.stringify(image)} is not repository:tag`);
    this.installValues = [
      '--set', `image.repository=${image.slice(0, at)}`, '--set', `image.tag=${image.slice(at + 1)}`, '--set', 'image.pullPolicy=Never',
      // kind leaves its one node, the control plane, untainted.
      '--set-json', 'nodeSelector={"node-role.kubernetes.io/control-plane":""}',
    ];
  }

  async start(chart: ChartOperator): Promise<ChildProgram> {
    if (this.started !== undefined) throw new Error(`${chart.release}: the operator was already started`);
    const spec = (chart.object('Deployment') as unknown as V1Deployment).spec;
    const container = spec?.template.spec?.containers[0]?.name;
    const labels = spec?.selector.matchLabels;
    if (container === undefined || labels === undefined) throw new Error('the chart Deployment has no container or no selector');
    const deployment = chart.object('Deployment').metadata.name;
    chart.kubectl('scale', `deployment/${deployment}`, '--replicas=1');
    chart.kubectl('rollout', 'status', `deployment/${deployment}`, `--timeout=${String(POD_TIMEOUT_MS / 1000)}s`);
    const labelSelector = Object.entries(labels).map(([key, value]) => `${key}=${value}`).join(',');
    const pods = (await chart.cluster.core.listNamespacedPod({ namespace: chart.namespace, labelSelector })).items.filter((p) => p.metadata?.deletionTimestamp == null);
    const [pod] = pods;
    if (pod?.metadata?.name === undefined || pods.length !== 1) throw new Error(`${chart.release}: expected one pod of the rolled-out Deployment, found ${String(pods.length)}`);
    const log = new ChildProgram({ name: chart.release, ...chart.kubectlProgram('logs', '--follow', `pod/${pod.metadata.name}`, '--container', container) });
    log.start();
    this.started = { chart, deployment, container, pod: pod.metadata.name, log };
    return log;
  }

  async httpBase(): Promise<string> {
    const started = this.running();
    if (started.forward === undefined) {
      const address = started.chart.chartEnv.OAAT_HTTP_ADDRESS ?? '';
      const port = /:(\d+)$/.exec(address)?.[1];
      if (port === undefined) throw new Error(`the chart's OAAT_HTTP_ADDRESS ${JSON.stringify(address)} names no port`);
      const program = new ChildProgram({
        name: `${started.chart.release} port-forward`,
        ...started.chart.kubectlProgram('port-forward', '--address', '127.0.0.1', `pod/${started.pod}`, `:${port}`),
      });
      program.start();
      const line = await program.waitForLine(/^Forwarding from 127\.0\.0\.1:\d+ -> /);
      started.forward = { program, url: `http://127.0.0.1:${/:(\d+) ->/.exec(line)?.[1] ?? ''}` };
    }
    return started.forward.url;
  }

  async stop(): Promise<ExitInfo | undefined> {
    if (this.started === undefined) return undefined;
    const { chart, deployment, container, pod, log, forward } = this.started;
    this.started = undefined;
    const current = await chart.cluster.core.readNamespacedPod({ name: pod, namespace: chart.namespace });
    const watch = await RecordingWatch.start(chart.cluster.kubeConfig, `/api/v1/namespaces/${chart.namespace}/pods`, current.metadata?.resourceVersion);
    try {
      chart.kubectl('scale', `deployment/${deployment}`, '--replicas=0');
      await watch.next((e) => e.type === 'DELETED' && e.object.metadata?.name === pod, `pod ${pod} to be removed after the scale to 0`, POD_TIMEOUT_MS);
      const states = [current, ...watch.events.filter((e) => e.object.metadata?.name === pod).map((e) => e.object as V1Pod)]
        .map((p) => p.status?.containerStatuses?.find((s) => s.name === container)?.state?.terminated)
        .filter((terminated) => terminated !== undefined);
      const last = states.at(-1);
      if (last === undefined) throw new Error(`pod ${pod} was removed without a terminated state of container ${container} in its status`);
      return { code: last.exitCode, signal: null };
    } finally {
      watch.stop();
      await Promise.all([log.kill('SIGTERM'), forward?.program.kill('SIGTERM')]);
    }
  }

  private running(): Started {
    if (this.started === undefined) throw new Error('the operator was not started');
    return this.started;
  }
}
