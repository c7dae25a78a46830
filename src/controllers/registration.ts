/**
 * The oaat controllers and the caches they share, bound into the composition root:
 * informers for OaatGroups, OaatTypes and item Pods (label `app=oaat-operator`, indexed by
 * owning group), the OaatGroup controller (woken by its pods and its OaatType) and the Pod
 * controller (retention; woken by its pod and by its group's status).
 */
import type { Container } from 'inversify';
import type { V1Pod } from '@kubernetes/client-node';
import { APP_LABEL_VALUE, LABELS } from '../api/v1/keys.ts';
import type { OaatGroup, OaatType } from '../api/v1/types.ts';
import type { OperatorConfig } from '../config.ts';
import { controllerOptions, TOKENS } from '../container.ts';
import { Controller } from '../runtime/controller.ts';
import { Informer } from '../runtime/informer.ts';
import { requestOf } from '../runtime/reconciler.ts';
import { systemClock } from '../services/clock.ts';
import { randomRng } from '../services/rng.ts';
import { GROUP_TYPE_INDEX, groupOfPod, groupTypeIndex, OaatGroupReconciler, POD_GROUP_INDEX, podGroupIndex } from './oaatgroup.controller.ts';
import { PodReconciler } from './pod.controller.ts';
import { PodSightings } from './pod-sightings.ts';
import { OAATGROUPS, OAATTYPES, PODS } from './resources.ts';

const GROUP_INFORMER = Symbol('OaatGroupInformer');
const TYPE_INFORMER = Symbol('OaatTypeInformer');
const POD_INFORMER = Symbol('PodInformer');

export function registerOaatControllers(container: Container): void {
  const config = container.get<OperatorConfig>(TOKENS.Config);
  const sightings = new PodSightings(Math.max(10 * 60_000, 2 * config.createGraceMs));

  container.bind(GROUP_INFORMER).toDynamicValue(
    (context) =>
      new Informer<OaatGroup>({
        client: context.get(TOKENS.Client),
        type: OAATGROUPS,
        namespaces: config.namespaces,
        logger: context.get(TOKENS.Logger),
        indexes: { [GROUP_TYPE_INDEX]: groupTypeIndex },
      }),
  );
  container.bind(TYPE_INFORMER).toDynamicValue(
    (context) =>
      new Informer<OaatType>({ client: context.get(TOKENS.Client), type: OAATTYPES, namespaces: config.namespaces, logger: context.get(TOKENS.Logger) }),
  );
  container.bind(POD_INFORMER).toDynamicValue((context) => {
    const pods = new Informer<V1Pod>({
      client: context.get(TOKENS.Client),
      type: PODS,
      namespaces: config.namespaces,
      labelSelector: `${LABELS.app}=${APP_LABEL_VALUE}`,
      logger: context.get(TOKENS.Logger),
      indexes: { [POD_GROUP_INDEX]: podGroupIndex },
    });
    const saw = (pod: V1Pod): void => {
      sightings.saw(pod);
    };
    pods.addEventHandler({ onAdd: saw, onUpdate: (_old, pod) => { saw(pod); }, onDelete: saw });
    return pods;
  });
  for (const token of [GROUP_INFORMER, TYPE_INFORMER, POD_INFORMER]) container.bind(TOKENS.Informer).toService(token);

  container.bind(TOKENS.Controller).toDynamicValue((context) => {
    const groups = context.get<Informer<OaatGroup>>(GROUP_INFORMER);
    const types = context.get<Informer<OaatType>>(TYPE_INFORMER);
    return new Controller<OaatGroup>({
      ...controllerOptions(context, 'oaatgroup'),
      reconciler: new OaatGroupReconciler({
        groups,
        pods: context.get(POD_INFORMER),
        types,
        client: context.get(TOKENS.Client),
        events: context.get(TOKENS.EventRecorder),
        sightings,
        clock: systemClock,
        rng: randomRng,
        settings: {
          requeueCapMs: config.requeueCapMs,
          retryFloorMs: config.retryFloorMs,
          createGraceMs: config.createGraceMs,
          stuckAfterMs: config.stuckAfterMs,
        },
      }),
      primary: groups,
      secondaries: [
        { informer: context.get<Informer<V1Pod>>(POD_INFORMER), map: groupOfPod },
        {
          informer: types,
          map: (type: OaatType) =>
            groups
              .byIndex(GROUP_TYPE_INDEX, `${type.metadata?.namespace ?? ''}/${type.metadata?.name ?? ''}`)
              .map(requestOf),
        },
      ],
    });
  });

  container.bind(TOKENS.Controller).toDynamicValue((context) => {
    const pods = context.get<Informer<V1Pod>>(POD_INFORMER);
    const groups = context.get<Informer<OaatGroup>>(GROUP_INFORMER);
    return new Controller<V1Pod>({
      ...controllerOptions(context, 'pod'),
      reconciler: new PodReconciler({
        pods,
        groups,
        client: context.get(TOKENS.Client),
        clock: systemClock,
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
          map: (group: OaatGroup) =>
            pods
              .byIndex(POD_GROUP_INDEX, `uid:${group.metadata?.uid ?? ''}`)
              .map(requestOf),
        },
      ],
    });
  });
}
