/**
 * Removal of the Python original's kopf finalizer. This operator puts no finalizers on anything
 * (architecture.md §4: a stopped operator never blocks `kubectl delete`); groups and pods the
 * original left behind carry `oaatoperator.kawaja.net/kopf-finalizer`, which would keep them
 * from ever being deleted once the original is gone. Whatever touches such an object removes it.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { KOPF_FINALIZER } from '../api/v1/keys.ts';
import { isNotFound } from '../runtime/api-error.ts';
import type { ApiClient, ResourceType } from '../runtime/client.ts';

export function hasKopfFinalizer(object: KubernetesObject): boolean {
  return object.metadata?.finalizers?.includes(KOPF_FINALIZER) === true;
}

/**
 * Removes the kopf finalizer (other finalizers stay), guarded by the resourceVersion read: a
 * concurrent change answers 409 and the caller's reconcile runs again. Returns whether it wrote.
 */
export async function removeKopfFinalizer(client: ApiClient, type: ResourceType, object: KubernetesObject): Promise<boolean> {
  if (!hasKopfFinalizer(object)) return false;
  const finalizers = (object.metadata?.finalizers ?? []).filter((finalizer) => finalizer !== KOPF_FINALIZER);
  try {
    await client.patch(type, object.metadata?.namespace ?? '', object.metadata?.name ?? '', { metadata: { finalizers } }, {
      resourceVersion: object.metadata?.resourceVersion ?? '',
    });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  return true;
}
