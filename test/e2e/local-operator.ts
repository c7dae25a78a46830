/**
 * The operator run as the chart's Deployment would run it, without a kubelet (`make e2e-local`):
 * the container's command, in the image's root filesystem (unpacked by the global setup), as
 * the image's user, with the image's and the container's environment, the root filesystem
 * read-only as the chart's securityContext says, and the in-cluster ServiceAccount volume
 * holding a token of the chart's ServiceAccount (`kubectl create token`), so it holds only what
 * the chart's RBAC grants (see ./image.ts).
 *
 * How it differs from a pod: the network is the host's, so OAAT_HTTP_ADDRESS binds a free
 * loopback port instead of the chart's :8080 (tests share the machine;
 * {@link ChartOperator.chartEnv} keeps the chart's value), and KUBERNETES_SERVICE_HOST/PORT
 * name the kube-apiserver's loopback address.
 */
import { chmodSync, copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ChildProgram, type ExitInfo } from '../support/child-program.ts';
import type { ChartOperator } from './chart-operator.ts';
import { containerProcess, imageUnderTest, requiredEnv, WORK_DIR_ENV } from './image.ts';
import type { OperatorRunner } from './operator-runner.ts';

export class LocalOperatorRunner implements OperatorRunner {
  readonly installValues: readonly string[] = [];
  private program: ChildProgram | undefined;

  start(chart: ChartOperator): Promise<ChildProgram> {
    const { info } = chart.cluster;
    if (info.pki === '') throw new Error('the control plane has no pki directory (attached to a cluster): the local operator needs its CA');
    // The ServiceAccount volume a pod gets: token, CA bundle, namespace.
    const serviceAccountDir = mkdtempSync(path.join(requiredEnv(WORK_DIR_ENV), 'serviceaccount-'));
    chmodSync(serviceAccountDir, 0o755);
    writeFileSync(path.join(serviceAccountDir, 'token'), chart.token(), { mode: 0o644 });
    copyFileSync(path.join(info.pki, 'ca.crt'), path.join(serviceAccountDir, 'ca.crt'));
    writeFileSync(path.join(serviceAccountDir, 'namespace'), chart.namespace, { mode: 0o644 });
    const server = new URL(info.server);
    const run = containerProcess(imageUnderTest(), {
      command: chart.command,
      env: { KUBERNETES_SERVICE_HOST: server.hostname, KUBERNETES_SERVICE_PORT: server.port, ...chart.chartEnv, OAAT_HTTP_ADDRESS: '127.0.0.1:0' },
      serviceAccountDir,
      readOnlyRootFilesystem: chart.readOnlyRootFilesystem,
    });
    this.program = new ChildProgram({ name: chart.release, ...run });
    this.program.start();
    return Promise.resolve(this.program);
  }

  /** The loopback port the operator logged that it serves on. */
  async httpBase(): Promise<string> {
    if (this.program === undefined) throw new Error('the operator was not started');
    const serving = JSON.parse(await this.program.waitForLine(/"message":"serving probes and metrics"/)) as { port?: unknown };
    return `http://127.0.0.1:${String(serving.port)}`;
  }

  async stop(): Promise<ExitInfo | undefined> {
    return this.program?.isRunning === true ? this.program.kill('SIGTERM') : undefined;
  }
}
