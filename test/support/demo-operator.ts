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
import { controllerOptions, provide, resolve, token, TOKENS } from '../../src/container.ts';
import { runOperator } from '../../src/operator.ts';
import type { KubeClient } from '../../src/runtime/client.ts';
import { Controller } from '../../src/runtime/controller.ts';
import { Informer } from '../../src/runtime/informer.ts';
import type { ReconcileContext, Reconciler, Request, Result } from '../../src/runtime/reconciler.ts';
import { DEMO_LABEL, STAMP } from './demo-operator-labels.ts';
import { CONFIGMAPS } from './resource-types.ts';

const DEMO_INFORMER = token<Informer<KubernetesObject>>('DemoConfigMapInformer');

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

function registerDemo(identity: string) {
  return (container: Container): void => {
    const config = resolve(container, TOKENS.Config);
    provide(container, DEMO_INFORMER).toDynamicValue(
      (context) =>
        new Informer<KubernetesObject>({
          client: resolve(context, TOKENS.Client),
          type: CONFIGMAPS,
          namespaces: config.namespaces,
          labelSelector: `${DEMO_LABEL}=true`,
          logger: resolve(context, TOKENS.Logger),
        }),
    );
    provide(container, TOKENS.Informer).toService(DEMO_INFORMER);
    provide(container, TOKENS.Controller).toDynamicValue((context) => {
      const informer = resolve(context, DEMO_INFORMER);
      return new Controller({
        ...controllerOptions(context, 'demo'),
        reconciler: new Stamper(informer, resolve(context, TOKENS.Client), identity),
        primary: informer,
      });
    });
  };
}

const identity = process.env.DEMO_IDENTITY ?? 'demo';
process.exit(await runOperator(registerDemo(identity)));
