/**
 * A minimal operator built on the runtime, for tests of the runtime itself (leader election,
 * shutdown, probes, metrics) in a real child process. Its one controller reconciles ConfigMaps
 * labelled `runtime.test/demo=true` by stamping annotation `runtime.test/reconciled-by` with the
 * identity of the replica (`DEMO_IDENTITY`), and logs `reconciled <namespace>/<name>`.
 *
 * Run: node --experimental-transform-types test/support/demo-operator.ts (settings from the
 * OAAT_* environment, cluster from KUBECONFIG).
 */
import type { Container } from 'inversify';
import type { KubernetesObject } from '@kubernetes/client-node';
import { loadConfig, type OperatorConfig } from '../../src/config.ts';
import { controllerRateLimiter, TOKENS } from '../../src/container.ts';
import { runOperator } from '../../src/operator.ts';
import type { KubeClient, ResourceType } from '../../src/runtime/client.ts';
import type { PrometheusControllerMetrics } from '../../src/runtime/controller-metrics.ts';
import { Controller } from '../../src/runtime/controller.ts';
import { Informer } from '../../src/runtime/informer.ts';
import type { Logger } from '../../src/runtime/logger.ts';
import type { ReconcileContext, Reconciler, Request, Result } from '../../src/runtime/reconciler.ts';
import type { PrometheusWorkQueueMetrics } from '../../src/runtime/workqueue-metrics.ts';
import { DEMO_LABEL, STAMP } from './demo-operator-labels.ts';

const CONFIGMAPS: ResourceType = { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true };
const DEMO_INFORMER = Symbol('DemoConfigMapInformer');

class Stamper implements Reconciler {
  constructor(
    private readonly informer: Informer<KubernetesObject>,
    private readonly client: KubeClient,
    private readonly identity: string,
  ) {}

  async reconcile(request: Request, { log }: ReconcileContext): Promise<Result> {
    const object = this.informer.get(request.namespace, request.name);
    if (object === undefined) return {};
    if (object.metadata?.annotations?.[STAMP] !== this.identity) {
      await this.client.patch(CONFIGMAPS, request.namespace, request.name, { metadata: { annotations: { [STAMP]: this.identity } } });
    }
    log.info(`reconciled ${request.namespace}/${request.name}`);
    return {};
  }
}

function registerDemo(config: OperatorConfig, identity: string) {
  return (container: Container): void => {
    container.bind(DEMO_INFORMER).toDynamicValue(
      (context) =>
        new Informer<KubernetesObject>({
          client: context.get(TOKENS.Client),
          type: CONFIGMAPS,
          namespaces: config.namespaces,
          labelSelector: `${DEMO_LABEL}=true`,
          logger: context.get(TOKENS.Logger),
        }),
    );
    container.bind(TOKENS.Informer).toService(DEMO_INFORMER);
    container.bind(TOKENS.Controller).toDynamicValue((context) => {
      const logger = context.get<Logger>(TOKENS.Logger);
      const informer = context.get<Informer<KubernetesObject>>(DEMO_INFORMER);
      return new Controller({
        name: 'demo',
        reconciler: new Stamper(informer, context.get(TOKENS.Client), identity),
        primary: informer,
        workers: config.workers,
        rateLimiter: controllerRateLimiter(config),
        logger,
        metrics: context.get<PrometheusControllerMetrics>(TOKENS.ControllerMetrics).forController('demo', config.workers),
        queueMetrics: context.get<PrometheusWorkQueueMetrics>(TOKENS.QueueMetrics).forQueue('demo'),
      });
    });
  };
}

const identity = process.env.DEMO_IDENTITY ?? 'demo';
process.exit(await runOperator(registerDemo(loadConfig(process.env), identity)));
