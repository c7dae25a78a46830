/**
 * The operator's client reuses connections: many requests travel on few TCP connections to the
 * real API server, and watches hold connections of their own so they never starve requests;
 * Events and retention deletes travel on a lane of their own.
 * A TCP pass-through in front of kube-apiserver counts the connections (TLS goes through it
 * untouched), and the client reads the kubeconfig with the operator's own loader.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { loadConfig } from '../../../src/config.ts';
import { buildContainer, resolve, TOKENS } from '../../../src/container.ts';
import { KubeClient } from '../../../src/runtime/client.ts';
import { DEFAULT_REQUEST_CONNECTIONS, PooledClusterAccess } from '../../../src/runtime/cluster-access.ts';
import { loadCredentialSource } from '../../../src/runtime/kubeconfig.ts';
import { connectCluster, type TestCluster } from '../../support/cluster.ts';
import { CountingPassThrough } from '../../support/counting-pass-through.ts';
import { waitUntil } from '../../support/wait.ts';
import { CONFIGMAPS } from '../../support/resource-types.ts';
import { EVENTS } from '../../../src/runtime/events.ts';


let cluster: TestCluster;
let namespace: string;
let counter: CountingPassThrough;
let access: PooledClusterAccess;
let client: KubeClient;

beforeAll(async () => {
  cluster = connectCluster('T0');
  namespace = await cluster.createNamespace('connections');
  let kubeconfig: string;
  ({ counter, kubeconfig } = await CountingPassThrough.inFrontOf(cluster.info.kubeconfig));
  access = new PooledClusterAccess(await loadCredentialSource({ env: { KUBECONFIG: kubeconfig } }));
  client = new KubeClient({ access });
  await client.create(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'target', namespace } });
});

afterAll(async () => {
  access.close();
  await counter.stop();
});

it('sends 200 requests one after another on one connection', async () => {
  const before = counter.accepted;
  for (let i = 0; i < 200; i++) await client.get(CONFIGMAPS, namespace, 'target');
  expect(counter.accepted - before).toBeLessThanOrEqual(1);
});

it('keeps the connection after a delete with preconditions (a DeleteOptions body)', async () => {
  const names = Array.from({ length: 20 }, (_, i) => `doomed-${String(i)}`);
  const created: KubernetesObject[] = [];
  for (const name of names) created.push(await client.create<KubernetesObject>(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace } }));
  const before = counter.accepted;
  for (const object of created) await client.delete(CONFIGMAPS, namespace, object.metadata?.name ?? '', { uid: object.metadata?.uid ?? '' });
  expect(counter.accepted - before).toBeLessThanOrEqual(1);
});

it('opens at most the pool size for 100 concurrent requests, then reuses those connections', async () => {
  const before = counter.accepted;
  const burst = (): Promise<unknown[]> => Promise.all(Array.from({ length: 100 }, () => client.get(CONFIGMAPS, namespace, 'target')));
  await burst();
  const afterFirst = counter.accepted - before;
  expect(afterFirst).toBeLessThanOrEqual(DEFAULT_REQUEST_CONNECTIONS);
  await burst();
  expect(counter.accepted - before).toBe(afterFirst);
});

it('keeps watches off the request pool: requests go through while more watches than pooled connections are open', async () => {
  const stop = new AbortController();
  const before = counter.accepted;
  const watchCount = DEFAULT_REQUEST_CONNECTIONS + 2;
  const watches = Array.from({ length: watchCount }, async () => {
    const events = client.watch(CONFIGMAPS, { namespace, resourceVersion: '0', timeoutSeconds: 60 }, stop.signal);
    for await (const event of events) expect(event.type).not.toBe('ERROR');
  });
  try {
    await waitUntil(() => Promise.resolve(counter.accepted - before), (opened) => opened >= watchCount, { timeoutMs: 10_000, what: 'every watch connected' });
    const results = await Promise.all(Array.from({ length: 20 }, () => client.get(CONFIGMAPS, namespace, 'target')));
    expect(results).toHaveLength(20);
    expect(counter.accepted - before).toBeLessThanOrEqual(watchCount + DEFAULT_REQUEST_CONNECTIONS);
  } finally {
    stop.abort();
    await Promise.all(watches);
  }
});

it('gives retention deletes and Events lanes of their own: a backlog of deletes delays neither a run request nor an Event', async () => {
  const config = loadConfig({ OAAT_BACKGROUND_QPS: '1', OAAT_BACKGROUND_BURST: '1', OAAT_LOG_LEVEL: 'error' });
  const container = buildContainer(config, await loadCredentialSource({ env: { KUBECONFIG: cluster.info.kubeconfig } }), () => undefined);
  const background = resolve(container, TOKENS.BackgroundClient);
  const run = resolve(container, TOKENS.Client);
  let backgroundDone = 0;
  const backlog = Array.from({ length: 10 }, () => background.get(CONFIGMAPS, namespace, 'target').then(() => backgroundDone++));
  const target = await run.get<KubernetesObject>(CONFIGMAPS, namespace, 'target');
  // Five Events, within the Event budget (50/s, burst 200) but five times the background lane's QPS.
  const events = resolve(container, TOKENS.EventRecorder);
  for (let i = 0; i < 5; i++) events.record(target, 'Normal', 'LaneTest', `event ${String(i)}`);
  const laneTest = async (): Promise<number> =>
    (await run.list<KubernetesObject & { reason?: string }>(EVENTS, { namespace })).items.filter((event) => event.reason === 'LaneTest').length;
  await waitUntil(laneTest, (count) => count === 5, { timeoutMs: 8_000, what: 'the five Events written' });
  // One request a second on the background lane: its backlog takes nine seconds to drain.
  expect(backgroundDone).toBeLessThan(10);
  await Promise.all(backlog);
});
