/**
 * One operator process in the simulation: the operator's own controllers, reconcilers, work
 * queues and rate limiters (built by `oaatControllers`, exactly as the container builds them),
 * on simulated parts:
 *
 * - caches fed by the API server's changes after a delay of this replica's own (watch lag),
 *   with label-selector semantics for pods (a pod whose `app` label is edited away leaves the
 *   cache as a delete) and relists;
 * - an API client whose requests travel through {@link SimNetwork} (latency, requests held in
 *   flight past their timeout, lost responses, transient errors);
 * - timers and a clock on the virtual clock; a seeded rng.
 *
 * A crash stops it at whatever await it is in: its timers never fire, answers to its requests
 * never arrive, and the requests it sent still reach the server.
 */
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import { APP_LABEL_VALUE, LABELS } from '../../src/api/v1/keys.ts';
import type { OaatGroup, OaatType } from '../../src/api/v1/types.ts';
import type { OperatorConfig } from '../../src/config.ts';
import { GROUP_INDEXES, oaatControllers, POD_INDEXES, type OaatControllers } from '../../src/controllers/registration.ts';
import type { RunMetrics } from '../../src/controllers/run-metrics.ts';
import { ApiError, NotSentError } from '../../src/runtime/api-error.ts';
import type { ApiClient, CreateOptions, DeleteOptions, PatchOptions, ResourceType } from '../../src/runtime/client.ts';
import type { ControllerMetrics } from '../../src/runtime/controller-metrics.ts';
import type { EventRecorder } from '../../src/runtime/events.ts';
import type { Cache, EventHandler, EventSource, IndexFunc } from '../../src/runtime/informer.ts';
import type { Logger, LogMeta } from '../../src/runtime/logger.ts';
import { defaultControllerRateLimiter } from '../../src/runtime/rate-limiter.ts';
import type { Timers } from '../../src/runtime/timers.ts';
import { seededRng } from '../../src/services/rng.ts';
import type { Change, Kind, SimApiServer } from './api-server.ts';
import type { EventLoop, Scheduled } from './event-loop.ts';

/** What the network does to requests; probabilities per request. */
export interface NetworkFaults {
  /** The write commits but the caller sees a timeout. */
  lostResponse: number;
  /** The server answers 500 without doing anything. */
  transientError: number;
  /** A pod create is held in flight past the client's timeout, within the server's. */
  heldCreate: number;
  /** The sending replica dies right after sending the request. */
  crashAfterSend: number;
}

export const NO_NETWORK_FAULTS: NetworkFaults = { lostResponse: 0, transientError: 0, heldCreate: 0, crashAfterSend: 0 };

/** Requests counted per group (namespace/name) and verb, for rate bounds. */
export type RequestLog = (replica: string, group: string, verb: string, at: number, status: number, before: KubernetesObject | undefined) => void;

class SimCache<T extends KubernetesObject> implements Cache<T>, EventSource<T> {
  readonly store = new Map<string, T>();
  readonly handlers: EventHandler<T>[] = [];
  rv = 0;

  constructor(
    private readonly indexes: Readonly<Record<string, IndexFunc<T>>> = {},
    private readonly selects: (object: T) => boolean = () => true,
  ) {}

  get(namespace: string, name: string): T | undefined {
    return this.store.get(`${namespace}/${name}`);
  }

  list(namespace?: string): T[] {
    return [...this.store.values()].filter((o) => namespace === undefined || o.metadata?.namespace === namespace);
  }

  byIndex(name: string, value: string): T[] {
    const index = this.indexes[name];
    if (index === undefined) throw new Error(`no index ${name}`);
    return [...this.store.values()].filter((object) => index(object).includes(value));
  }

  addEventHandler(handler: EventHandler<T>): void {
    this.handlers.push(handler);
    for (const object of this.store.values()) handler.onAdd?.(object);
  }

  /** Applies one watch event (ignored when the cache has seen a newer state). */
  apply(change: Change): void {
    if (change.rv <= this.rv) return;
    this.rv = change.rv;
    const object = change.object as T;
    const id = `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
    const old = this.store.get(id);
    if (change.type === 'DELETED' || !this.selects(object)) {
      if (old === undefined) return;
      this.store.delete(id);
      for (const handler of this.handlers) handler.onDelete?.(change.type === 'DELETED' ? object : old);
      return;
    }
    this.store.set(id, object);
    for (const handler of this.handlers) {
      if (old === undefined) handler.onAdd?.(object);
      else handler.onUpdate?.(old, object);
    }
  }

  /** Replaces the content with a fresh list, delivering the differences (a relist). */
  resync(objects: T[], rv: number): void {
    const fresh = new Map(objects.filter(this.selects).map((o) => [`${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`, o]));
    for (const [id, old] of [...this.store]) {
      if (fresh.has(id)) continue;
      this.store.delete(id);
      for (const handler of this.handlers) handler.onDelete?.(old);
    }
    for (const [id, object] of fresh) {
      const old = this.store.get(id);
      if (old?.metadata?.resourceVersion === object.metadata?.resourceVersion) continue;
      this.store.set(id, object);
      for (const handler of this.handlers) {
        if (old === undefined) handler.onAdd?.(object);
        else handler.onUpdate?.(old, object);
      }
    }
    this.rv = rv;
  }
}

const noRunMetrics: RunMetrics = { closed: () => undefined };
const noMetrics: ControllerMetrics = {
  reconciled: () => undefined,
  failed: () => undefined,
  panicked: () => undefined,
  workerStarted: () => undefined,
  workerStopped: () => undefined,
};

function groupOfRequest(kind: Kind, object: KubernetesObject | undefined, namespace: string, name: string): string {
  if (kind === 'OaatGroup') return `${namespace}/${name}`;
  const parent = object?.metadata?.labels?.[LABELS.parentName];
  if (parent !== undefined) return `${namespace}/${parent}`;
  // A pod name starts with its group's name (naming.ts); good enough to attribute the request.
  return `${namespace}/${name.split('-')[0] ?? name}`;
}

export interface ReplicaOptions {
  name: string;
  loop: EventLoop;
  server: SimApiServer;
  config: OperatorConfig;
  faults: () => NetworkFaults;
  /** Watch lag of this replica right now (ms), for changes of `kind`. */
  watchLagMs: (kind: Kind) => number;
  /** The replica's clock minus the server's (ms). */
  clockSkewMs: number;
  requests: RequestLog;
  onCrash: (replica: Replica) => void;
}

export class Replica {
  alive = true;
  active = false;
  readonly groups = new SimCache<OaatGroup>(GROUP_INDEXES);
  readonly types = new SimCache<OaatType>();
  readonly pods = new SimCache<V1Pod>(POD_INDEXES, (pod) => pod.metadata?.labels?.[LABELS.app] === APP_LABEL_VALUE);
  private readonly scheduled = new Set<Scheduled>();
  private lastDeliveryAt = 0;
  /** Built at once, as the container builds them before the caches start (their handlers see every change). */
  private readonly controllers: OaatControllers;
  private synced = false;
  readonly incarnation: string;
  /** UIDs of the pods this process ever saw (in its cache, or in a create's answer). */
  readonly seenPods = new Set<string>();

  constructor(private readonly options: ReplicaOptions) {
    this.incarnation = options.name;
    options.server.watch((change) => {
      this.deliver(change);
    });
    this.pods.addEventHandler({ onAdd: (pod) => { this.seenPods.add(pod.metadata?.uid ?? ''); }, onUpdate: (_old, pod) => { this.seenPods.add(pod.metadata?.uid ?? ''); } });
    const { loop, config } = options;
    const timers = this.timers();
    const log = this.logger();
    const client = this.client();
    this.controllers = oaatControllers({
      groups: this.groups,
      pods: this.pods,
      types: this.types,
      // One model API server: the lanes of the real client differ in connections and rate only.
      client,
      backgroundClient: client,
      events: this.recorder(),
      runs: noRunMetrics,
      clock: { now: () => loop.now() + options.clockSkewMs },
      rng: seededRng(Math.floor(loop.rng.next() * 2 ** 32)),
      incarnation: this.incarnation,
      config,
      controllerOptions: (name) => ({
        name,
        workers: config.workers,
        rateLimiter: defaultControllerRateLimiter<string>({ baseMs: config.backoffBaseMs, capMs: config.backoffCapMs, timers }),
        logger: log,
        metrics: noMetrics,
        timers,
      }),
    });
  }

  /** Lists every kind (after a short delay), then, when `active`, starts the controllers. */
  start(active: boolean): void {
    this.later(this.options.loop.uniform(20, 300), `${this.incarnation}: caches synced`, () => {
      this.relist();
      this.synced = true;
      if (active || this.active) {
        this.active = false;
        this.activate();
      }
    });
  }

  /** Starts the controllers (at start, or when this replica wins the lease), once the caches synced. */
  activate(): void {
    if (!this.alive || this.active) return;
    this.active = true;
    if (!this.synced) return;
    this.controllers.group.start();
    this.controllers.pod.start();
  }

  crash(): void {
    if (!this.alive) return;
    this.alive = false;
    this.active = false;
    for (const step of this.scheduled) step.cancel();
    this.scheduled.clear();
    this.options.loop.note(`${this.incarnation}: crashed`);
    this.options.onCrash(this);
  }

  /** A relist of every cache: the cache becomes the server's current state. */
  relist(): void {
    const { server } = this.options;
    const rv = server.resourceVersion;
    this.groups.resync(server.list('OaatGroup'), rv);
    this.types.resync(server.list('OaatType'), rv);
    this.pods.resync(server.list('Pod'), rv);
  }

  private deliver(change: Change): void {
    if (!this.alive) return;
    const { loop } = this.options;
    const at = Math.max(this.lastDeliveryAt, loop.now() + this.options.watchLagMs(change.kind));
    this.lastDeliveryAt = at;
    this.later(at - loop.now(), '', () => {
      // As a real informer: nothing before the first list (the watch starts from the list).
      if (!this.synced) return;
      const cache = change.kind === 'OaatGroup' ? this.groups : change.kind === 'OaatType' ? this.types : this.pods;
      (cache as SimCache<KubernetesObject>).apply(change);
    });
  }

  /** Schedules a step that runs only while this replica lives. */
  private later(delayMs: number, label: string, run: () => void): Scheduled {
    const step: Scheduled = this.options.loop.schedule(delayMs, label, () => {
      this.scheduled.delete(step);
      if (this.alive) run();
    });
    this.scheduled.add(step);
    return step;
  }

  private timers(): Timers {
    const { loop } = this.options;
    return {
      now: () => loop.now(),
      setTimeout: (callback, delayMs) => {
        let fired = false;
        const step = loop.schedule(delayMs, '', () => {
          fired = true;
          this.scheduled.delete(step);
          if (this.alive) callback();
        });
        this.scheduled.add(step);
        return { cancel: () => { if (!fired) { step.cancel(); this.scheduled.delete(step); } } };
      },
      clearTimeout: (handle) => {
        (handle as { cancel(): void }).cancel();
      },
    };
  }

  private logger(): Logger {
    const { loop } = this.options;
    const write = (level: string) => (message: string, meta?: LogMeta): void => {
      const detail = meta === undefined ? '' : ` ${JSON.stringify(meta, (k, v: unknown) => (k === 'stack' || k === 'reconcileID' ? undefined : v))}`;
      loop.note(`${this.incarnation} ${level}: ${message}${detail}`);
    };
    const base = { error: write('error'), warn: write('warn'), info: write('info'), debug: () => undefined };
    const logger: Logger = { ...base, child: (bindings: LogMeta) => {
      const prefix = typeof bindings.name === 'string' ? `${String(bindings.namespace)}/${bindings.name}: ` : '';
      const wrap = (level: 'error' | 'warn' | 'info') => (message: string, meta?: LogMeta): void => { base[level](`${prefix}${message}`, meta); };
      return { ...logger, error: wrap('error'), warn: wrap('warn'), info: wrap('info'), child: (more: LogMeta) => logger.child({ ...bindings, ...more }) };
    } };
    return logger;
  }

  private recorder(): EventRecorder {
    const { loop } = this.options;
    return {
      record: (object, type, reason, message) => {
        loop.note(`${this.incarnation} event ${object.metadata?.name ?? ''} ${type} ${reason}: ${message}`);
      },
    };
  }

  private client(): ApiClient {
    const kindOf = (type: ResourceType): Kind => type.kind as Kind;
    return {
      get: <T extends KubernetesObject>(type: ResourceType, namespace: string, name: string) =>
        this.request<T>('get', kindOf(type), namespace, name, undefined, (server) => server.get(kindOf(type), namespace, name) as T),
      create: <T extends KubernetesObject>(type: ResourceType, object: T, options: CreateOptions = {}) =>
        this.request<T>(
          options.dryRun === true ? 'create-dry-run' : 'create',
          kindOf(type),
          object.metadata?.namespace ?? '',
          object.metadata?.name ?? '',
          object,
          (server) => server.create(kindOf(type), object, this.incarnation, { ...(options.dryRun !== undefined && { dryRun: options.dryRun }) }) as T,
          options.sendBy,
        ).then((created) => {
          if (options.dryRun !== true) this.seenPods.add(created.metadata?.uid ?? '');
          return created;
        }),
      patch: <T extends KubernetesObject>(type: ResourceType, namespace: string, name: string, patch: Record<string, unknown>, options: PatchOptions = {}) =>
        this.request<T>(
          options.subresource === 'status' ? 'patch-status' : 'patch',
          kindOf(type),
          namespace,
          name,
          undefined,
          (server) => server.patch(kindOf(type), namespace, name, patch, options) as T,
          options.sendBy,
        ),
      delete: (type: ResourceType, namespace: string, name: string, options: DeleteOptions = {}) =>
        this.request<undefined>('delete', kindOf(type), namespace, name, undefined, (server) => {
          server.delete(kindOf(type), namespace, name, { ...(options.uid !== undefined && { uid: options.uid }), ...(options.gracePeriodSeconds !== undefined && { gracePeriodSeconds: options.gracePeriodSeconds }) });
          return undefined;
        }),
    };
  }

  /**
   * One request: it reaches the server after a latency (a held create: 30-90 s), is executed
   * there (even if this replica died meanwhile), and its answer comes back after another
   * latency, unless it is lost or the client's timeout came first.
   */
  private request<T>(
    verb: string,
    kind: Kind,
    namespace: string,
    name: string,
    body: KubernetesObject | undefined,
    execute: (server: SimApiServer) => T,
    sendBy?: number,
  ): Promise<T> {
    const { loop, server } = this.options;
    if (sendBy !== undefined && loop.now() + this.options.clockSkewMs >= sendBy) {
      loop.note(`${this.incarnation} ${verb} ${kind} ${namespace}/${name}: not sent, its deadline passed`);
      return Promise.reject(new NotSentError(`${verb} ${name}: not sent: its deadline passed`));
    }
    const faults = this.options.faults();
    const sentAt = loop.now();
    const group = groupOfRequest(kind, body ?? server.peek(kind, namespace, name), namespace, name);
    const label = `${this.incarnation} ${verb} ${kind} ${namespace}/${name}`;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle = (outcome: () => void): void => {
        if (settled || !this.alive) return;
        settled = true;
        outcome();
      };
      const held = verb === 'create' && kind === 'Pod' && loop.chance(faults.heldCreate);
      // kube-apiserver gives up on a request after its request timeout: a held request arrives
      // (is executed) within that, possibly after the client gave up on it.
      const { requestTimeoutMs, serverRequestTimeoutMs } = this.options.config;
      const arrival = held ? loop.uniform(requestTimeoutMs, serverRequestTimeoutMs - 1_000) : loop.uniform(1, 30);
      const lost = verb !== 'get' && loop.chance(faults.lostResponse);
      const transient = loop.chance(faults.transientError);
      // The server executes whatever the sender's fate.
      loop.schedule(arrival, held ? `${label} arrives (held ${String(Math.round(arrival))} ms)` : '', () => {
        const before = server.peek(kind, namespace, name);
        let status = 200;
        let answer: () => void;
        if (transient) {
          status = 500;
          answer = () => { reject(new ApiError(`${verb} ${name}: 500 InternalError`, 500, 'InternalError')); };
        } else {
          try {
            const result = server.as(this.incarnation, () => execute(server));
            answer = () => { resolve(result); };
          } catch (error) {
            status = error instanceof ApiError ? error.status : 500;
            // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the server throws ApiErrors
            answer = () => { reject(error); };
          }
        }
        this.options.requests(this.incarnation, group, verb, loop.now(), status, before);
        loop.note(`${label} -> ${String(status)}${lost ? ' (response lost)' : ''}${transient ? ' (transient)' : ''}`);
        if (lost) return;
        const back = loop.uniform(1, 30);
        if (loop.now() + back - sentAt < requestTimeoutMs) {
          timeout.cancel();
          this.later(back, '', () => { settle(answer); });
        }
      });
      const timeout = this.later(requestTimeoutMs, '', () => {
        settle(() => { reject(new ApiError(`${verb} ${name}: timed out after ${String(requestTimeoutMs)} ms`, 0, 'Timeout')); });
      });
      if (loop.chance(faults.crashAfterSend)) this.later(0, `${label}: crash after send`, () => { this.crash(); });
    });
  }
}
