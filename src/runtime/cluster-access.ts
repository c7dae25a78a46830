/**
 * How the operator reaches the API server: its URL, the headers that authenticate each request,
 * and the connection pools the requests travel on.
 *
 * Connections are reused: one pool for requests (bounded, keep-alive) and one for watches (a
 * watch holds its connection for minutes, so watches must never take the connections requests
 * wait for). The pools are built once and rebuilt only when the TLS material changes (a rotated
 * CA or client certificate); credentials that change per request (a refreshed token) are
 * headers and do not touch the pools.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import { createSecureContext, type SecureContext } from 'node:tls';

/** What a TLS connection to the API server is built from; all optional (plain HTTP has none), and absent rather than undefined. */
export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** False only when the kubeconfig says `insecure-skip-tls-verify`. */
  rejectUnauthorized?: boolean;
  servername?: string;
}

/** The credentials of the next request, as their source reads them now. */
export interface Credentials {
  tls: TlsMaterial;
  headers: Record<string, string>;
}

/**
 * Where credentials come from. `read` is called before every request and must be cheap when
 * nothing changed (cache file reads); it may return new material at any time (rotation).
 */
export interface CredentialSource {
  /** The API server's base URL, without a trailing slash. */
  readonly server: string;
  /** An HTTP(S) proxy to reach the server through, from the kubeconfig's `proxy-url`. */
  readonly proxyUrl?: string;
  read(): Promise<Credentials>;
}

/** Requests are short; watches hold their connection until the server ends them. */
export type ConnectionKind = 'request' | 'watch';

/** What one request is sent with. */
export interface PreparedRequest {
  headers: Record<string, string>;
  pool: ConnectionPool;
}

/** One HTTP request as a {@link ConnectionPool} sends it. */
export interface PoolRequest {
  method: string;
  headers: OutgoingHttpHeaders;
  body?: string;
  /** Aborts the request, also while its response body is read. */
  signal?: AbortSignal;
  /** Fails the request when the response headers have not arrived after this long (ms). */
  headersTimeoutMs?: number;
}

/** The API server as the client sees it: where it is, and how to send the next request. */
export interface ClusterAccess {
  /** The API server's base URL, without a trailing slash. */
  readonly server: string;
  /**
   * The headers and the pool for the next request of this kind. Returns the same pool for
   * every request of a kind while the TLS material stays the same.
   */
  prepare(kind: ConnectionKind): Promise<PreparedRequest>;
  /** Closes the pools: idle connections now, the others when their request has finished. */
  close(): void;
}

export interface PoolOptions {
  /**
   * Connections the request pool opens at most (HTTP/1.1: one request at a time each);
   * further requests wait in the pool's queue. Default {@link DEFAULT_REQUEST_CONNECTIONS}.
   */
  requestConnections?: number;
}

/** For clients that do not say: enough for a few requests in flight without opening a connection per request. */
export const DEFAULT_REQUEST_CONNECTIONS = 8;

/** TCP keep-alive probes after this long idle, as client-go sets them (and below cloud load balancers' 60 s). */
const TCP_KEEPALIVE_MS = 30_000;
/**
 * An idle pooled connection is closed after this long: well before kube-apiserver closes idle
 * connections (90 s), so a request is never sent on a connection the server is closing.
 */
const IDLE_CONNECTION_MS = 45_000;

/**
 * Keep-alive connections to one server with one set of TLS material, on Node's own HTTP client
 * (undici costs about 30 MiB more RSS in the operator, see docs/architecture.md §6).
 */
export class ConnectionPool {
  private readonly agent: HttpAgent;
  private readonly secure: boolean;
  private closing = false;

  /**
   * `connections`: at most this many at once (HTTP/1.1: one request at a time each); further
   * requests wait in the pool's queue. None: one per concurrent request (watches).
   */
  constructor(server: string, tls: TlsMaterial, options: { connections?: number; proxyUrl?: string } = {}) {
    this.secure = server.startsWith('https:');
    const agentOptions = {
      keepAlive: true,
      keepAliveMsecs: TCP_KEEPALIVE_MS,
      // Idle pooled connections close after this long (a connection in use is not timed out here).
      timeout: IDLE_CONNECTION_MS,
      scheduling: 'lifo' as const,
      ...(options.connections !== undefined && { maxSockets: options.connections, maxFreeSockets: options.connections }),
      // Node's built-in proxy support: CONNECT through an HTTP(S) proxy, TLS to the server inside.
      ...(options.proxyUrl !== undefined && { proxyEnv: { HTTPS_PROXY: options.proxyUrl, HTTP_PROXY: options.proxyUrl } }),
    };
    this.agent = this.secure ? new HttpsAgent({ ...agentOptions, ...secureOptions(tls) }) : new HttpAgent(agentOptions);
    // After close(), connections in use finish their request and are then closed, not pooled.
    // Node pools a freed connection only when keepSocketAlive returns true (@types/node says void).
    const keepSocketAlive = this.agent.keepSocketAlive.bind(this.agent) as (socket: Duplex) => boolean;
    this.agent.keepSocketAlive = (socket: Duplex) => !this.closing && keepSocketAlive(socket);
  }

  /** True once {@link close} was called: the pool keeps no connection for another request. */
  get closed(): boolean {
    return this.closing;
  }

  /** Sends one request; resolves with the response once its headers arrived (the body is the caller's to read or destroy). */
  send(url: string, request: PoolRequest): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const send = this.secure ? httpsRequest : httpRequest;
      // A length, never chunks: Node does not frame the body of a DELETE otherwise.
      const headers = request.body === undefined ? request.headers : { ...request.headers, 'content-length': Buffer.byteLength(request.body) };
      const outgoing = send(url, { method: request.method, headers, agent: this.agent, ...(request.signal !== undefined && { signal: request.signal }) });
      let headersTimer: NodeJS.Timeout | undefined;
      if (request.headersTimeoutMs !== undefined) {
        const timeoutMs = request.headersTimeoutMs;
        headersTimer = setTimeout(() => outgoing.destroy(new Error(`no response headers after ${String(timeoutMs)} ms`)), timeoutMs);
      }
      outgoing.once('response', (response) => {
        clearTimeout(headersTimer);
        resolve(response);
      });
      outgoing.once('error', (error) => {
        clearTimeout(headersTimer);
        reject(error);
      });
      outgoing.end(request.body);
    });
  }

  /**
   * Stops pooling: idle connections close now; connections in use, and any request still sent
   * here, close when their request has finished.
   */
  close(): void {
    this.closing = true;
    for (const sockets of Object.values(this.agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
  }
}

/**
 * The TLS options of a pool's connections: one secure context built from the material, shared by
 * every connection (given the PEM text instead, Node parses the CA, certificate and key again
 * for each new connection: a few percent of the operator's CPU in a burst that opens many).
 */
function secureOptions({ ca, cert, key, ...verification }: TlsMaterial): { secureContext: SecureContext; rejectUnauthorized?: boolean; servername?: string } {
  return { ...verification, secureContext: createSecureContext({ ...(ca && { ca }), ...(cert && { cert }), ...(key && { key }) }) };
}

interface Pools {
  tls: TlsMaterial;
  request: ConnectionPool;
  watch: ConnectionPool;
}

/** A {@link ClusterAccess} over a {@link CredentialSource}, with pools shared by every request. */
export class PooledClusterAccess implements ClusterAccess {
  readonly server: string;
  private pools: Pools | undefined;

  constructor(
    private readonly source: CredentialSource,
    private readonly options: PoolOptions = {},
  ) {
    this.server = source.server;
  }

  async prepare(kind: ConnectionKind): Promise<PreparedRequest> {
    const { tls, headers } = await this.source.read();
    if (this.pools === undefined || !sameTls(this.pools.tls, tls)) {
      // Requests and watches in flight on the old pools finish there.
      this.close();
      const proxy = this.source.proxyUrl === undefined ? {} : { proxyUrl: this.source.proxyUrl };
      this.pools = {
        tls,
        request: new ConnectionPool(this.server, tls, { ...proxy, connections: this.options.requestConnections ?? DEFAULT_REQUEST_CONNECTIONS }),
        watch: new ConnectionPool(this.server, tls, proxy),
      };
    }
    return { headers, pool: kind === 'request' ? this.pools.request : this.pools.watch };
  }

  close(): void {
    this.pools?.request.close();
    this.pools?.watch.close();
    this.pools = undefined;
  }
}

function sameBuffer(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.equals(b));
}

/** Whether two sets of TLS material would build the same connections. */
export function sameTls(a: TlsMaterial, b: TlsMaterial): boolean {
  return (
    sameBuffer(a.ca, b.ca) &&
    sameBuffer(a.cert, b.cert) &&
    sameBuffer(a.key, b.key) &&
    a.rejectUnauthorized === b.rejectUnauthorized &&
    a.servername === b.servername
  );
}
