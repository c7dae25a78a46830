/**
 * The composition root: the only place that names concrete classes and wires them together
 * (inversify, with explicit factories and no decorators). Everything else receives its
 * collaborators through constructors.
 *
 * Informers are bound under their own tokens (so controllers share them) and also as
 * {@link TOKENS.Informer}, which the manager starts; controllers are bound as
 * {@link TOKENS.Controller}.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Container, type ResolutionContext } from 'inversify';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { OperatorConfig } from './config.ts';
import { createLogger } from './logging.ts';
import { KubeClient } from './runtime/client.ts';
import { PrometheusControllerMetrics } from './runtime/controller-metrics.ts';
import type { Controller } from './runtime/controller.ts';
import { ApiEventRecorder, type EventRecorder } from './runtime/events.ts';
import { ProbeServer } from './runtime/http.ts';
import type { Informer } from './runtime/informer.ts';
import { LeaderElector } from './runtime/leader-election.ts';
import type { Logger } from './runtime/logger.ts';
import { Manager } from './runtime/manager.ts';
import { defaultControllerRateLimiter, TokenBucketRateLimiter } from './runtime/rate-limiter.ts';
import { PrometheusWorkQueueMetrics } from './runtime/workqueue-metrics.ts';

export const TOKENS = {
  Config: Symbol('OperatorConfig'),
  /** This process's identity, new at every start: `<host>_<uuid>` (lease holder, claim owner). */
  Incarnation: Symbol('Incarnation'),
  KubeConfig: Symbol('KubeConfig'),
  Logger: Symbol('Logger'),
  Registry: Symbol('Registry'),
  Client: Symbol('KubeClient'),
  ControllerMetrics: Symbol('ControllerMetrics'),
  QueueMetrics: Symbol('WorkQueueMetrics'),
  EventRecorder: Symbol('EventRecorder'),
  LeaderElector: Symbol('LeaderElector'),
  ProbeServer: Symbol('ProbeServer'),
  Manager: Symbol('Manager'),
  /** Every informer the manager starts (multi-binding). */
  Informer: Symbol('Informer'),
  /** Every controller the manager runs (multi-binding). */
  Controller: Symbol('Controller'),
} as const;

/** The identity under which this operator writes to the API. */
export const FIELD_MANAGER = 'oaat-operator';

/** Adds the operator's informers and controllers to the container. */
export type ControllerRegistration = (container: Container) => void;

export function buildContainer(config: OperatorConfig, kubeConfig: KubeConfig, register: ControllerRegistration): Container {
  const container = new Container({ defaultScope: 'Singleton' });
  container.bind<OperatorConfig>(TOKENS.Config).toConstantValue(config);
  container.bind<KubeConfig>(TOKENS.KubeConfig).toConstantValue(kubeConfig);
  container.bind<string>(TOKENS.Incarnation).toConstantValue(`${hostname()}_${randomUUID()}`);
  container.bind<Logger>(TOKENS.Logger).toConstantValue(createLogger(config.logLevel, config.logFormat));
  container.bind<Registry>(TOKENS.Registry).toDynamicValue(() => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    return registry;
  });
  container.bind<KubeClient>(TOKENS.Client).toDynamicValue(
    (context) =>
      new KubeClient({
        kubeConfig,
        fieldManager: FIELD_MANAGER,
        userAgent: FIELD_MANAGER,
        requestTimeoutMs: config.requestTimeoutMs,
        rateLimiter: new TokenBucketRateLimiter<string>({ qps: config.clientQps, burst: config.clientBurst }),
        registry: context.get<Registry>(TOKENS.Registry),
      }),
  );
  container.bind(TOKENS.ControllerMetrics).toDynamicValue((context) => new PrometheusControllerMetrics(context.get(TOKENS.Registry)));
  container.bind(TOKENS.QueueMetrics).toDynamicValue((context) => new PrometheusWorkQueueMetrics(context.get(TOKENS.Registry)));
  container.bind<EventRecorder>(TOKENS.EventRecorder).toDynamicValue(
    (context) =>
      new ApiEventRecorder({ client: context.get(TOKENS.Client), component: FIELD_MANAGER, logger: context.get(TOKENS.Logger) }),
  );
  container.bind<LeaderElector>(TOKENS.LeaderElector).toDynamicValue(
    (context) =>
      new LeaderElector({
        // Its own client: a renewal must not wait behind other requests or past the deadline.
        client: new KubeClient({ kubeConfig, fieldManager: FIELD_MANAGER, requestTimeoutMs: config.leaderElection.renewDeadlineMs / 2 }),
        identity: context.get<string>(TOKENS.Incarnation),
        namespace: config.leaderElection.namespace,
        name: config.leaderElection.name,
        leaseDurationMs: config.leaderElection.leaseDurationMs,
        renewDeadlineMs: config.leaderElection.renewDeadlineMs,
        retryPeriodMs: config.leaderElection.retryPeriodMs,
        logger: context.get(TOKENS.Logger),
        registry: context.get(TOKENS.Registry),
      }),
  );
  container.bind<ProbeServer>(TOKENS.ProbeServer).toDynamicValue(
    (context) =>
      new ProbeServer({
        address: config.httpAddress,
        registry: context.get(TOKENS.Registry),
        readiness: informers(context).map((informer) => ({
          name: `${informer.kind} cache`,
          check: () => informer.isHealthy(),
        })),
      }),
  );
  container.bind<Manager>(TOKENS.Manager).toDynamicValue(
    (context) =>
      new Manager({
        informers: informers(context),
        controllers: context.getAll<Controller>(TOKENS.Controller, { optional: true }),
        ...(config.leaderElection.enabled && { leaderElector: context.get<LeaderElector>(TOKENS.LeaderElector) }),
        probes: context.get(TOKENS.ProbeServer),
        logger: context.get(TOKENS.Logger),
      }),
  );
  register(container);
  return container;
}

/**
 * The options every controller shares, under its name: workers and backoff from the settings,
 * the logger, and its reconcile and work-queue metrics.
 */
export function controllerOptions(context: ResolutionContext, name: string) {
  const config = context.get<OperatorConfig>(TOKENS.Config);
  return {
    name,
    workers: config.workers,
    rateLimiter: defaultControllerRateLimiter<string>({ baseMs: config.backoffBaseMs, capMs: config.backoffCapMs }),
    logger: context.get<Logger>(TOKENS.Logger),
    metrics: context.get<PrometheusControllerMetrics>(TOKENS.ControllerMetrics).forController(name, config.workers),
    queueMetrics: context.get<PrometheusWorkQueueMetrics>(TOKENS.QueueMetrics).forQueue(name),
  };
}

function informers(context: ResolutionContext): Informer<KubernetesObject>[] {
  return context.getAll<Informer<KubernetesObject>>(TOKENS.Informer, { optional: true });
}
