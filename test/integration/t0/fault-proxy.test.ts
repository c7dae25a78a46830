/**
 * The fault-injecting proxy (test/support/fault-proxy.ts) between a client-node client, which
 * authenticates with a ServiceAccount token, and the real kube-apiserver: it forwards requests
 * and watch streams faithfully, injects each fault as its rule says (and no more often than the
 * rule allows), decides the same way for the same seed, partitions and heals, and stops cleanly.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, KubeConfig, Watch, type KubernetesObject, type V1ConfigMap } from '@kubernetes/client-node';
import { apiStatus, connectCluster, type TestCluster } from '../../support/cluster.ts';
import { FaultProxy, type FaultRule, type ProxyEvent } from '../../support/fault-proxy.ts';
import { waitFor, waitUntil } from '../../support/wait.ts';

const CLIENT_ACCOUNT = 'proxied-client';

let cluster: TestCluster;
let namespace: string;
let token: string;
/** The ServiceAccount's client straight to kube-apiserver. */
let direct: CoreV1Api;
let proxy: FaultProxy;
/** The ServiceAccount's client through {@link proxy}. */
let proxied: CoreV1Api;

beforeAll(async () => {
  cluster = connectCluster('T0');
  namespace = await cluster.createNamespace('fault-proxy');
  const account = await cluster.serviceAccountWithRole(namespace, CLIENT_ACCOUNT, [
    { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'] },
  ]);
  token = account.token;
  direct = account.kubeConfig.makeApiClient(CoreV1Api);
});

beforeEach(async () => {
  proxy = await FaultProxy.start(cluster.info);
  proxied = proxy.kubeConfig(token).makeApiClient(CoreV1Api);
});

afterEach(async () => {
  await proxy.stop();
});

function configMap(name: string, data: Record<string, string> = {}): V1ConfigMap {
  return { metadata: { name }, data };
}

/** How a call ended: `ok`, the HTTP status of an API error, or `network error` (no HTTP answer). */
async function outcome(call: Promise<unknown>): Promise<'ok' | number | 'network error'> {
  try {
    await call;
    return 'ok';
  } catch (error) {
    return apiStatus(error) ?? 'network error';
  }
}

/** The error a call failed with; fails the test when it succeeded. */
async function failureOf(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    (value: unknown) => {
      throw new Error(`expected the call to fail, but it returned ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}

/** The `code` of an error and of its causes (system and undici error codes such as ECONNRESET). */
function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  // Not `instanceof Error`: Node's own errors come from outside Jest's realm.
  for (let current = error; typeof current === 'object' && current !== null; current = (current as { cause?: unknown }).cause) {
    if ('code' in current && typeof current.code === 'string') codes.push(current.code);
  }
  return codes;
}

function actionsOf(events: readonly ProxyEvent[]): string[] {
  return events.map((event) => `${event.method} ${event.action}`);
}

/** A client-node Watch of the namespace's ConfigMaps, recording what its callbacks see. */
class ConfigMapWatch {
  readonly names: string[] = [];
  /** Set when the done callback fired: with its error (null: the stream ended without one). */
  ended: { error: unknown } | undefined;

  static async start(kubeConfig: KubeConfig): Promise<ConfigMapWatch> {
    const watch = new ConfigMapWatch();
    await new Watch(kubeConfig).watch(
      `/api/v1/namespaces/${namespace}/configmaps`,
      {},
      (type: string, object: KubernetesObject) => {
        watch.names.push(`${type} ${object.metadata?.name ?? ''}`);
      },
      (error: unknown) => {
        watch.ended = { error: error ?? null };
      },
    );
    return watch;
  }

  async sees(event: string): Promise<void> {
    await waitFor(
      () => Promise.resolve(this.names.includes(event) ? { done: true, value: undefined } : { done: false, observed: this }),
      { what: `the watch to see ${event}`, timeoutMs: 10_000 },
    );
  }

  async end(): Promise<unknown> {
    return waitFor(
      () => Promise.resolve(this.ended === undefined ? { done: false, observed: this } : { done: true, value: this.ended.error }),
      { what: 'the watch to end (its done callback)', timeoutMs: 10_000 },
    );
  }
}

it('forwards requests unchanged: what the client creates, reads and lists equals the direct results', async () => {
  const created = await proxied.createNamespacedConfigMap({ namespace, body: configMap('plain', { key: 'value' }) });
  expect(created.data).toEqual({ key: 'value' });
  const read = await proxied.readNamespacedConfigMap({ namespace, name: 'plain' });
  expect(read).toEqual(await direct.readNamespacedConfigMap({ namespace, name: 'plain' }));
  expect(read).toEqual(created);
  const listed = await proxied.listNamespacedConfigMap({ namespace });
  expect(listed.items).toEqual((await direct.listNamespacedConfigMap({ namespace })).items);
  expect(listed.items.map((item) => item.metadata?.name)).toContain('plain');

  // The bearer token is what authenticates the client: a wrong one is refused upstream.
  const stranger = proxy.kubeConfig('not-a-token').makeApiClient(CoreV1Api);
  await expect(outcome(stranger.listNamespacedConfigMap({ namespace }))).resolves.toBe(401);

  // A kubeconfig file for a child process works the same.
  const dir = await mkdtemp(path.join(tmpdir(), 'fault-proxy-test-'));
  try {
    const file = path.join(dir, 'kubeconfig');
    await proxy.writeKubeconfig(token, file);
    const fromFile = new KubeConfig();
    fromFile.loadFromFile(file);
    expect(fromFile.getCurrentCluster()?.server).toBe(proxy.url);
    await expect(fromFile.makeApiClient(CoreV1Api).readNamespacedConfigMap({ namespace, name: 'plain' })).resolves.toEqual(created);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  expect(actionsOf(proxy.events)).toEqual(['POST forward', 'GET forward', 'GET forward', 'GET forward', 'GET forward']);
  expect(proxy.forwarded).toBe(5);
});

it('streams a watch as events happen, and cutWatches() ends it', async () => {
  const watch = await ConfigMapWatch.start(proxy.kubeConfig(token));
  await cluster.core.createNamespacedConfigMap({ namespace, body: configMap('watched-1') });
  await watch.sees('ADDED watched-1');
  await cluster.core.deleteNamespacedConfigMap({ namespace, name: 'watched-1' });
  await watch.sees('DELETED watched-1');
  expect(watch.ended).toBeUndefined();

  expect(proxy.cutWatches()).toBe(1);
  // Cut by closing the connection: the client sees an error.
  expect(await watch.end()).toBeInstanceOf(Error);
  expect(proxy.events.filter((event) => event.action === 'cut')).toEqual([
    expect.objectContaining({ method: 'GET', watch: true, detail: 'cutWatches' }),
  ]);

  // Cut cleanly: the stream just ends, as when kube-apiserver closes a watch at its timeout.
  const second = await ConfigMapWatch.start(proxy.kubeConfig(token));
  await cluster.core.createNamespacedConfigMap({ namespace, body: configMap('watched-2') });
  await second.sees('ADDED watched-2');
  expect(proxy.cutWatches('end')).toBe(1);
  expect(await second.end()).toBeNull();
  expect(proxy.cutWatches()).toBe(0);
});

it('stallWatches() holds the events of open watches for a while; they arrive late, in order, on the same stream', async () => {
  const watch = await ConfigMapWatch.start(proxy.kubeConfig(token));
  await cluster.core.createNamespacedConfigMap({ namespace, body: configMap('before-stall') });
  await watch.sees('ADDED before-stall');
  expect(proxy.stallWatches(1500)).toBe(1);
  const stalledAt = Date.now();
  await cluster.core.createNamespacedConfigMap({ namespace, body: configMap('during-stall-1') });
  await cluster.core.createNamespacedConfigMap({ namespace, body: configMap('during-stall-2') });
  await sleep(500);
  // The namespace's earlier config maps arrive first (a watch without a resourceVersion lists them).
  const ours = (): string[] => watch.names.filter((name) => name.includes('stall'));
  expect(ours()).toEqual(['ADDED before-stall']);
  await watch.sees('ADDED during-stall-2');
  expect(Date.now() - stalledAt).toBeGreaterThanOrEqual(1400);
  expect(ours()).toEqual(['ADDED before-stall', 'ADDED during-stall-1', 'ADDED during-stall-2']);
  expect(watch.ended).toBeUndefined();
  expect(proxy.events.filter((event) => event.action === 'stall')).toEqual([expect.objectContaining({ watch: true, detail: '1500 ms' })]);
});

it('cut-watch cuts watches only, after the given time', async () => {
  proxy.setRules([{ name: 'short watches', action: { type: 'cut-watch', afterMs: 300 } }]);
  await proxied.listNamespacedConfigMap({ namespace }); // not a watch: forwarded untouched
  const watch = await ConfigMapWatch.start(proxy.kubeConfig(token));
  expect(await watch.end()).toBeInstanceOf(Error);
  const [list, watchEvent, cut] = proxy.events;
  expect(proxy.events).toHaveLength(3);
  expect(list).toMatchObject({ action: 'forward', watch: false });
  expect(watchEvent).toMatchObject({ action: 'cut-watch', watch: true, rule: 'short watches' });
  expect(cut).toMatchObject({ request: watchEvent?.request, action: 'cut', detail: 'short watches' });
  expect((cut?.time ?? 0) - (watchEvent?.time ?? 0)).toBeGreaterThanOrEqual(290);
});

it('status: injected 409 and 429 (with Retry-After) reach the client without being forwarded', async () => {
  proxy.setRules([
    { name: 'conflict', match: { method: 'POST', path: /\/configmaps$/ }, action: { type: 'status', code: 409 } },
    { name: 'throttle', match: { method: 'GET' }, action: { type: 'status', code: 429, retryAfterSeconds: 3 } },
  ]);
  const conflict = await failureOf(proxied.createNamespacedConfigMap({ namespace, body: configMap('refused') }));
  expect(apiStatus(conflict)).toBe(409);
  expect(conflict).toMatchObject({ body: expect.stringContaining('"reason":"Conflict"') as unknown });

  const throttled = await failureOf(proxied.readNamespacedConfigMap({ namespace, name: 'refused' }));
  expect(apiStatus(throttled)).toBe(429);
  expect(throttled).toMatchObject({ headers: { 'retry-after': '3' } });

  expect(proxy.forwarded).toBe(0);
  await expect(outcome(direct.readNamespacedConfigMap({ namespace, name: 'refused' }))).resolves.toBe(404);
  expect(proxy.events).toEqual([
    expect.objectContaining({ method: 'POST', action: 'status', rule: 'conflict', detail: '409' }),
    expect.objectContaining({ method: 'GET', action: 'status', rule: 'throttle', detail: '429' }),
  ]);
});

it('lose-response: the server applies a create, but the client gets no answer', async () => {
  proxy.setRules([{ match: { method: 'POST' }, action: { type: 'lose-response' } }]);
  await expect(outcome(proxied.createNamespacedConfigMap({ namespace, body: configMap('lost', { key: 'kept' }) }))).resolves.toBe(
    'network error',
  );
  const stored = await direct.readNamespacedConfigMap({ namespace, name: 'lost' });
  expect(stored.data).toEqual({ key: 'kept' });
  expect(proxy.forwarded).toBe(1);
  expect(actionsOf(proxy.events)).toEqual(['POST lose-response']);
});

it('delay: the request is answered after the delay', async () => {
  await direct.createNamespacedConfigMap({ namespace, body: configMap('slow') });
  proxy.setRules([{ match: { method: 'GET', path: /\/configmaps\/slow$/ }, action: { type: 'delay', ms: 1000 } }]);
  const started = Date.now();
  const read = await proxied.readNamespacedConfigMap({ namespace, name: 'slow' });
  expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  expect(read.metadata?.name).toBe('slow');
  expect(actionsOf(proxy.events)).toEqual(['GET delay']);
  expect(proxy.forwarded).toBe(1);
});

it('hold: a held create reaches the server only when released, even after its client has gone', async () => {
  proxy.setRules([{ match: { method: 'POST' }, action: { type: 'hold' } }]);
  const waiting = outcome(proxied.createNamespacedConfigMap({ namespace, body: configMap('held-answered') }));
  // A client that goes away (as a killed process does) while its create is held.
  const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held-abandoned' }, data: { key: 'late' } });
  const abandoned = httpsRequest(`${proxy.url}/api/v1/namespaces/${namespace}/configmaps`, {
    method: 'POST',
    ca: await readFile(path.join(cluster.info.pki, 'ca.crt')),
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
  });
  abandoned.on('error', () => undefined);
  abandoned.end(body);
  await waitUntil(() => Promise.resolve(proxy.heldCount), (held) => held === 2, { what: 'both creates to be held', timeoutMs: 10_000 });
  abandoned.destroy();
  await sleep(200);
  expect(proxy.forwarded).toBe(0);
  await expect(outcome(direct.readNamespacedConfigMap({ namespace, name: 'held-abandoned' }))).resolves.toBe(404);

  expect(proxy.releaseHeld()).toBe(2);
  await expect(waiting).resolves.toBe('ok');
  const late = await waitUntil(() => direct.readNamespacedConfigMap({ namespace, name: 'held-abandoned' }).catch(() => undefined), (stored) => stored !== undefined, {
    what: 'the abandoned create to be applied once released',
    timeoutMs: 10_000,
  });
  expect(late?.data).toEqual({ key: 'late' });
  expect(proxy.heldCount).toBe(0);
  expect(proxy.forwarded).toBe(2);
});

it('hold then dropHeld: the request is never forwarded and the client sees a connection error', async () => {
  proxy.setRules([{ match: { method: 'POST' }, action: { type: 'hold' } }]);
  const held = outcome(proxied.createNamespacedConfigMap({ namespace, body: configMap('never') }));
  await waitUntil(() => Promise.resolve(proxy.heldCount), (count) => count === 1, { what: 'the create to be held', timeoutMs: 10_000 });
  expect(proxy.dropHeld()).toBe(1);
  await expect(held).resolves.toBe('network error');
  expect(proxy.forwarded).toBe(0);
  await expect(outcome(direct.readNamespacedConfigMap({ namespace, name: 'never' }))).resolves.toBe(404);
});

it('drop and reset: the client gets a connection error, and nothing is forwarded', async () => {
  proxy.setRules([
    { name: 'dropped', match: { method: 'POST' }, action: { type: 'drop' } },
    { name: 'reset', match: { method: 'GET' }, action: { type: 'reset' } },
  ]);
  const dropped = await failureOf(proxied.createNamespacedConfigMap({ namespace, body: configMap('dropped') }));
  expect(apiStatus(dropped)).toBeUndefined();

  const reset = await failureOf(proxied.readNamespacedConfigMap({ namespace, name: 'dropped' }));
  expect(apiStatus(reset)).toBeUndefined();
  expect(errorCodes(reset)).toContain('ECONNRESET');

  expect(proxy.forwarded).toBe(0);
  await expect(outcome(direct.readNamespacedConfigMap({ namespace, name: 'dropped' }))).resolves.toBe(404);
  expect(actionsOf(proxy.events)).toEqual(['POST drop', 'GET reset']);
});

it('partition() cuts open watches and fails requests until heal()', async () => {
  const watch = await ConfigMapWatch.start(proxy.kubeConfig(token));
  proxy.partition();
  expect(await watch.end()).toBeInstanceOf(Error);
  await expect(outcome(proxied.listNamespacedConfigMap({ namespace }))).resolves.toBe('network error');

  proxy.partition('reset');
  const reset = await failureOf(proxied.listNamespacedConfigMap({ namespace }));
  expect(errorCodes(reset)).toContain('ECONNRESET');

  proxy.heal();
  await expect(outcome(proxied.listNamespacedConfigMap({ namespace }))).resolves.toBe('ok');
  expect(proxy.events.map((event) => [event.action, event.rule ?? event.detail])).toEqual([
    ['forward', undefined],
    ['cut', 'partition'],
    ['drop', 'partition'],
    ['reset', 'partition'],
    ['forward', undefined],
  ]);
  expect(proxy.forwarded).toBe(2);
});

describe('decisions', () => {
  const halfFail: FaultRule = { match: { method: 'GET' }, probability: 0.5, action: { type: 'status', code: 500 } };

  async function outcomesThrough(seed: number, requests: number): Promise<(string | number)[]> {
    const seeded = await FaultProxy.start(cluster.info, { seed, rules: [halfFail] });
    try {
      const client = seeded.kubeConfig(token).makeApiClient(CoreV1Api);
      const outcomes: (string | number)[] = [];
      for (let i = 0; i < requests; i += 1) outcomes.push(await outcome(client.listNamespacedConfigMap({ namespace })));
      return outcomes;
    } finally {
      await seeded.stop();
    }
  }

  it('the same seed gives the same decisions for the same requests', async () => {
    const first = await outcomesThrough(42, 24);
    const second = await outcomesThrough(42, 24);
    expect(second).toEqual(first);
    // A 50 % rule both fires and lets requests pass...
    expect(first).toContain(500);
    expect(first).toContain('ok');
    // ...and another seed decides differently.
    expect(await outcomesThrough(43, 24)).not.toEqual(first);
  });

  it('a rule fires at most `times` times, counted again after setRules', async () => {
    const twice: FaultRule = { match: { method: 'GET' }, times: 2, action: { type: 'status', code: 500 } };
    proxy.setRules([twice]);
    const outcomes: (string | number)[] = [];
    for (let i = 0; i < 5; i += 1) outcomes.push(await outcome(proxied.listNamespacedConfigMap({ namespace })));
    expect(outcomes).toEqual([500, 500, 'ok', 'ok', 'ok']);

    proxy.setRules([twice]);
    await expect(outcome(proxied.listNamespacedConfigMap({ namespace }))).resolves.toBe(500);
    expect(proxy.forwarded).toBe(3);
  });

  it('rejects invalid rules', () => {
    expect(() => {
      proxy.setRules([{ probability: 1.5, action: { type: 'drop' } }]);
    }).toThrow(RangeError);
    expect(() => {
      proxy.setRules([{ name: 'odd', action: { type: 'status', code: 200 } }]);
    }).toThrow('fault rule odd: status code must be within 400-599');
  });
});

it('stop() ends open watches and keep-alive connections and frees the port', async () => {
  await proxied.listNamespacedConfigMap({ namespace }); // leaves an idle keep-alive connection
  const watch = await ConfigMapWatch.start(proxy.kubeConfig(token));
  await proxy.stop();
  expect(await watch.end()).toBeInstanceOf(Error);
  await proxy.stop(); // idempotent
  const port = Number(new URL(proxy.url).port);
  const refused = await new Promise<unknown>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', resolve);
  });
  expect(errorCodes(refused)).toEqual(['ECONNREFUSED']);
});
