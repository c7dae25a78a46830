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
import { Agent, ProxyAgent, type Dispatcher } from 'undici';

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
  dispatcher: Dispatcher;
}

/** The API server as the client sees it: where it is, and how to send the next request. */
export interface ClusterAccess {
  /** The API server's base URL, without a trailing slash. */
  readonly server: string;
  /**
   * The headers and the pool for the next request of this kind. Returns the same dispatcher
   * object for every request of a kind while the TLS material stays the same.
   */
  prepare(kind: ConnectionKind): Promise<PreparedRequest>;
  /** Closes the pools once the requests in flight have finished. */
  close(): Promise<void>;
}

export interface PoolOptions {
  /**
   * Connections the request pool opens at most (HTTP/1.1: one request at a time each);
   * further requests wait in the pool's queue. Default {@link DEFAULT_REQUEST_CONNECTIONS}.
   */
  requestConnections?: number;
}

/** Enough for the default workers and client burst without opening a connection per request. */
export const DEFAULT_REQUEST_CONNECTIONS = 8;

/** TCP keep-alive probes after this long idle, as client-go sets them (and below cloud load balancers' 60 s). */
const TCP_KEEPALIVE_MS = 30_000;
/** An idle pooled connection is closed after this long (the server's own limit may be shorter). */
const IDLE_CONNECTION_MS = 90_000;

interface Pools {
  tls: TlsMaterial;
  request: Dispatcher;
  watch: Dispatcher;
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
      const previous = this.pools;
      this.pools = { tls, request: this.pool(tls, this.options.requestConnections ?? DEFAULT_REQUEST_CONNECTIONS), watch: this.pool(tls) };
      // Requests and watches in flight on the old pools finish there.
      if (previous !== undefined) void Promise.allSettled([previous.request.close(), previous.watch.close()]);
    }
    return { headers, dispatcher: kind === 'request' ? this.pools.request : this.pools.watch };
  }

  async close(): Promise<void> {
    const pools = this.pools;
    this.pools = undefined;
    if (pools !== undefined) await Promise.all([pools.request.close(), pools.watch.close()]);
  }

  private pool(tls: TlsMaterial, connections?: number): Dispatcher {
    const connect = { ...tls, keepAlive: true, keepAliveInitialDelay: TCP_KEEPALIVE_MS };
    // HTTP/1.1: a watch is a long response on its own connection, and one lost connection
    // cannot take every request and watch with it (see bench/REPORT.md, connections).
    const options = { connect, allowH2: false, keepAliveTimeout: IDLE_CONNECTION_MS, ...(connections !== undefined && { connections }) };
    if (this.source.proxyUrl !== undefined) {
      return new ProxyAgent({ ...options, uri: this.source.proxyUrl, requestTls: tls });
    }
    return new Agent(options);
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
