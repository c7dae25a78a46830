/**
 * A fault-injecting HTTPS proxy in front of the control plane's kube-apiserver. Tests put it
 * between an API client (the operator under test, an informer) and the real server, and choose
 * per request, by rules, what goes wrong: a delay, a dropped or reset connection, an error
 * status, a response lost after the server applied the request, a watch cut short, or a
 * network partition.
 *
 * Clients authenticate with a bearer token ({@link FaultProxy.kubeConfig}); the proxy
 * terminates TLS, so client certificates cannot pass it. It serves HTTP/1.1 only and does not
 * proxy protocol upgrades (exec, attach, port-forward).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { Agent as HttpsAgent, createServer, request as httpsRequest, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import type { ControlPlaneInfo } from './control-plane.ts';

const execFileAsync = promisify(execFile);

/**
 * How the proxy ends a response stream it cuts:
 * - `destroy`: the connection is closed mid-response; the client sees a network error.
 * - `end`: the response ends cleanly (the terminating chunk), as when kube-apiserver ends a
 *   watch at its timeout; the client sees a normal end of stream. A response whose headers
 *   have not been sent yet is destroyed instead.
 */
export type CutMode = 'destroy' | 'end';

/** What a rule does to a request it fires on. */
export type FaultAction =
  /** Waits `ms`, then forwards the request. */
  | { type: 'delay'; ms: number }
  /** Closes the client's connection without a response; nothing is forwarded. */
  | { type: 'drop' }
  /** Resets the client's TCP connection (RST); nothing is forwarded. */
  | { type: 'reset' }
  /**
   * Answers with `code` (400-599) and a Kubernetes `Status` body; nothing is forwarded.
   * `Retry-After` is sent when `retryAfterSeconds` is given, and for 429 always (default 1).
   */
  | { type: 'status'; code: number; message?: string; retryAfterSeconds?: number }
  /**
   * Forwards the request and reads the server's response to its end (so the server has
   * applied it), then closes the client's connection without a response. On a watch the
   * connection is closed once the server has answered with headers.
   */
  | { type: 'lose-response' }
  /** Forwards a watch and cuts its stream `afterMs` after forwarding it. Matches watches only. */
  | { type: 'cut-watch'; afterMs: number; mode?: CutMode }
  /**
   * Holds the request (its body read in full) until {@link FaultProxy.releaseHeld}, which
   * forwards it even if the client has gone meanwhile (a request already sent that reaches the
   * server late), or {@link FaultProxy.dropHeld}, which never forwards it.
   */
  | { type: 'hold' };

export interface RequestMatcher {
  /** HTTP method(s), upper case; any method when absent. */
  method?: string | readonly string[];
  /** Tested against the request's path without its query; any path when absent. */
  path?: RegExp;
  /** true: watches only; false: everything but watches; either when absent. */
  watch?: boolean;
}

export interface FaultRule {
  /** The rule's name in the event log; `rule <index>` when absent. */
  name?: string;
  /** Which requests the rule applies to; every request when absent. */
  match?: RequestMatcher;
  /** The chance, 0 to 1, that the rule fires on a request it matches; default 1. */
  probability?: number;
  /** The rule fires at most this many times (counted from when it was set); unlimited when absent. */
  times?: number;
  action: FaultAction;
}

/** How a client's connections fail while the proxy is partitioned. */
export type PartitionMode = 'drop' | 'reset';

/**
 * What happened to a request:
 * - on arrival, exactly one of `forward` (no rule fired) or the type of the fired rule's
 *   action (or `drop`/`reset` with rule `partition` while partitioned);
 * - later, possibly `cut` (its stream was cut; `detail` says by what), `stall` (its stream was
 *   held for `detail`) or `upstream-error` (kube-apiserver could not be reached or failed
 *   mid-response; `detail` has the error).
 */
export type ProxyAction = 'forward' | FaultAction['type'] | 'cut' | 'stall' | 'upstream-error';

export interface ProxyEvent {
  /** The request's number, from 1 in order of arrival. */
  request: number;
  /** When it happened (Date.now()). */
  time: number;
  method: string;
  /** Path and query, as the client sent them. */
  path: string;
  watch: boolean;
  action: ProxyAction;
  /** The rule that chose the action (its name), or `partition`. */
  rule?: string;
  detail?: string;
}

export interface FaultProxyOptions {
  /** Seeds the generator that decides whether a rule fires (default 1). */
  seed?: number;
  rules?: readonly FaultRule[];
}

/** One request the proxy is handling, from arrival until its response is over. */
interface Exchange {
  readonly id: number;
  readonly method: string;
  readonly path: string;
  readonly pathname: string;
  readonly watch: boolean;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The TCP socket under the client's TLS connection; closing it closes the TLS socket too. */
  readonly tcp: Socket;
  /** Aborted once the proxy is done with the exchange (its response closed, or it was cut); cancels its timers. */
  readonly over: AbortController;
  upstream?: ClientRequest;
  upstreamResponse?: IncomingMessage;
}

interface RuleState {
  readonly rule: FaultRule;
  readonly name: string;
  fired: number;
}

// Hop-by-hop headers (RFC 9110 §7.6.1) and those the proxy itself answers (host, expect).
const NOT_FORWARDED = new Set([
  'connection',
  'expect',
  'host',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

const STATUS_REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Expired',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

export class FaultProxy {
  /** `https://127.0.0.1:<port>`. */
  readonly url: string;
  private readonly loggedEvents: ProxyEvent[] = [];
  private readonly exchanges = new Set<Exchange>();
  /** The TCP sockets of the client connections, by {@link addressKey}. */
  private readonly connections = new Map<string, Socket>();
  private readonly upstreamAgent: HttpsAgent;
  private readonly upstreamUrl: URL;
  private readonly random: () => number;
  private rules: RuleState[] = [];
  private held: { exchange: Exchange; body: Promise<Buffer> }[] = [];
  private requestCount = 0;
  private forwardedCount = 0;
  private partitioned: PartitionMode | undefined;
  private stopped: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    upstream: string,
    private readonly ca: Buffer,
    options: FaultProxyOptions,
  ) {
    this.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.upstreamUrl = new URL(upstream);
    this.upstreamAgent = new HttpsAgent({ ca, keepAlive: true });
    this.random = mulberry32(options.seed ?? 1);
    this.setRules(options.rules ?? []);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res);
    });
    server.on('connection', (tcp: Socket) => {
      const key = addressKey(tcp);
      this.connections.set(key, tcp);
      tcp.once('close', () => this.connections.delete(key));
    });
  }

  /**
   * Starts a proxy for the control plane `controlPlane` on 127.0.0.1 at a random port, with a
   * serving certificate (SAN IP:127.0.0.1, DNS:localhost) signed by the control plane's CA, so
   * clients that trust that CA trust the proxy. It forwards to `controlPlane.server`, verifying
   * it against the same CA.
   */
  static async start(controlPlane: Pick<ControlPlaneInfo, 'server' | 'pki'>, options: FaultProxyOptions = {}): Promise<FaultProxy> {
    const [identity, ca] = await Promise.all([
      issueServingCertificate(controlPlane.pki),
      readFile(path.join(controlPlane.pki, 'ca.crt')),
    ]);
    const server = createServer({ ...identity, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new FaultProxy(server, controlPlane.server, ca, options);
  }

  /** Everything that happened to the requests so far, in order. */
  get events(): readonly ProxyEvent[] {
    return this.loggedEvents;
  }

  /** How many requests were forwarded to kube-apiserver (with or without a fault). */
  get forwarded(): number {
    return this.forwardedCount;
  }

  /**
   * Replaces the rules and resets their fire counts; applies to requests arriving from now on.
   * Per request the rules are tried in order and the first that fires chooses the action; each
   * rule that matches and has fires left draws one number from the seeded generator, so the
   * same seed, rules and sequence of requests give the same decisions. Throws a RangeError on
   * an invalid rule.
   */
  setRules(rules: readonly FaultRule[]): void {
    rules.forEach(validateRule);
    this.rules = rules.map((rule, index) => ({ rule, name: rule.name ?? `rule ${index}`, fired: 0 }));
  }

  /** How many requests are held now (see the `hold` action). */
  get heldCount(): number {
    return this.held.length;
  }

  /**
   * Forwards every held request and returns how many; a request whose client has gone is
   * still forwarded and its response discarded.
   */
  releaseHeld(): number {
    const released = this.held;
    this.held = [];
    for (const { exchange, body } of released) {
      void body.then((bytes) => {
        this.record(exchange, 'forward', { detail: 'released' });
        this.forward(exchange, false, bytes);
      });
    }
    return released.length;
  }

  /** Drops every held request (never forwarded; its client's connection is closed) and returns how many. */
  dropHeld(): number {
    const dropped = this.held;
    this.held = [];
    for (const { exchange } of dropped) this.closeClient(exchange, 'drop');
    return dropped.length;
  }

  /**
   * Stalls every watch stream being forwarded now for `ms`: the connection stays open but no
   * event reaches the client until then (they arrive late, in order). Returns how many.
   */
  stallWatches(ms: number): number {
    const open = [...this.exchanges].filter((exchange) => exchange.watch && exchange.upstreamResponse !== undefined && !exchange.over.signal.aborted);
    for (const exchange of open) {
      exchange.upstreamResponse?.pause();
      this.record(exchange, 'stall', { detail: `${String(ms)} ms` });
      sleep(ms, undefined, { signal: exchange.over.signal }).then(
        () => exchange.upstreamResponse?.resume(),
        () => undefined, // the watch ended meanwhile
      );
    }
    return open.length;
  }

  /** Cuts every watch stream being forwarded now and returns how many. */
  cutWatches(mode: CutMode = 'destroy'): number {
    const open = [...this.exchanges].filter(
      (exchange) => exchange.watch && exchange.upstream !== undefined && !exchange.over.signal.aborted,
    );
    for (const exchange of open) this.cut(exchange, mode, 'cutWatches');
    return open.length;
  }

  /**
   * Partitions the client from kube-apiserver until {@link heal}: every client connection is
   * closed now (`reset`: with a TCP reset), cutting open streams and requests in flight, and
   * every request arriving meanwhile is dropped or reset likewise.
   */
  partition(mode: PartitionMode = 'drop'): void {
    this.partitioned = mode;
    for (const exchange of this.exchanges) {
      this.record(exchange, 'cut', { detail: 'partition' });
      exchange.over.abort();
    }
    for (const tcp of this.connections.values()) closeConnection(tcp, mode);
  }

  /** Ends a partition: requests are forwarded (and rules applied) again. */
  heal(): void {
    this.partitioned = undefined;
  }

  /** A KubeConfig that reaches kube-apiserver through the proxy with bearer token `token`. */
  kubeConfig(token: string): KubeConfig {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'fault-proxy', server: this.url, caData: this.ca.toString('base64'), skipTLSVerify: false }],
      users: [{ name: 'fault-proxy-client', token }],
      contexts: [{ name: 'fault-proxy', cluster: 'fault-proxy', user: 'fault-proxy-client' }],
      currentContext: 'fault-proxy',
    });
    return kubeConfig;
  }

  /** Writes {@link kubeConfig} of `token` to `file` (mode 0600), self-contained, for a child process. */
  async writeKubeconfig(token: string, file: string): Promise<void> {
    await writeFile(file, this.kubeConfig(token).exportConfig(), { mode: 0o600 });
  }

  /**
   * Stops listening, closes every client and upstream connection (idle keep-alive ones too)
   * and cancels every timer; resolves once the port is free. Idempotent.
   */
  stop(): Promise<void> {
    this.stopped ??= new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
      for (const exchange of this.exchanges) exchange.over.abort();
      for (const tcp of this.connections.values()) closeConnection(tcp, 'drop');
      this.upstreamAgent.destroy();
    });
    return this.stopped;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const tcp = this.connections.get(addressKey(req.socket));
    if (tcp === undefined) return; // its connection has closed already
    const method = req.method ?? 'GET';
    const target = req.url ?? '/';
    const queryStart = target.indexOf('?');
    const watchParam = queryStart < 0 ? null : new URLSearchParams(target.slice(queryStart + 1)).get('watch');
    this.requestCount += 1;
    const exchange: Exchange = {
      id: this.requestCount,
      method,
      path: target,
      pathname: queryStart < 0 ? target : target.slice(0, queryStart),
      watch: method === 'GET' && (watchParam === 'true' || watchParam === '1'),
      req,
      res,
      tcp,
      over: new AbortController(),
    };
    this.exchanges.add(exchange);
    res.once('close', () => {
      this.exchanges.delete(exchange);
      exchange.over.abort();
      exchange.upstream?.destroy();
    });
    if (this.partitioned !== undefined) {
      this.record(exchange, this.partitioned, { rule: 'partition' });
      this.closeClient(exchange, this.partitioned);
      return;
    }
    const decision = this.decide(exchange);
    if (decision === undefined) {
      this.record(exchange, 'forward');
      this.forward(exchange);
      return;
    }
    const { action, rule } = decision;
    this.record(exchange, action.type, { rule, ...(action.type === 'status' && { detail: String(action.code) }) });
    switch (action.type) {
      case 'delay':
        sleep(action.ms, undefined, { signal: exchange.over.signal }).then(
          () => {
            this.forward(exchange);
          },
          () => undefined, // the exchange ended while it waited
        );
        return;
      case 'drop':
      case 'reset':
        this.closeClient(exchange, action.type);
        return;
      case 'status':
        answerStatus(exchange, action.code, action.message, action.retryAfterSeconds ?? (action.code === 429 ? 1 : undefined));
        return;
      case 'lose-response':
        this.forward(exchange, true);
        return;
      case 'hold': {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        const body = new Promise<Buffer>((resolve) => {
          req.once('end', () => {
            resolve(Buffer.concat(chunks));
          });
          req.once('close', () => {
            resolve(Buffer.concat(chunks));
          });
        });
        this.held.push({ exchange, body });
        return;
      }
      case 'cut-watch':
        this.forward(exchange);
        sleep(action.afterMs, undefined, { signal: exchange.over.signal }).then(
          () => {
            this.cut(exchange, action.mode ?? 'destroy', rule);
          },
          () => undefined, // the watch ended before
        );
        return;
    }
  }

  private decide(exchange: Exchange): { action: FaultAction; rule: string } | undefined {
    for (const state of this.rules) {
      if (!matches(state.rule, exchange)) continue;
      if (state.rule.times !== undefined && state.fired >= state.rule.times) continue;
      if (this.random() >= (state.rule.probability ?? 1)) continue;
      state.fired += 1;
      return { action: state.rule.action, rule: state.name };
    }
    return undefined;
  }

  /**
   * Sends the request to kube-apiserver and streams the response back as it comes. With
   * `loseResponse` the response is read and the client's connection closed instead. `body`
   * is the request's body read before (a held request); otherwise it is streamed.
   */
  private forward(exchange: Exchange, loseResponse = false, body?: Buffer): void {
    const { req, res } = exchange;
    this.forwardedCount += 1;
    const upstream = httpsRequest({
      protocol: this.upstreamUrl.protocol,
      hostname: this.upstreamUrl.hostname,
      port: this.upstreamUrl.port,
      method: exchange.method,
      path: exchange.path,
      headers: [...forwardedHeaders(req.rawHeaders), 'Host', this.upstreamUrl.host],
      agent: this.upstreamAgent,
    });
    exchange.upstream = upstream;
    upstream.on('response', (upstreamResponse) => {
      exchange.upstreamResponse = upstreamResponse;
      if (res.destroyed) {
        upstreamResponse.resume(); // a released request whose client has gone
        return;
      }
      if (loseResponse) {
        if (exchange.watch) {
          this.closeClient(exchange, 'drop');
          return;
        }
        upstreamResponse.once('close', () => {
          this.closeClient(exchange, 'drop');
        });
        upstreamResponse.resume();
        return;
      }
      res.writeHead(upstreamResponse.statusCode ?? 502, forwardedHeaders(upstreamResponse.rawHeaders));
      res.flushHeaders(); // a watch may send nothing for a long time: the client must see it started
      upstreamResponse.pipe(res);
      upstreamResponse.once('close', () => {
        if (!upstreamResponse.complete && !exchange.over.signal.aborted) {
          this.record(exchange, 'upstream-error', { detail: 'the response ended early' });
          this.closeClient(exchange, 'drop');
        }
      });
    });
    upstream.on('error', (error) => {
      if (exchange.over.signal.aborted) return; // the proxy ended it
      this.record(exchange, 'upstream-error', { detail: error.message });
      if (res.headersSent) this.closeClient(exchange, 'drop');
      else answerStatus(exchange, 502, `fault proxy: kube-apiserver failed: ${error.message}`);
    });
    if (body === undefined) req.pipe(upstream);
    else upstream.end(body);
  }

  /** Cuts an exchange's response (once); see {@link CutMode}. */
  private cut(exchange: Exchange, mode: CutMode, by: string): void {
    if (exchange.over.signal.aborted) return;
    this.record(exchange, 'cut', { detail: by });
    exchange.over.abort();
    if (mode === 'end' && exchange.res.headersSent) {
      exchange.upstreamResponse?.unpipe(exchange.res);
      exchange.upstream?.destroy();
      exchange.res.end();
    } else {
      this.closeClient(exchange, 'drop');
    }
  }

  /** Closes the exchange's client connection without (more of) a response. */
  private closeClient(exchange: Exchange, mode: PartitionMode): void {
    exchange.over.abort();
    closeConnection(exchange.tcp, mode);
  }

  private record(exchange: Exchange, action: ProxyAction, extra: { rule?: string; detail?: string } = {}): void {
    this.loggedEvents.push({
      request: exchange.id,
      time: Date.now(),
      method: exchange.method,
      path: exchange.path,
      watch: exchange.watch,
      action,
      ...extra,
    });
  }
}

function matches(rule: FaultRule, exchange: Exchange): boolean {
  const { method, path: pathPattern, watch } = rule.match ?? {};
  if (method !== undefined && !(typeof method === 'string' ? [method] : method).includes(exchange.method)) return false;
  if (pathPattern !== undefined && !pathPattern.test(exchange.pathname)) return false;
  if (watch !== undefined && watch !== exchange.watch) return false;
  return rule.action.type !== 'cut-watch' || exchange.watch;
}

function validateRule(rule: FaultRule, index: number): void {
  const fail = (problem: string): never => {
    throw new RangeError(`fault rule ${rule.name ?? String(index)}: ${problem}`);
  };
  if (rule.probability !== undefined && !(rule.probability >= 0 && rule.probability <= 1)) fail('probability must be within [0, 1]');
  if (rule.times !== undefined && !(Number.isInteger(rule.times) && rule.times >= 0)) fail('times must be a whole number >= 0');
  const { action } = rule;
  if (action.type === 'delay' && !(action.ms >= 0)) fail('delay ms must be >= 0');
  if (action.type === 'cut-watch' && !(action.afterMs >= 0)) fail('cut-watch afterMs must be >= 0');
  if (action.type === 'status' && !(Number.isInteger(action.code) && action.code >= 400 && action.code <= 599)) {
    fail('status code must be within 400-599');
  }
}

/** Answers with `code` and a Kubernetes Status body (the way kube-apiserver reports errors). */
function answerStatus(exchange: Exchange, code: number, message?: string, retryAfterSeconds?: number): void {
  const reason = STATUS_REASONS[code] ?? 'Unknown';
  const body = JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: message ?? `fault proxy: injected ${code} ${reason}`,
    reason,
    ...(retryAfterSeconds !== undefined && { details: { retryAfterSeconds } }),
    code,
  });
  exchange.req.resume(); // discard the request body
  exchange.res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    ...(retryAfterSeconds !== undefined && { 'Retry-After': String(retryAfterSeconds) }),
  });
  exchange.res.end(body);
}

/** `rawHeaders` without hop-by-hop headers, as a flat name/value list. */
function forwardedHeaders(rawHeaders: readonly string[]): string[] {
  const connectionTokens = new Set<string>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === 'connection') {
      for (const token of (rawHeaders[i + 1] ?? '').split(',')) connectionTokens.add(token.trim().toLowerCase());
    }
  }
  const kept: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    const lower = name.toLowerCase();
    if (!NOT_FORWARDED.has(lower) && !connectionTokens.has(lower)) kept.push(name, rawHeaders[i + 1] ?? '');
  }
  return kept;
}

/** Closes a client connection (its TCP socket, and so the TLS socket over it); `reset` sends a TCP RST. */
function closeConnection(tcp: Socket, mode: PartitionMode): void {
  if (tcp.destroyed) return;
  if (mode === 'reset') tcp.resetAndDestroy();
  else tcp.destroy();
}

/** Identifies a client connection: the TCP socket and the TLS socket over it share it. */
function addressKey(socket: Socket): string {
  return `${socket.remoteAddress ?? ''}:${String(socket.remotePort)}`;
}

/** Mulberry32: a tiny, well-distributed 32-bit PRNG; returns numbers in [0, 1). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A fresh key and a certificate for 127.0.0.1/localhost signed by the CA in `pki`. */
async function issueServingCertificate(pki: string): Promise<{ key: Buffer; cert: Buffer }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'fault-proxy-'));
  const file = (name: string) => path.join(dir, name);
  try {
    await execFileAsync('openssl', [
      'req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
      '-subj', '/CN=fault-proxy', '-keyout', file('proxy.key'), '-out', file('proxy.csr'),
    ]);
    await writeFile(
      file('proxy.ext'),
      'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n' +
        'extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n',
    );
    // An explicit serial: -CAcreateserial would write a serial file into the control plane's pki.
    await execFileAsync('openssl', [
      'x509', '-req', '-in', file('proxy.csr'), '-CA', path.join(pki, 'ca.crt'), '-CAkey', path.join(pki, 'ca.key'),
      '-set_serial', `0x${randomBytes(16).toString('hex')}`, '-days', '2', '-extfile', file('proxy.ext'), '-out', file('proxy.crt'),
    ]);
    const [key, cert] = await Promise.all([readFile(file('proxy.key')), readFile(file('proxy.crt'))]);
    return { key, cert };
  } catch (error) {
    throw new Error(`fault proxy: issuing its serving certificate with openssl failed: ${String(error)}`, { cause: error });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
