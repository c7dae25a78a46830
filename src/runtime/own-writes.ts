/**
 * The versions of objects that this process's own writes replaced or deleted, by object key.
 *
 * After a write succeeds, the informer's cache shows the old version until the write's watch
 * event arrives, and that event enqueues the object again. A reconcile in between would plan on
 * state older than this process's own write: its next write, guarded by the old
 * resourceVersion, would be refused (409), and a delete of an object already deleted would
 * answer 404. {@link OwnWrites.isStale} tells such a reconcile to stop; nothing is lost, because
 * the event is on its way (a relist after a broken watch delivers it too). client-go's
 * controller "expectations" play the same part for creates and deletes.
 *
 * Contract: record only writes that changed the object. A write that changes nothing keeps the
 * resourceVersion and no event follows, so recording it would stop every later reconcile. An
 * entry goes once a reconcile sees the cache show another version, or no object.
 */
import type { KubernetesObject } from '@kubernetes/client-node';

export class OwnWrites {
  private readonly replaced = new Map<string, string>();

  /** A write of the object `key` succeeded and replaced (or deleted) its version `resourceVersion`. */
  wrote(key: string, resourceVersion: string | undefined): void {
    if (resourceVersion !== undefined && resourceVersion !== '') this.replaced.set(key, resourceVersion);
  }

  /**
   * Whether `cached`, the cache's view of `key`, is a version this process's own write already
   * replaced or deleted (the reconcile should wait for the write's event). Forgets `key` once it is not.
   */
  isStale(key: string, cached: KubernetesObject | undefined): boolean {
    const replaced = this.replaced.get(key);
    if (replaced === undefined) return false;
    if (cached?.metadata?.resourceVersion === replaced) return true;
    this.replaced.delete(key);
    return false;
  }
}
