/**
 * A small Kubernetes REST client for controllers: typed by the caller, one code path for every
 * resource (built-in or custom), with the behaviour a controller needs from its client:
 *
 * - every non-watch request has a timeout (default 30 s), so one slow call never stalls a worker;
 *   with `maxInFlight`, requests beyond it wait for their turn first, and the timeout (and any
 *   deadline) applies from their turn: a wait for a connection is not mistaken for a slow server;
 * - a request may carry a deadline to be sent by (`sendBy`), checked after any wait in the
 *   rate limiter or for credentials, and before every retry: past it, the request fails unsent ({@link NotSentError});
 * - a client-side token bucket (QPS and burst) spreads bursts of writes;
 * - 429 Too Many Requests is retried after the server's Retry-After (the request was not
 *   processed, so any verb may be retried);
 * - merge patches and `/status` writes carry the right content type and, when asked, a
 *   resourceVersion precondition; a refused precondition surfaces as {@link ConflictError};
 * - errors are {@link ApiError}s with the HTTP status and the `Status` reason.
 *
 * Where the server is, how each request authenticates and which pooled connections it travels
 * on come from a {@link ClusterAccess} (see kubeconfig.ts: it works wherever kubectl does).
 */
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubernetesObject } from '@kubernetes/client-node';
import pLimit from 'p-limit';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { IncomingMessage } from 'node:http';
import { ApiError, ConflictError, NotSentError } from './api-error.ts';
import type { ClusterAccess, ConnectionKind, PreparedRequest } from './cluster-access.ts';
import type { RateLimiter } from './rate-limiter.ts';

/** Where a kind of object lives in the API. */
export interface ResourceType {
  /** `v1` for the core group, else `group/version`. */
  readonly apiVersion: string;
  readonly kind: string;
  /** The lower-case plural in URLs: `pods`, `oaatgroups`. */
  readonly plural: string;
  readonly namespaced: boolean;
}

/** The path of a collection (no name) or object, optionally of its subresource. */
export function resourcePath(type: ResourceType, namespace?: string, name?: string, subresource?: string): string {
  const base = type.apiVersion.includes('/') ? `/apis/${type.apiVersion}` : `/api/${type.apiVersion}`;
  const scope = type.namespaced && namespace !== undefined && namespace !== '' ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  let path = `${base}${scope}/${type.plural}`;
  if (name !== undefined) path += `/${encodeURIComponent(name)}`;
  if (subresource !== undefined) path += `/${subresource}`;
  return path;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continueToken?: string;
  /** `''` (default) reads from etcd (consistent); `'0'` allows any cached state. */
  resourceVersion?: string;
}

export interface ObjectList<T> {
  items: T[];
  metadata: { resourceVersion?: string; continue?: string };
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion: string;
  /** The server ends the watch after this long (a clean close, not an error). */
  timeoutSeconds: number;
  allowWatchBookmarks?: boolean;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent<T> {
  type: WatchEventType;
  /** The object; for ERROR, a `Status` (`code` 410 means the resourceVersion is too old). */
  object: T;
}

export interface DeleteOptions {
  /** Delete only if the object still has this uid (it was not replaced meanwhile). */
  uid?: string;
  resourceVersion?: string;
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
}

export interface PatchOptions {
  subresource?: 'status';
  /** Refuse the write (409, {@link ConflictError}) unless the object still has this resourceVersion. */
  resourceVersion?: string;
  /** Not sent after this time (epoch ms): it fails with {@link NotSentError} instead. */
  sendBy?: number;
}

export interface CreateOptions {
  /** Validate and admit, without storing. */
  dryRun?: boolean;
  /** Not sent after this time (epoch ms): it fails with {@link NotSentError} instead. */
  sendBy?: number;
}

export interface ClientOptions {
  access: ClusterAccess;
  /** Per-request timeout of non-watch requests (ms); default 30 s. */
  requestTimeoutMs?: number;
  /** Client-side limit shared by all requests except watches; none when omitted. */
  rateLimiter?: RateLimiter<string>;
  /** How often a 429 is retried before it is returned as an error; default 5. */
  maxRetriesOn429?: number;
  /** Recorded by the API server as the manager of the fields this client writes. */
  fieldManager?: string;
  userAgent?: string;
  /** Where requests are counted and timed; none: not measured. */
  metrics?: RestClientMetrics;
  /** The `lane` label of this client's metrics (clients of one process share the metrics); default `run`. */
  lane?: string;
  /**
   * Requests (watches excluded) sent at once, at most: the connections of the access's request
   * pool. Further requests wait for a turn, in order, before their deadline is checked and their
   * timeout starts. None: no bound here (the pool queues them, inside their timeout).
   */
  maxInFlight?: number;
}

/**
 * `rest_client_requests_total` (by code, method and lane) and `rest_client_request_duration_seconds`
 * (by verb and lane): one instance per registry, shared by the clients that report there.
 */
export class RestClientMetrics {
  readonly requests: Counter<'code' | 'method' | 'lane'>;
  readonly latency: Histogram<'verb' | 'lane'>;

  constructor(registry: Registry) {
    this.requests = new Counter({
      name: 'rest_client_requests_total',
      help: 'Number of HTTP requests to the API server, by status code, method and lane.',
      labelNames: ['code', 'method', 'lane'],
      registers: [registry],
    });
    this.latency = new Histogram({
      name: 'rest_client_request_duration_seconds',
      help: 'Latency of API server requests (watches excluded), by verb and lane.',
      labelNames: ['verb', 'lane'],
      buckets: [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60],
      registers: [registry],
    });
  }
}

/**
 * The requests a reconciler makes to the API server (reads of single objects, and writes),
 * each one request with the outcomes {@link KubeClient} documents: it resolves with the
 * server's answer or rejects with an `ApiError`. A rejection does not say the request had no
 * effect: a timeout or a lost response may follow a write that committed.
 */
export interface ApiClient {
  get<T extends KubernetesObject>(type: ResourceType, namespace: string, name: string): Promise<T>;
  /** Creates `object` in its `metadata.namespace`. */
  create<T extends KubernetesObject>(type: ResourceType, object: T, options?: CreateOptions): Promise<T>;
  /** JSON merge patch (RFC 7386) of the object or its status subresource. */
  patch<T extends KubernetesObject>(type: ResourceType, namespace: string, name: string, patch: Record<string, unknown>, options?: PatchOptions): Promise<T>;
  delete(type: ResourceType, namespace: string, name: string, options?: DeleteOptions): Promise<void>;
}

/** The per-request timeout of non-watch requests unless the options say otherwise. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

const JSON_TYPE = 'application/json';
const MERGE_PATCH = 'application/merge-patch+json';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface Call {
  method: Method;
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  /** Epoch ms after which the request is not sent (checked before every attempt). */
  sendBy?: number;
}

export class KubeClient implements ApiClient {
  private readonly server: string;
  private readonly timeoutMs: number;
  private readonly maxRetriesOn429: number;
  private readonly lane: string;
  /** Runs a request when it may be sent (see {@link ClientOptions.maxInFlight}). */
  private readonly turn: <R>(send: () => Promise<R>) => Promise<R>;

  constructor(private readonly options: ClientOptions) {
    this.server = options.access.server;
    this.timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.maxRetriesOn429 = options.maxRetriesOn429 ?? 5;
    this.lane = options.lane ?? 'run';
    this.turn = options.maxInFlight === undefined ? (send) => send() : pLimit(options.maxInFlight);
  }

  get<T extends KubernetesObject>(type: ResourceType, namespace: string, name: string): Promise<T> {
    return this.call<T>({ method: 'GET', path: resourcePath(type, namespace, name) });
  }

  list<T extends KubernetesObject>(type: ResourceType, options: ListOptions = {}): Promise<ObjectList<T>> {
    return this.call<ObjectList<T>>({
      method: 'GET',
      path: resourcePath(type, options.namespace),
      query: {
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        limit: options.limit,
        continue: options.continueToken,
        resourceVersion: options.resourceVersion,
      },
    });
  }

  /** Creates `object` in its `metadata.namespace`. */
  create<T extends KubernetesObject>(type: ResourceType, object: T, options: CreateOptions = {}): Promise<T> {
    return this.call<T>({
      method: 'POST',
      path: resourcePath(type, object.metadata?.namespace),
      query: { fieldManager: this.options.fieldManager, dryRun: options.dryRun === true ? 'All' : undefined },
      body: object,
      contentType: JSON_TYPE,
      ...(options.sendBy !== undefined && { sendBy: options.sendBy }),
    });
  }

  /** Replaces the object (PUT); its `metadata.resourceVersion`, when set, is the precondition. */
  update<T extends KubernetesObject>(type: ResourceType, object: T): Promise<T> {
    return this.call<T>({
      method: 'PUT',
      path: resourcePath(type, object.metadata?.namespace, object.metadata?.name ?? ''),
      query: { fieldManager: this.options.fieldManager },
      body: object,
      contentType: JSON_TYPE,
    });
  }

  /** JSON merge patch (RFC 7386) of the object or its status subresource. */
  patch<T extends KubernetesObject>(
    type: ResourceType,
    namespace: string,
    name: string,
    patch: Record<string, unknown>,
    options: PatchOptions = {},
  ): Promise<T> {
    let body = patch;
    if (options.resourceVersion !== undefined) {
      const metadata = (patch.metadata ?? {}) as Record<string, unknown>;
      body = { ...patch, metadata: { ...metadata, resourceVersion: options.resourceVersion } };
    }
    return this.call<T>({
      method: 'PATCH',
      path: resourcePath(type, namespace, name, options.subresource),
      query: { fieldManager: this.options.fieldManager },
      body,
      contentType: MERGE_PATCH,
      ...(options.sendBy !== undefined && { sendBy: options.sendBy }),
    });
  }

  async delete(type: ResourceType, namespace: string, name: string, options: DeleteOptions = {}): Promise<void> {
    const preconditions =
      options.uid !== undefined || options.resourceVersion !== undefined
        ? { uid: options.uid, resourceVersion: options.resourceVersion }
        : undefined;
    await this.call<unknown>({
      method: 'DELETE',
      path: resourcePath(type, namespace, name),
      body: {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        preconditions,
        gracePeriodSeconds: options.gracePeriodSeconds,
        propagationPolicy: options.propagationPolicy,
      },
      contentType: JSON_TYPE,
    });
  }

  /**
   * Streams watch events until the server ends the watch (after `timeoutSeconds`), the
   * connection fails (the iterator throws an {@link ApiError}), or `signal` aborts it (the
   * iterator ends). A watch that cannot start throws; 410 Gone means `resourceVersion` is too
   * old and the caller must list again.
   */
  async *watch<T>(type: ResourceType, options: WatchOptions, signal: AbortSignal): AsyncGenerator<WatchEvent<T>> {
    const path = resourcePath(type, options.namespace);
    const url = this.url(path, {
      watch: 'true',
      resourceVersion: options.resourceVersion,
      timeoutSeconds: options.timeoutSeconds,
      allowWatchBookmarks: options.allowWatchBookmarks ?? true,
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
    });
    const { headers, pool } = await this.prepare('watch');
    let response: IncomingMessage;
    try {
      response = await pool.send(url, { method: 'GET', headers, signal, headersTimeoutMs: this.timeoutMs });
    } catch (error) {
      if (signal.aborted) return;
      throw this.transportError('WATCH', path, error);
    }
    this.options.metrics?.requests.inc({ code: String(response.statusCode), method: 'WATCH', lane: this.lane });
    if (response.statusCode !== 200) throw this.statusError('WATCH', path, response, await readBody(response).catch(() => ''));
    const lines = createInterface({ input: response, crlfDelay: Infinity });
    try {
      for await (const line of lines) {
        if (line === '') continue;
        yield JSON.parse(line) as WatchEvent<T>;
      }
    } catch (error) {
      if (signal.aborted) return;
      throw this.transportError('WATCH', path, error);
    } finally {
      lines.close();
      response.destroy();
    }
  }

  private async call<T>(call: Call): Promise<T> {
    const url = this.url(call.path, call.query);
    for (let attempt = 0; ; attempt++) {
      if (this.options.rateLimiter) {
        const wait = this.options.rateLimiter.when('');
        if (wait > 0) await sleep(wait);
      }
      const { response, status, text } = await this.turn(() => this.send(call, url));
      if (status >= 200 && status < 300) return JSON.parse(text) as T;
      const error = this.statusError(call.method, call.path, response, text);
      if (status === 429 && attempt < this.maxRetriesOn429) {
        await sleep(error.retryAfterMs ?? 1_000);
        continue;
      }
      throw error;
    }
  }

  /** One attempt of `call`: sent unless its deadline has passed, answered within the timeout. */
  private async send(call: Call, url: string): Promise<{ response: IncomingMessage; status: number; text: string }> {
    // Credentials may take a while (an exec plugin): the deadline is checked after them.
    const { headers, pool } = await this.prepare('request');
    if (call.sendBy !== undefined && Date.now() >= call.sendBy) {
      throw new NotSentError(`${call.method} ${call.path}: not sent: its deadline ${new Date(call.sendBy).toISOString()} passed`);
    }
    const started = performance.now();
    const timeout = AbortSignal.timeout(this.timeoutMs);
    try {
      const response = await pool.send(url, {
        method: call.method,
        headers: { ...headers, ...(call.contentType !== undefined && { 'content-type': call.contentType }) },
        ...(call.body !== undefined && { body: JSON.stringify(call.body) }),
        signal: timeout,
      });
      const status = response.statusCode ?? 0;
      const text = await readBody(response);
      this.observe(call.method, status, started);
      return { response, status, text };
    } catch (error) {
      this.observe(call.method, 0, started);
      throw this.transportError(call.method, call.path, error, timeout.aborted);
    }
  }

  /** The access's credentials and pool for the next request of `kind`, with the headers every request carries. */
  private async prepare(kind: ConnectionKind): Promise<PreparedRequest> {
    const { headers, pool } = await this.options.access.prepare(kind);
    const userAgent = this.options.userAgent === undefined ? {} : { 'user-agent': this.options.userAgent };
    return { pool, headers: { ...headers, accept: JSON_TYPE, ...userAgent } };
  }

  private url(path: string, query: Record<string, string | number | boolean | undefined> = {}): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== '') params.set(key, String(value));
    }
    const search = params.toString();
    return `${this.server}${path}${search === '' ? '' : `?${search}`}`;
  }

  private observe(method: string, status: number, started: number): void {
    this.options.metrics?.requests.inc({ code: String(status), method, lane: this.lane });
    this.options.metrics?.latency.observe({ verb: method, lane: this.lane }, (performance.now() - started) / 1000);
  }

  /** The error for a response that is not 2xx, from its `Status` body (`text`) when it has one. */
  private statusError(method: string, path: string, response: IncomingMessage, text: string): ApiError {
    let reason = '';
    let message = text.slice(0, 500);
    try {
      const status = JSON.parse(text) as { reason?: string; message?: string };
      reason = status.reason ?? '';
      message = status.message ?? message;
    } catch {
      // not a Status object: keep the raw text
    }
    const retryAfter = Number(response.headers['retry-after']);
    const retryAfterMs = Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : undefined;
    const status = response.statusCode ?? 0;
    const summary = `${method} ${path}: ${String(status)} ${reason} ${message}`.replace(/\s+/g, ' ').trim();
    if (status === 409 && reason === 'Conflict') {
      return new ConflictError(summary, 409, reason, retryAfterMs);
    }
    return new ApiError(summary, status, reason, retryAfterMs);
  }

  private transportError(method: string, path: string, error: unknown, timedOut = false): ApiError {
    const message = timedOut ? `timed out after ${String(this.timeoutMs)} ms` : (error as { message?: unknown }).message;
    return new ApiError(`${method} ${path}: ${String(message ?? error)}`, 0, timedOut ? 'Timeout' : '', undefined, { cause: error });
  }
}

/** The whole body of `response` as text (UTF-8). */
async function readBody(response: IncomingMessage): Promise<string> {
  response.setEncoding('utf8');
  let text = '';
  for await (const chunk of response) text += chunk as string;
  return text;
}
