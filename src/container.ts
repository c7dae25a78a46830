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
import type { KubernetesObject } from '@kubernetes/client-node';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { OperatorConfig } from './config.ts';
import { createLogger } from './logging.ts';
import { KubeClient, RestClientMetrics } from './runtime/client.ts';
import { PooledClusterAccess, type CredentialSource } from './runtime/cluster-access.ts';
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
import { VERSION } from './version.ts';

/**
 * A key of the container that carries the type of what it names. Reads and bindings go through
 * {@link resolve}, {@link resolveAll} and {@link provide}, which take the type from the key: reading
 * a Logger as a KubeClient does not compile.
 */
export type Token<T> = symbol & { readonly [tokenType]?: T };
declare const tokenType: unique symbol;

export function token<T>(name: string): Token<T> {
  return Symbol(name);
}

/** What a read needs: the container, or the context a factory receives. */
interface Source {
  get(key: symbol): unknown;
  getAll(key: symbol, options: { optional: true }): unknown[];
}

export function resolve<T>(source: Source, key: Token<T>): T {
  return source.get(key) as T;
}

/** Every binding of a multi-bound key (none is fine). */
export function resolveAll<T>(source: Source, key: Token<T>): T[] {
  return source.getAll(key, { optional: true }) as T[];
}

/** Starts a binding of `key`: what it is bound to must be a T. */
export function provide<T>(container: Container, key: Token<T>) {
  return container.bind<T>(key);
}

export const TOKENS = {
  Config: token<OperatorConfig>('OperatorConfig'),
  /** This process's identity, new at every start: `<host>_<uuid>` (lease holder, claim owner). */
  Incarnation: token<string>('Incarnation'),
  Logger: token<Logger>('Logger'),
  Registry: token<Registry>('Registry'),
  /** Run-critical requests (caches, claims, creates, closes): nothing else takes its connections or its rate. */
  Client: token<KubeClient>('KubeClient'),
  /** The deletion of finished pods: connections and a token bucket of their own. */
  BackgroundClient: token<KubeClient>('BackgroundKubeClient'),
  ClientMetrics: token<RestClientMetrics>('RestClientMetrics'),
  ControllerMetrics: token<PrometheusControllerMetrics>('ControllerMetrics'),
  QueueMetrics: token<PrometheusWorkQueueMetrics>('WorkQueueMetrics'),
  EventRecorder: token<EventRecorder>('EventRecorder'),
  LeaderElector: token<LeaderElector>('LeaderElector'),
  ProbeServer: token<ProbeServer>('ProbeServer'),
  Manager: token<Manager>('Manager'),
  /** Every informer the manager starts (multi-binding). */
  Informer: token<Informer<KubernetesObject>>('Informer'),
  /** Every controller the manager runs (multi-binding). */
  Controller: token<Controller>('Controller'),
};

/** The identity under which this operator writes to the API. */
export const FIELD_MANAGER = 'oaat-operator';

/** Adds the operator's informers and controllers to the container. */
export type ControllerRegistration = (container: Container) => void;

export function buildContainer(config: OperatorConfig, credentials: CredentialSource, register: ControllerRegistration): Container {
  const container = new Container({ defaultScope: 'Singleton' });
  provide(container, TOKENS.Config).toConstantValue(config);
  provide(container, TOKENS.Incarnation).toConstantValue(`${hostname()}_${randomUUID()}`);
  provide(container, TOKENS.Logger).toConstantValue(createLogger(config.logLevel, config.logFormat));
  provide(container, TOKENS.Registry).toDynamicValue(() => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    new Gauge({
      name: 'oaat_build_info',
      help: 'The running operator\'s version and Node.js version; always 1.',
      labelNames: ['version', 'node_version'],
      registers: [registry],
    }).set({ version: VERSION, node_version: process.version }, 1);
    return registry;
  });
  // Three lanes, each with its own connections, so neither Events nor retention deletes ever
  // delay a run's requests: `run` (a connection per group worker: each has at most one request
  // in flight; a client-side limit only when configured), `background` (retention deletes, with
  // their own limit) and `events` (only the Event budget: beyond it Events are dropped, not queued).
  const laneClient = (lane: string, metrics: RestClientMetrics, connections: number, limit?: { qps: number; burst: number }): KubeClient =>
    new KubeClient({
      access: new PooledClusterAccess(credentials, { requestConnections: connections }),
      fieldManager: FIELD_MANAGER,
      userAgent: FIELD_MANAGER,
      requestTimeoutMs: config.requestTimeoutMs,
      // A request waiting for one of the lane's connections is not timed yet.
      maxInFlight: connections,
      ...(limit && limit.qps > 0 && { rateLimiter: new TokenBucketRateLimiter<string>(limit) }),
      metrics,
      lane,
    });
  provide(container, TOKENS.ClientMetrics).toDynamicValue((context) => new RestClientMetrics(resolve(context, TOKENS.Registry)));
  provide(container, TOKENS.Client).toDynamicValue((context) =>
    laneClient('run', resolve(context, TOKENS.ClientMetrics), config.workers, { qps: config.clientQps, burst: config.clientBurst }),
  );
  provide(container, TOKENS.BackgroundClient).toDynamicValue((context) =>
    laneClient('background', resolve(context, TOKENS.ClientMetrics), 2, { qps: config.backgroundQps, burst: config.backgroundBurst }),
  );
  provide(container, TOKENS.ControllerMetrics).toDynamicValue((context) => new PrometheusControllerMetrics(resolve(context, TOKENS.Registry)));
  provide(container, TOKENS.QueueMetrics).toDynamicValue((context) => new PrometheusWorkQueueMetrics(resolve(context, TOKENS.Registry)));
  provide(container, TOKENS.EventRecorder).toDynamicValue(
    (context) =>
      new ApiEventRecorder({
        client: laneClient('events', resolve(context, TOKENS.ClientMetrics), 2),
        component: FIELD_MANAGER,
        logger: resolve(context, TOKENS.Logger),
        budget: new TokenBucketRateLimiter<string>({ qps: config.eventQps, burst: config.eventBurst }),
        registry: resolve(context, TOKENS.Registry),
      }),
  );
  provide(container, TOKENS.LeaderElector).toDynamicValue(
    (context) =>
      new LeaderElector({
        // Its own client and connection: a renewal must not wait behind other requests or past the deadline.
        client: new KubeClient({
          access: new PooledClusterAccess(credentials, { requestConnections: 1 }),
          fieldManager: FIELD_MANAGER,
          userAgent: FIELD_MANAGER,
          requestTimeoutMs: config.leaderElection.renewDeadlineMs / 2,
        }),
        identity: resolve(context, TOKENS.Incarnation),
        namespace: config.leaderElection.namespace,
        name: config.leaderElection.name,
        leaseDurationMs: config.leaderElection.leaseDurationMs,
        renewDeadlineMs: config.leaderElection.renewDeadlineMs,
        retryPeriodMs: config.leaderElection.retryPeriodMs,
        logger: resolve(context, TOKENS.Logger),
        registry: resolve(context, TOKENS.Registry),
      }),
  );
  provide(container, TOKENS.ProbeServer).toDynamicValue(
    (context) =>
      new ProbeServer({
        address: config.httpAddress,
        registry: resolve(context, TOKENS.Registry),
        readiness: informers(context).map((informer) => ({
          name: `${informer.kind} cache`,
          check: () => informer.isHealthy(),
        })),
      }),
  );
  provide(container, TOKENS.Manager).toDynamicValue(
    (context) =>
      new Manager({
        informers: informers(context),
        controllers: resolveAll(context, TOKENS.Controller),
        ...(config.leaderElection.enabled && { leaderElector: resolve(context, TOKENS.LeaderElector) }),
        probes: resolve(context, TOKENS.ProbeServer),
        logger: resolve(context, TOKENS.Logger),
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
  const config = resolve(context, TOKENS.Config);
  return {
    name,
    workers: config.workers,
    rateLimiter: defaultControllerRateLimiter<string>({ baseMs: config.backoffBaseMs, capMs: config.backoffCapMs }),
    logger: resolve(context, TOKENS.Logger),
    metrics: resolve(context, TOKENS.ControllerMetrics).forController(name, config.workers),
    queueMetrics: resolve(context, TOKENS.QueueMetrics).forQueue(name),
  };
}

function informers(context: ResolutionContext): Informer<KubernetesObject>[] {
  return resolveAll(context, TOKENS.Informer);
}
