/**
 * An in-memory API server with the semantics the run protocol depends on: one global
 * resourceVersion order, uids, merge patches of an object or its `/status` with a
 * resourceVersion precondition (409 Conflict), creates that answer 409 AlreadyExists, deletes
 * with a uid precondition, graceful pod deletion (deletionTimestamp, then the kubelet removes
 * the pod), admission that can refuse pods, and watches. Requests arrive here through
 * {@link SimNetwork}; the kubelet, the garbage collector, users and the oracle act on it
 * directly.
 *
 * Kinds are `OaatGroup`, `OaatType` and `Pod`, all namespaced.
 */
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import jsonMergePatch from 'json-merge-patch';
import { ApiError, ConflictError } from '../../src/runtime/api-error.ts';
import type { EventLoop } from './event-loop.ts';

export type Kind = 'OaatGroup' | 'OaatType' | 'Pod';

export type WatchType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One committed change, as a watch delivers it. */
export interface Change {
  kind: Kind;
  type: WatchType;
  object: KubernetesObject;
  /** The resourceVersion of the change (for DELETED: the revision of the removal). */
  rv: number;
  /** Who made it: a replica's incarnation, or '' (users, kubelet, garbage collector). */
  actor: Actor;
}

/** Who sent a request: a replica's incarnation, or a person/system component. */
export type Actor = string;

/** Decides whether a pod may be created (admission, quota): a message refuses it (403). */
export type Admission = (pod: V1Pod) => string | undefined;

/** Objects are plain JSON here (as on the wire), and a JSON round trip copies them fastest. */
function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export class SimApiServer {
  #rv = 0;
  #uid = 0;
  readonly #objects = new Map<Kind, Map<string, KubernetesObject>>([
    ['OaatGroup', new Map()],
    ['OaatType', new Map()],
    ['Pod', new Map()],
  ]);
  readonly #watchers: ((change: Change) => void)[] = [];
  /** Pods refused by admission unless this says otherwise. */
  admission: Admission = () => undefined;
  /**
   * The most keys `status.items` of a group may have (the CRD's maxProperties; a stand-in, at
   * the simulation's scale, for etcd's object size limit): a larger status is refused (422).
   */
  maxStatusItems = Infinity;
  /** Set by pods/create of pods that were created with their creator (for the oracle). */
  readonly creatorOfPod = new Map<string, Actor>();

  #actor: Actor = '';

  constructor(private readonly loop: EventLoop) {}

  /** Runs a request of `actor` (changes it makes carry its name). */
  as<T>(actor: Actor, request: () => T): T {
    this.#actor = actor;
    try {
      return request();
    } finally {
      this.#actor = '';
    }
  }

  get resourceVersion(): number {
    return this.#rv;
  }

  /** Every stored object of a kind (clones). */
  list(kind: Kind, namespace?: string): KubernetesObject[] {
    return [...this.#store(kind).values()].filter((o) => namespace === undefined || o.metadata?.namespace === namespace).map(clone);
  }

  /** Every stored object of a kind, without cloning: for the simulation's own components, which never modify them. */
  all(kind: Kind): Iterable<KubernetesObject> {
    return this.#store(kind).values();
  }

  /** Read without cloning: for the simulation's own components, which never modify it. */
  peek(kind: Kind, namespace: string, name: string): KubernetesObject | undefined {
    return this.#store(kind).get(key(namespace, name));
  }

  exists(kind: Kind, uid: string | undefined): boolean {
    if (uid === undefined) return false;
    for (const object of this.#store(kind).values()) if (object.metadata?.uid === uid) return true;
    return false;
  }

  watch(handler: (change: Change) => void): void {
    this.#watchers.push(handler);
  }

  get(kind: Kind, namespace: string, name: string): KubernetesObject {
    const object = this.#store(kind).get(key(namespace, name));
    if (object === undefined) throw notFound(kind, name);
    return clone(object);
  }

  create(kind: Kind, object: KubernetesObject, actor: Actor, options: { dryRun?: boolean } = {}): KubernetesObject {
    const namespace = object.metadata?.namespace ?? '';
    const name = object.metadata?.name ?? '';
    if (this.#store(kind).has(key(namespace, name))) {
      throw new ApiError(`${kind} ${name} already exists`, 409, 'AlreadyExists');
    }
    if (kind === 'Pod') {
      const refusal = this.admission(object);
      if (refusal !== undefined) throw new ApiError(`pods "${name}" is forbidden: ${refusal}`, 403, 'Forbidden');
    }
    if (options.dryRun === true) return clone(object);
    const stored = clone(object);
    const metadata = (stored.metadata ??= {});
    metadata.uid = `uid-${String(++this.#uid)}`;
    metadata.creationTimestamp = timestamp(this.loop.now());
    if (kind === 'Pod') {
      (stored as V1Pod).status = { phase: 'Pending' };
      this.creatorOfPod.set(metadata.uid, actor);
    }
    this.#commit(kind, 'ADDED', stored);
    return clone(stored);
  }

  /**
   * JSON merge patch of the object (metadata, spec) or of its status; `resourceVersion` is a
   * precondition. A patch that changes nothing writes nothing (no new resourceVersion).
   */
  patch(kind: Kind, namespace: string, name: string, patch: Record<string, unknown>, options: { subresource?: 'status'; resourceVersion?: string } = {}): KubernetesObject {
    const stored = this.#store(kind).get(key(namespace, name));
    if (stored === undefined) throw notFound(kind, name);
    const { metadata: patchMeta, ...rest } = patch as { metadata?: Record<string, unknown> } & Record<string, unknown>;
    const precondition = options.resourceVersion ?? (patchMeta?.resourceVersion as string | undefined);
    if (precondition !== undefined && precondition !== stored.metadata?.resourceVersion) {
      throw new ConflictError(`Operation cannot be fulfilled on ${kind} "${name}": the object has been modified`, 409, 'Conflict');
    }
    const next = clone(stored) as KubernetesObject & Record<string, unknown>;
    if (options.subresource === 'status') {
      if (rest.status !== undefined) next.status = jsonMergePatch.apply(clone(next.status ?? {}), rest.status);
      const keys = Object.keys((next.status as { items?: object } | undefined)?.items ?? {}).length;
      if (keys > this.maxStatusItems) {
        throw new ApiError(`${kind} "${name}" is invalid: status.items: Too many: ${String(keys)}: must have at most ${String(this.maxStatusItems)} items`, 422, 'Invalid');
      }
    } else {
      const meta = { ...patchMeta };
      delete meta.resourceVersion;
      next.metadata = jsonMergePatch.apply(clone(next.metadata ?? {}), meta);
      if (rest.spec !== undefined) next.spec = jsonMergePatch.apply(clone(next.spec ?? {}), rest.spec);
    }
    return clone(this.#update(kind, stored, next));
  }

  /** Replaces status fields the kubelet owns (no precondition), returning the stored object. */
  updateStatus(kind: Kind, namespace: string, name: string, change: (object: KubernetesObject & Record<string, unknown>) => void): KubernetesObject | undefined {
    const stored = this.#store(kind).get(key(namespace, name));
    if (stored === undefined) return undefined;
    const next = clone(stored) as KubernetesObject & Record<string, unknown>;
    change(next);
    return this.#update(kind, stored, next);
  }

  /**
   * Deletes an object (with a uid precondition: 409 Conflict when it was replaced). A pod on a
   * node is deleted gracefully: it gets a deletionTimestamp and the kubelet removes it; a grace
   * period of 0, or a terminal pod (Succeeded, Failed), is removed at once, as kube-apiserver's
   * pod strategy does (CheckGracefulDelete).
   */
  delete(kind: Kind, namespace: string, name: string, options: { uid?: string; gracePeriodSeconds?: number } = {}): void {
    const stored = this.#store(kind).get(key(namespace, name));
    if (stored === undefined) throw notFound(kind, name);
    if (options.uid !== undefined && options.uid !== stored.metadata?.uid) {
      throw new ConflictError(`Precondition failed: UID in precondition: ${options.uid}, UID in object meta: ${stored.metadata?.uid ?? ''}`, 409, 'Conflict');
    }
    const phase = (stored as V1Pod).status?.phase;
    if (kind !== 'Pod' || options.gracePeriodSeconds === 0 || phase === 'Succeeded' || phase === 'Failed') {
      this.remove(kind, namespace, name);
      return;
    }
    if (stored.metadata?.deletionTimestamp !== undefined) return;
    const pod = stored as V1Pod;
    const grace = options.gracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    const next = clone(pod);
    const metadata = (next.metadata ??= {});
    metadata.deletionTimestamp = timestamp(this.loop.now() + grace * 1000);
    metadata.deletionGracePeriodSeconds = grace;
    this.#update(kind, stored, next);
  }

  /** Removes an object from storage (the kubelet's final delete, garbage collection of a group). */
  remove(kind: Kind, namespace: string, name: string): void {
    const stored = this.#store(kind).get(key(namespace, name));
    if (stored === undefined) return;
    this.#store(kind).delete(key(namespace, name));
    const last = clone(stored);
    const rv = ++this.#rv;
    this.#emit({ kind, type: 'DELETED', object: last, rv, actor: this.#actor });
  }

  #update(kind: Kind, stored: KubernetesObject, next: KubernetesObject): KubernetesObject {
    const withoutVersion = (object: KubernetesObject): string => JSON.stringify(object, (k, v: unknown) => (k === 'resourceVersion' ? undefined : v));
    if (withoutVersion(stored) === withoutVersion(next)) return stored;
    this.#commit(kind, 'MODIFIED', next);
    return next;
  }

  #commit(kind: Kind, type: WatchType, object: KubernetesObject): void {
    const rv = ++this.#rv;
    const metadata = (object.metadata ??= {});
    metadata.resourceVersion = String(rv);
    this.#store(kind).set(key(metadata.namespace ?? '', metadata.name ?? ''), object);
    this.#emit({ kind, type, object: clone(object), rv, actor: this.#actor });
  }

  #emit(change: Change): void {
    for (const watcher of this.#watchers) watcher(change);
  }

  #store(kind: Kind): Map<string, KubernetesObject> {
    const store = this.#objects.get(kind);
    if (store === undefined) throw new Error(`unknown kind ${kind}`);
    return store;
  }
}

/** Timestamps are RFC 3339 strings on the wire and in caches, whatever client-node's types say. */
export function timestamp(ms: number): Date {
  return new Date(ms).toISOString() as unknown as Date;
}

function notFound(kind: Kind, name: string): ApiError {
  return new ApiError(`${kind.toLowerCase()}s "${name}" not found`, 404, 'NotFound');
}
