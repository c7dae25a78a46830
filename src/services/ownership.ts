/**
 * Which pods belong to which OaatGroup, in one place: the index keys the pod and group caches
 * are built with, the mapping from a pod to the group it wakes, and the ownership rule the run
 * protocol applies (architecture.md §3).
 *
 * A pod is *of* a group when its controller ownerReference names the group, or (pods whose
 * owner is gone or was never set) when its `parent-name` label does. It is *ours* only when
 * its controller ownerReference has the group's UID: a pod of a deleted group with the same
 * name, or one without a controller, is *foreign* and is never adopted or recorded.
 */
import type { V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import { ANNOTATIONS, LABELS } from '../api/v1/keys.ts';
import { labelValue } from '../api/v1/naming.ts';
import type { OaatGroup } from '../api/v1/types.ts';

/** Index of the pod cache: `uid:<controller uid>` and `label:<namespace>/<parent-name>`. */
export const POD_GROUP_INDEX = 'group';
/** Index of the group cache: `<namespace>/<oaatType>`. */
export const GROUP_TYPE_INDEX = 'oaatType';

/** A group by namespace and name. */
export interface GroupRef {
  readonly namespace: string;
  readonly name: string;
}

/** The pod's controller ownerReference to an OaatGroup, if any. */
function controllerRef(pod: V1Pod): V1OwnerReference | undefined {
  return pod.metadata?.ownerReferences?.find((ref) => ref.controller === true && ref.kind === 'OaatGroup');
}

/** The UID in the pod's controller ownerReference to an OaatGroup, if any. */
export function controllerUid(pod: V1Pod): string | undefined {
  return controllerRef(pod)?.uid;
}

export function podGroupIndex(pod: V1Pod): string[] {
  const values: string[] = [];
  const owner = controllerUid(pod);
  if (owner !== undefined) values.push(`uid:${owner}`);
  const parent = pod.metadata?.labels?.[LABELS.parentName];
  if (parent !== undefined) values.push(`label:${pod.metadata?.namespace ?? ''}/${parent}`);
  return values;
}

/** The pod index keys under which a group's pods are found: by its UID and by its label. */
export function podIndexKeysOf(group: OaatGroup): [byUid: string, byLabel: string] {
  return [`uid:${group.metadata?.uid ?? ''}`, `label:${group.metadata?.namespace ?? ''}/${labelValue(group.metadata?.name ?? '')}`];
}

export function groupTypeIndex(group: OaatGroup): string[] {
  const type = group.spec?.oaatType;
  return type === undefined || type === '' ? [] : [groupTypeKey(group.metadata?.namespace ?? '', type)];
}

export const GROUP_CONFIGMAP_INDEX = 'configMap';

/** The ConfigMaps a group reads items from, as `namespace/name` keys (see groupTypeKey). */
export function groupConfigMapIndex(group: OaatGroup): string[] {
  return (group.spec?.oaatItemsFrom ?? []).map((source) => groupTypeKey(group.metadata?.namespace ?? '', source.configMapKeyRef.name));
}

/** The group-cache index key of the groups that use OaatType `type` in `namespace` (or read ConfigMap `type`: same form). */
export function groupTypeKey(namespace: string, type: string): string {
  return `${namespace}/${type}`;
}

/** The group a pod change wakes: its controller owner, else its parent-name label. */
export function groupOfPod(pod: V1Pod): GroupRef[] {
  const namespace = pod.metadata?.namespace ?? '';
  const owner = controllerRef(pod);
  if (owner) return [{ namespace, name: owner.name }];
  const parent = pod.metadata?.labels?.[LABELS.parentName];
  return parent === undefined ? [] : [{ namespace, name: parent }];
}

/** Whether the group created the pod (or adopted it from the original): its controller UID is the group's. */
export function isOurs(pod: V1Pod, group: OaatGroup): boolean {
  const uid = group.metadata?.uid;
  return uid !== undefined && controllerUid(pod) === uid;
}

/** The item a pod runs: its annotation, else (pods of the original) its oaat-name label. */
export function itemOfPod(pod: V1Pod): string | undefined {
  return pod.metadata?.annotations?.[ANNOTATIONS.item] ?? pod.metadata?.labels?.[LABELS.itemName];
}

/** The run id of the claim the pod belongs to (absent on the original's pods). */
export function runIdOf(pod: V1Pod): string | undefined {
  return pod.metadata?.labels?.[LABELS.runId];
}

/** The sequence number of the claim the pod belongs to (absent on pods of the original and of v1). */
export function runSeqOf(pod: V1Pod): number | undefined {
  const value = Number(pod.metadata?.annotations?.[ANNOTATIONS.runSeq]);
  return Number.isSafeInteger(value) && value > 0 ? value : undefined;
}
