/**
 * The oaat controllers and the caches they share: informers for OaatGroups, OaatTypes and item
 * Pods (label `app=oaat-operator`, indexed by owning group), the OaatGroup controller (woken by
 * its pods and its OaatType) and the Pod controller (retention; woken by its pod and by its
 * group's status).
 *
 * {@link oaatControllers} builds the controllers from any caches, API client, clock and timers;
 * {@link registerOaatControllers} binds them into the composition root on real informers. The
 * deterministic simulation (test/sim/) calls {@link oaatControllers} with simulated parts, so
 * it runs exactly the wiring the operator runs.
 */
import type { Container } from 'inversify';
import type { KubernetesObject, V1ConfigMap, V1Pod } from '@kubernetes/client-node';
import { APP_LABEL_VALUE, LABELS, LABELS_ITEMS_SOURCE } from '../api/v1/keys.ts';
import type { OaatGroup, OaatType } from '../api/v1/types.ts';
import type { OperatorConfig } from '../config.ts';
import { controllerOptions, provide, resolve, token, TOKENS } from '../container.ts';
import type { ApiClient } from '../runtime/client.ts';
import { Controller, type ControllerOptions } from '../runtime/controller.ts';
import type { EventRecorder } from '../runtime/events.ts';
import { Informer, type Cache, type EventSource } from '../runtime/informer.ts';
import { requestOf } from '../runtime/reconciler.ts';
import { systemClock, type Clock } from '../services/clock.ts';
import { randomRng, type Rng } from '../services/rng.ts';
import {
  GROUP_CONFIGMAP_INDEX,
  GROUP_TYPE_INDEX,
  groupConfigMapIndex,
  groupOfPod,
  groupTypeIndex,
  groupTypeKey,
  POD_GROUP_INDEX,
  podGroupIndex,
  podIndexKeysOf,
} from '../services/ownership.ts';
import { OaatGroupReconciler } from './oaatgroup.controller.ts';
import { PodReconciler } from './pod.controller.ts';
import { GroupMetricsCollector } from './group-metrics.ts';
import { RunMemory } from './run-memory.ts';
import { PrometheusRunMetrics, type RunMetrics } from './run-metrics.ts';
import { CONFIGMAPS, OAATGROUPS, OAATTYPES, PODS } from './resources.ts';

/** The indexes each cache must be built with (the controllers read through them). */
export const GROUP_INDEXES = { [GROUP_TYPE_INDEX]: groupTypeIndex, [GROUP_CONFIGMAP_INDEX]: groupConfigMapIndex } as const;
export const POD_INDEXES = { [POD_GROUP_INDEX]: podGroupIndex } as const;
/** The item pods the operator watches. */
export const POD_LABEL_SELECTOR = `${LABELS.app}=${APP_LABEL_VALUE}`;
/** The ConfigMaps the operator caches: item sources only (a cache of every ConfigMap would cost memory for nothing). */
export const CONFIGMAP_LABEL_SELECTOR = `${LABELS_ITEMS_SOURCE.key}=${LABELS_ITEMS_SOURCE.value}`;

/** A cache a controller both reads and is woken by. */
export type WatchedCache<T> = Cache<T> & EventSource<T>;

/** What the oaat controllers are built from. */
export interface OaatControllerParts {
  /** Built with {@link GROUP_INDEXES}. */
  groups: WatchedCache<OaatGroup>;
  /** Item pods ({@link POD_LABEL_SELECTOR}), built with {@link POD_INDEXES}. */
  pods: WatchedCache<V1Pod>;
  types: WatchedCache<OaatType>;
  /** Item-source ConfigMaps ({@link CONFIGMAP_LABEL_SELECTOR}); absent when the operator reads no ConfigMaps. */
  configMaps?: WatchedCache<V1ConfigMap> | undefined;
  /** Run-critical requests: claims, creates, closes, reads. */
  client: ApiClient;
  /** Requests no run waits for (retention deletes): a lane of their own that never delays `client`'s. */
  backgroundClient: ApiClient;
  events: EventRecorder;
  runs: RunMetrics;
  clock: Clock;
  rng: Rng;
  /** This process's identity, new at every start (`<host>_<uuid>`, the lease holder identity). */
  incarnation: string;
  config: OperatorConfig;
  /** The options every controller shares (workers, backoff, logger, metrics, timers), under its name. */
  controllerOptions(name: string): Omit<ControllerOptions<KubernetesObject>, 'reconciler' | 'primary' | 'secondaries'>;
}

export interface OaatControllers {
  group: Controller<OaatGroup>;
  pod: Controller<V1Pod>;
}

export function oaatControllers(parts: OaatControllerParts): OaatControllers {
  const { groups, pods, types, client, backgroundClient, clock, config } = parts;
  const memory = new RunMemory(Math.max(60 * 60_000, 10 * config.createGraceMs));
  const saw = (pod: V1Pod): void => {
    const claimed = groupOfPod(pod).some((ref) => groups.get(ref.namespace, ref.name)?.status?.currentRun?.podName === pod.metadata?.name);
    memory.saw(pod, claimed, clock.now());
  };
  pods.addEventHandler({ onAdd: saw, onUpdate: (_old, pod) => { saw(pod); }, onDelete: saw });

  const group = new Controller<OaatGroup>({
    ...parts.controllerOptions('oaatgroup'),
    reconciler: new OaatGroupReconciler({
      groups,
      pods,
      types,
      configMaps: parts.configMaps,
      client,
      events: parts.events,
      memory,
      runs: parts.runs,
      clock,
      rng: parts.rng,
      settings: {
        incarnation: parts.incarnation,
        requeueCapMs: config.requeueCapMs,
        retryFloorMs: config.retryFloorMs,
        createGraceMs: config.createGraceMs,
        requestTimeoutMs: config.requestTimeoutMs,
        serverRequestTimeoutMs: config.serverRequestTimeoutMs,
        stuckAfterMs: config.stuckAfterMs,
        staleItemRetentionMs: config.podRetentionMs,
        statusItemsLimit: config.statusItemsLimit,
        podRestrictions: config.podRestrictions,
      },
    }),
    primary: groups,
    secondaries: [
      { informer: pods, map: groupOfPod },
      {
        informer: types,
        map: (type: OaatType) => groups.byIndex(GROUP_TYPE_INDEX, groupTypeKey(type.metadata?.namespace ?? '', type.metadata?.name ?? '')).map(requestOf),
      },
      ...(parts.configMaps === undefined
        ? []
        : [
            {
              informer: parts.configMaps,
              map: (configMap: V1ConfigMap) =>
                groups.byIndex(GROUP_CONFIGMAP_INDEX, groupTypeKey(configMap.metadata?.namespace ?? '', configMap.metadata?.name ?? '')).map(requestOf),
            },
          ]),
    ],
  });

  const pod = new Controller<V1Pod>({
    ...parts.controllerOptions('pod'),
    reconciler: new PodReconciler({
      pods,
      groups,
      client: backgroundClient,
      clock,
      settings: {
        successfulPodsHistoryLimit: config.successfulPodsHistoryLimit,
        failedPodsHistoryLimit: config.failedPodsHistoryLimit,
        retentionMs: config.podRetentionMs,
      },
    }),
    primary: pods,
    secondaries: [
      {
        informer: groups,
        map: (owner: OaatGroup) => pods.byIndex(POD_GROUP_INDEX, podIndexKeysOf(owner)[0]).map(requestOf),
      },
    ],
  });
  return { group, pod };
}

const GROUP_INFORMER = token<Informer<OaatGroup>>('OaatGroupInformer');
const TYPE_INFORMER = token<Informer<OaatType>>('OaatTypeInformer');
const POD_INFORMER = token<Informer<V1Pod>>('PodInformer');
const CONFIGMAP_INFORMER = token<Informer<V1ConfigMap>>('ConfigMapInformer');
const OAAT_CONTROLLERS = token<OaatControllers>('OaatControllers');

export function registerOaatControllers(container: Container): void {
  const config = resolve(container, TOKENS.Config);
  provide(container, GROUP_INFORMER).toDynamicValue(
    (context) =>
      new Informer<OaatGroup>({
        client: resolve(context, TOKENS.Client),
        type: OAATGROUPS,
        namespaces: config.namespaces,
        logger: resolve(context, TOKENS.Logger),
        indexes: GROUP_INDEXES,
      }),
  );
  provide(container, TYPE_INFORMER).toDynamicValue(
    (context) =>
      new Informer<OaatType>({ client: resolve(context, TOKENS.Client), type: OAATTYPES, namespaces: config.namespaces, logger: resolve(context, TOKENS.Logger) }),
  );
  provide(container, POD_INFORMER).toDynamicValue(
    (context) =>
      new Informer<V1Pod>({
        client: resolve(context, TOKENS.Client),
        type: PODS,
        namespaces: config.namespaces,
        labelSelector: POD_LABEL_SELECTOR,
        logger: resolve(context, TOKENS.Logger),
        indexes: POD_INDEXES,
      }),
  );
  provide(container, CONFIGMAP_INFORMER).toDynamicValue(
    (context) =>
      new Informer<V1ConfigMap>({
        client: resolve(context, TOKENS.Client),
        type: CONFIGMAPS,
        namespaces: config.namespaces,
        labelSelector: CONFIGMAP_LABEL_SELECTOR,
        logger: resolve(context, TOKENS.Logger),
      }),
  );
  const informers = [GROUP_INFORMER, TYPE_INFORMER, POD_INFORMER, ...(config.configMapItems ? [CONFIGMAP_INFORMER] : [])];
  for (const informer of informers) provide(container, TOKENS.Informer).toService(informer);

  provide(container, OAAT_CONTROLLERS).toDynamicValue((context) => {
    // The domain gauges, read from the group cache at each scrape.
    new GroupMetricsCollector({
      groups: resolve(context, GROUP_INFORMER),
      configMaps: config.configMapItems ? resolve(context, CONFIGMAP_INFORMER) : undefined,
      registry: resolve(context, TOKENS.Registry),
      clock: systemClock,
      settings: { retryFloorMs: config.retryFloorMs, itemMetrics: config.itemMetrics },
    });
    return oaatControllers({
      groups: resolve(context, GROUP_INFORMER),
      pods: resolve(context, POD_INFORMER),
      types: resolve(context, TYPE_INFORMER),
      configMaps: config.configMapItems ? resolve(context, CONFIGMAP_INFORMER) : undefined,
      client: resolve(context, TOKENS.Client),
      backgroundClient: resolve(context, TOKENS.BackgroundClient),
      events: resolve(context, TOKENS.EventRecorder),
      runs: new PrometheusRunMetrics(resolve(context, TOKENS.Registry)),
      clock: systemClock,
      rng: randomRng,
      incarnation: resolve(context, TOKENS.Incarnation),
      config,
      controllerOptions: (name) => controllerOptions(context, name),
    });
  });
  provide(container, TOKENS.Controller).toDynamicValue((context) => resolve(context, OAAT_CONTROLLERS).group);
  provide(container, TOKENS.Controller).toDynamicValue((context) => resolve(context, OAAT_CONTROLLERS).pod);
}
