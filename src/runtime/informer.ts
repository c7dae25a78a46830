/**
 * An informer: a local cache of one resource type, kept in sync with the API server by
 * list + watch, that tells handlers what changed.
 *
 * Contract:
 * - After {@link Informer.hasSynced} turns true (every watched namespace listed once), the
 *   cache holds every object the server had at some recent point, and converges to the
 *   server's state: each change reaches the handlers as an add, update or delete, in order per
 *   object. Several changes may collapse into one update; handlers must be level-based.
 * - It never gives up. A watch that ends cleanly (server timeout) resumes from the last seen
 *   resourceVersion; 410 Gone (resourceVersion too old) leads to a fresh paginated LIST, whose
 *   differences to the cache are delivered as adds, updates and deletes (so a delete missed
 *   during an outage is still reported); failures, relists and watches that end at once having
 *   delivered nothing are retried with exponential backoff and jitter. A watch that delivers
 *   nothing, not even a bookmark, for longer than the inactivity limit is considered dead and
 *   restarted. An idle, healthy watch never relists.
 * - Handlers run synchronously in event order and must be quick (enqueue a key); an exception
 *   in a handler is logged and does not disturb the informer.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubernetesObject } from '@kubernetes/client-node';
import { ApiError } from './api-error.ts';
import type { KubeClient, ResourceType, WatchEvent } from './client.ts';
import { errorMeta, type Logger } from './logger.ts';

/** Receives the changes of an informer's cache. All methods are optional. */
export interface EventHandler<T> {
  onAdd?(object: T): void;
  onUpdate?(oldObject: T, newObject: T): void;
  /** `object` is the last state the cache knew. */
  onDelete?(object: T): void;
}

/**
 * Read access to a cache of objects, as reconcilers use it. Objects are shared with the cache:
 * never modify them.
 */
export interface Cache<T> {
  get(namespace: string, name: string): T | undefined;
  /** Every cached object, or those of one namespace. */
  list(namespace?: string): T[];
  /** The cached objects indexed under `value` by index `name` (an index the cache was built with). */
  byIndex(name: string, value: string): T[];
}

/** Where a controller learns of changes: a cache's add, update and delete notifications. */
export interface EventSource<T> {
  /** Registers a handler; objects already cached are delivered to it as adds first. */
  addEventHandler(handler: EventHandler<T>): void;
}

/** The values an object is indexed under (e.g. the UIDs of its owners). */
export type IndexFunc<T> = (object: T) => readonly string[];

export interface InformerOptions<T> {
  client: KubeClient;
  type: ResourceType;
  logger: Logger;
  /** Namespaces to watch, one list+watch each; empty or omitted: all namespaces. */
  namespaces?: readonly string[];
  labelSelector?: string;
  /** LIST page size; default 500. */
  pageSize?: number;
  /** Server-side watch timeout, drawn for each watch; default uniformly 5 to 10 minutes (client-go). */
  watchTimeoutSeconds?: () => number;
  /** A watch silent for this long (no event, no bookmark) is restarted; default 150 s. */
  inactivityLimitMs?: number;
  /** Backoff after failed watches or lists: first delay and cap; default 800 ms and 30 s. */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  indexes?: Readonly<Record<string, IndexFunc<T>>>;
  /**
   * Applied to every object before it is cached, e.g. to drop fields nobody reads. The
   * default removes `metadata.managedFields`, which is often the largest part of an object.
   */
  transform?: (object: T) => T;
}

/** Counters for tests, metrics and readiness. */
export interface InformerStats {
  /** Complete LISTs, the initial ones included. */
  lists: number;
  /** LISTs after the first one of a namespace (410, or a missing resourceVersion). */
  relists: number;
  watchStarts: number;
  watchFailures: number;
  /** Watches restarted because they were silent past the inactivity limit. */
  watchStalls: number;
  /** Watches that ended at once having delivered nothing (then the reflector backs off). */
  shortWatches: number;
  events: number;
}

/** A watch that ends sooner than this having delivered nothing counts as a failure (client-go: 1 s). */
const SHORT_WATCH_MS = 1_000;

/** Thrown inside a reflector when the server says the resourceVersion is too old. */
class ResourceVersionTooOld extends Error {}

function stripManagedFields<T extends KubernetesObject>(object: T): T {
  if (object.metadata?.managedFields !== undefined) delete object.metadata.managedFields;
  return object;
}

export function objectKey(object: KubernetesObject): string {
  const namespace = object.metadata?.namespace ?? '';
  const name = object.metadata?.name ?? '';
  return namespace === '' ? name : `${namespace}/${name}`;
}

export class Informer<T extends KubernetesObject> implements Cache<T>, EventSource<T> {
  readonly stats: InformerStats = { lists: 0, relists: 0, watchStarts: 0, watchFailures: 0, watchStalls: 0, shortWatches: 0, events: 0 };
  private readonly store = new Map<string, T>();
  private readonly handlers: EventHandler<T>[] = [];
  private readonly indexes = new Map<string, Map<string, Set<string>>>();
  private readonly indexedValues = new Map<string, Map<string, readonly string[]>>();
  private readonly reflectors: Reflector<T>[];
  private abort: AbortController | undefined;
  private running: Promise<unknown> | undefined;

  constructor(readonly options: InformerOptions<T>) {
    const namespaces = options.namespaces && options.namespaces.length > 0 ? options.namespaces : [undefined];
    this.reflectors = namespaces.map((namespace) => new Reflector(this, namespace));
    for (const name of Object.keys(options.indexes ?? {})) {
      this.indexes.set(name, new Map());
      this.indexedValues.set(name, new Map());
    }
  }

  /** The resource type this informer caches, e.g. `Pod`. */
  get kind(): string {
    return this.options.type.kind;
  }

  /**
   * Registers a handler. Objects already in the cache are delivered to it as adds first, so a
   * handler registered late misses nothing.
   */
  addEventHandler(handler: EventHandler<T>): void {
    this.handlers.push(handler);
    if (handler.onAdd) for (const object of this.store.values()) this.safely(() => handler.onAdd?.(object));
  }

  /** Starts listing and watching in the background; returns at once. */
  start(): void {
    if (this.abort) throw new Error(`informer for ${this.kind} already started`);
    this.abort = new AbortController();
    const signal = this.abort.signal;
    this.running = Promise.all(this.reflectors.map((reflector) => reflector.run(signal)));
  }

  /** Stops every list and watch; resolves once they have ended. The cache stays readable. */
  async stop(): Promise<void> {
    this.abort?.abort();
    await this.running;
  }

  /** True once every watched namespace has been listed. */
  hasSynced(): boolean {
    return this.reflectors.every((reflector) => reflector.synced);
  }

  /**
   * Healthy: synced, and every list+watch loop showed life (a list, a watch start, an event or
   * a bookmark) within `withinMs` (default twice the inactivity limit).
   */
  isHealthy(now = Date.now(), withinMs = 2 * this.inactivityLimitMs): boolean {
    return this.hasSynced() && this.reflectors.every((reflector) => now - reflector.lastActivityAt <= withinMs);
  }

  /** Resolves once synced; rejects after `timeoutMs`. */
  async waitForSync(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.hasSynced()) {
      if (signal?.aborted === true) throw new Error(`stopped while waiting for the ${this.kind} cache to sync`);
      if (Date.now() > deadline) throw new Error(`the ${this.kind} cache did not sync within ${timeoutMs} ms`);
      await sleep(20);
    }
  }

  get(namespace: string, name: string): T | undefined {
    return this.store.get(namespace === '' ? name : `${namespace}/${name}`);
  }

  /** Every cached object, or those of one namespace. */
  list(namespace?: string): T[] {
    const all = [...this.store.values()];
    return namespace === undefined ? all : all.filter((object) => object.metadata?.namespace === namespace);
  }

  /** The cached objects indexed under `value` by index `name`. */
  byIndex(name: string, value: string): T[] {
    const index = this.indexes.get(name);
    if (index === undefined) throw new Error(`informer for ${this.kind} has no index '${name}'`);
    const keys = index.get(value);
    if (keys === undefined) return [];
    const objects: T[] = [];
    for (const key of keys) {
      const object = this.store.get(key);
      if (object !== undefined) objects.push(object);
    }
    return objects;
  }

  get inactivityLimitMs(): number {
    return this.options.inactivityLimitMs ?? 150_000;
  }

  /** @internal Reflectors apply what they learn through these. */
  prepare(object: T): T {
    return (this.options.transform ?? stripManagedFields)(object);
  }

  /** @internal */
  upsert(object: T): void {
    const key = objectKey(object);
    const old = this.store.get(key);
    if (old !== undefined && old.metadata?.resourceVersion === object.metadata?.resourceVersion) return;
    this.store.set(key, object);
    this.reindex(key, object);
    for (const handler of this.handlers) {
      this.safely(() => (old === undefined ? handler.onAdd?.(object) : handler.onUpdate?.(old, object)));
    }
  }

  /** @internal */
  remove(key: string, lastState?: T): void {
    const old = this.store.get(key);
    if (old === undefined) return;
    this.store.delete(key);
    this.reindex(key, undefined);
    const final = lastState ?? old;
    for (const handler of this.handlers) this.safely(() => handler.onDelete?.(final));
  }

  /** @internal Keys of cached objects a reflector owns (its namespace, or all). */
  keysIn(namespace: string | undefined): string[] {
    if (namespace === undefined) return [...this.store.keys()];
    const prefix = `${namespace}/`;
    return [...this.store.keys()].filter((key) => key.startsWith(prefix));
  }

  private reindex(key: string, object: T | undefined): void {
    for (const [name, indexFunc] of Object.entries(this.options.indexes ?? {})) {
      const index = this.indexes.get(name);
      const previous = this.indexedValues.get(name);
      if (index === undefined || previous === undefined) continue;
      for (const value of previous.get(key) ?? []) {
        const keys = index.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index.delete(value);
      }
      const values = object === undefined ? [] : indexFunc(object);
      if (values.length === 0) {
        previous.delete(key);
        continue;
      }
      previous.set(key, values);
      for (const value of values) {
        let keys = index.get(value);
        if (keys === undefined) index.set(value, (keys = new Set()));
        keys.add(key);
      }
    }
  }

  private safely(deliver: () => void): void {
    try {
      deliver();
    } catch (error) {
      this.options.logger.error(`${this.kind} event handler failed`, errorMeta(error));
    }
  }
}

/** One list+watch loop, for one namespace (or all). */
class Reflector<T extends KubernetesObject> {
  synced = false;
  lastActivityAt = Date.now();
  private readonly log: Logger;

  constructor(
    private readonly informer: Informer<T>,
    private readonly namespace: string | undefined,
  ) {
    this.log = informer.options.logger.child({ informer: informer.kind, namespace: namespace ?? '*' });
  }

  /**
   * Lists, then watches, forever. Every way a watch can fail to make progress backs off
   * (jittered, doubling from `backoffInitialMs` to `backoffMaxMs`, as client-go's reflector
   * does): a failed list or watch, a 410 (the relist waits too), and a watch that ends within
   * {@link SHORT_WATCH_MS} having delivered nothing (a proxy that answers and hangs up at once
   * would otherwise cause a request storm). A watch that delivered anything resets the backoff.
   */
  async run(signal: AbortSignal): Promise<void> {
    const { backoffInitialMs = 800, backoffMaxMs = 30_000 } = this.informer.options;
    let resourceVersion: string | undefined;
    let backoff = backoffInitialMs;
    // A function, because the signal changes under us while we await.
    const stopped = (): boolean => signal.aborted;
    while (!stopped()) {
      try {
        resourceVersion ??= await this.listAndReplace(signal);
        const started = Date.now();
        const outcome = await this.watch(resourceVersion, signal);
        resourceVersion = outcome.resourceVersion;
        if (outcome.delivered || Date.now() - started >= SHORT_WATCH_MS) {
          backoff = backoffInitialMs;
          continue;
        }
        this.informer.stats.shortWatches++;
        this.log.info('watch ended at once with nothing delivered; backing off', { retryInMs: backoff });
      } catch (error) {
        if (stopped()) break;
        if (error instanceof ResourceVersionTooOld || (error instanceof ApiError && error.status === 410)) {
          this.log.info('resourceVersion too old: listing again', { resourceVersion, retryInMs: backoff });
          resourceVersion = undefined;
        } else {
          this.informer.stats.watchFailures++;
          this.log.warn('list/watch failed; retrying', { ...errorMeta(error), retryInMs: backoff });
        }
      }
      const delay = backoff * (0.5 + Math.random() / 2);
      backoff = Math.min(backoff * 2, backoffMaxMs);
      await sleep(delay, undefined, { signal }).catch(() => undefined);
    }
  }

  /** Lists every page, replaces this reflector's part of the cache, returns the list's resourceVersion. */
  private async listAndReplace(signal: AbortSignal): Promise<string> {
    const { client, type, labelSelector, pageSize = 500 } = this.informer.options;
    const listed = new Map<string, T>();
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      if (signal.aborted) throw new Error('stopped');
      const page = await client.list<T>(type, {
        ...(this.namespace !== undefined && { namespace: this.namespace }),
        ...(labelSelector !== undefined && { labelSelector }),
        limit: pageSize,
        ...(continueToken !== undefined && { continueToken }),
      });
      for (const item of page.items) {
        // LIST items carry no kind; the cache keeps objects as a GET would return them.
        const object = this.informer.prepare({ ...item, apiVersion: type.apiVersion, kind: type.kind });
        listed.set(objectKey(object), object);
      }
      continueToken = page.metadata.continue !== undefined && page.metadata.continue !== '' ? page.metadata.continue : undefined;
      resourceVersion = page.metadata.resourceVersion ?? resourceVersion;
    } while (continueToken !== undefined);

    for (const key of this.informer.keysIn(this.namespace)) {
      if (!listed.has(key)) this.informer.remove(key);
    }
    for (const object of listed.values()) this.informer.upsert(object);
    const stats = this.informer.stats;
    stats.lists++;
    if (this.synced) stats.relists++;
    this.synced = true;
    this.lastActivityAt = Date.now();
    this.log.debug('listed', { objects: listed.size, resourceVersion });
    return resourceVersion;
  }

  /**
   * Watches from `resourceVersion` until the server ends the watch, the watch stalls, or
   * `signal` aborts; returns the last resourceVersion seen. Throws on failure.
   */
  private async watch(resourceVersion: string, signal: AbortSignal): Promise<{ resourceVersion: string; delivered: boolean }> {
    const { client, type, labelSelector, watchTimeoutSeconds } = this.informer.options;
    const limit = this.informer.inactivityLimitMs;
    const stall = new AbortController();
    const watchSignal = AbortSignal.any([signal, stall.signal]);
    let timer = setTimeout(() => { stall.abort(); }, limit);
    let latest = resourceVersion;
    let delivered = false;
    this.informer.stats.watchStarts++;
    this.lastActivityAt = Date.now();
    try {
      const events = client.watch<T>(
        type,
        {
          ...(this.namespace !== undefined && { namespace: this.namespace }),
          ...(labelSelector !== undefined && { labelSelector }),
          resourceVersion,
          timeoutSeconds: watchTimeoutSeconds?.() ?? 300 + Math.floor(Math.random() * 300),
          allowWatchBookmarks: true,
        },
        watchSignal,
      );
      for await (const event of events) {
        clearTimeout(timer);
        timer = setTimeout(() => { stall.abort(); }, limit);
        this.lastActivityAt = Date.now();
        latest = this.apply(event) ?? latest;
        delivered = true;
      }
    } finally {
      clearTimeout(timer);
    }
    if (stall.signal.aborted && !signal.aborted) {
      this.informer.stats.watchStalls++;
      this.log.warn('watch silent past the inactivity limit; restarting it', { inactivityLimitMs: limit });
    }
    return { resourceVersion: latest, delivered };
  }

  /** Applies one watch event to the cache; returns the resourceVersion it carries. */
  private apply(event: WatchEvent<T>): string | undefined {
    const stats = this.informer.stats;
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED': {
        stats.events++;
        const object = this.informer.prepare(event.object);
        this.informer.upsert(object);
        return object.metadata?.resourceVersion;
      }
      case 'DELETED': {
        stats.events++;
        const object = this.informer.prepare(event.object);
        this.informer.remove(objectKey(object), object);
        return object.metadata?.resourceVersion;
      }
      case 'BOOKMARK':
        return event.object.metadata?.resourceVersion;
      case 'ERROR': {
        const status = event.object as unknown as { code?: number; reason?: string; message?: string };
        if (status.code === 410) throw new ResourceVersionTooOld(status.message ?? 'Gone');
        throw new ApiError(`watch error: ${status.message ?? 'unknown'}`, status.code ?? 0, status.reason ?? '');
      }
    }
  }
}
