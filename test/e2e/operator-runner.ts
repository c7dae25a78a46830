/**
 * How the e2e suites run the chart's operator. There are two ways, and the global setup picks
 * one through the environment, so the suites never know which one is running them:
 * - {@link LocalOperatorRunner} (`make e2e-local`, the one CI runs): the chart container's
 *   command as a local process inside the unpacked image, on the T2 control plane;
 * - {@link KindOperatorRunner} (`make e2e`, needs a container engine; not run in CI): the
 *   chart's own Deployment in a kind cluster that has the image loaded.
 * In both, item pods run on the KWOK node `kwok-node-0` (hack/control-plane.sh).
 */
import type { ChildProgram, ExitInfo } from '../support/child-program.ts';
import type { ChartOperator } from './chart-operator.ts';
import { requiredEnv } from './image.ts';
import { KindOperatorRunner } from './kind-operator.ts';
import { LocalOperatorRunner } from './local-operator.ts';

/** The kubeconfig of the kind cluster (set by hack/e2e.sh). When it is set, the e2e project runs in kind mode. */
export const KIND_KUBECONFIG_ENV = 'OAAT_E2E_KUBECONFIG';

/** The `repository:tag` that `kind load image-archive` loaded into the kind cluster (set by hack/e2e.sh). */
export const KIND_IMAGE_ENV = 'OAAT_E2E_KIND_IMAGE';

/** Runs the operator of one release. */
export interface OperatorRunner {
  /** Helm flags that this way of running adds to the install, before the suite's own values. */
  readonly installValues: readonly string[];
  /**
   * Starts the operator of `chart`. Resolves once it runs, with the program whose output is the
   * operator's log (its JSON lines) from the start.
   */
  start(chart: ChartOperator): Promise<ChildProgram>;
  /** The base URL (`http://127.0.0.1:<port>`) of the started operator's probe and metrics server. */
  httpBase(): Promise<string>;
  /**
   * Stops the started operator the way its pod is stopped (SIGTERM) and returns how it exited.
   * Returns undefined when it was never started.
   */
  stop(): Promise<ExitInfo | undefined>;
}

/** Whether the global setup chose kind mode ({@link KIND_KUBECONFIG_ENV} is set). */
export function kindMode(): boolean {
  return (process.env[KIND_KUBECONFIG_ENV] ?? '') !== '';
}

/** A new runner for one release, of the kind the global setup chose. */
export function operatorRunner(): OperatorRunner {
  return kindMode() ? new KindOperatorRunner(requiredEnv(KIND_IMAGE_ENV)) : new LocalOperatorRunner();
}
