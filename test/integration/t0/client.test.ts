/**
 * The runtime's REST client and event recorder against the real API server, with the fault
 * proxy for the answers a healthy server rarely gives: 429, slow responses, lost connections.
 */
import type { CoreV1Event, KubernetesObject } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { ApiError, ConflictError, isAlreadyExists, isNotFound } from '../../../src/runtime/api-error.ts';
import { KubeClient } from '../../../src/runtime/client.ts';
import { ApiEventRecorder, EVENTS } from '../../../src/runtime/events.ts';
import { TokenBucketRateLimiter } from '../../../src/runtime/rate-limiter.ts';
import { clusterAccess, connectCluster, type TestCluster } from '../../support/cluster.ts';
import { FaultProxy } from '../../support/fault-proxy.ts';
import { TestLogger } from '../../support/test-logger.ts';
import { waitUntil } from '../../support/wait.ts';
import { CONFIGMAPS } from '../../support/resource-types.ts';


let cluster: TestCluster;
let admin: KubeClient;
let namespace: string;
let token: string;
let proxy: FaultProxy | undefined;

beforeAll(async () => {
  cluster = connectCluster('T0');
  admin = new KubeClient({ access: clusterAccess(cluster.kubeConfig), fieldManager: 'client-test' });
  namespace = await cluster.createNamespace('client');
  ({ token } = await cluster.serviceAccountWithRole(namespace, 'client', [
    { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'create', 'patch', 'delete'] },
    { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
  ]));
});

afterEach(async () => {
  await proxy?.stop();
  proxy = undefined;
});

async function proxied(options: { requestTimeoutMs?: number; maxRetriesOn429?: number } = {}): Promise<{ client: KubeClient; proxy: FaultProxy }> {
  proxy = await FaultProxy.start(cluster.info, { seed: 3 });
  return { proxy, client: new KubeClient({ access: clusterAccess(proxy.kubeConfig(token)), ...options }) };
}

function configMap(name: string): KubernetesObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace } };
}

async function failure(call: Promise<unknown>): Promise<ApiError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('the call succeeded');
}

it('creates, reads, patches and deletes, with errors that say what happened', async () => {
  const created = await admin.create(CONFIGMAPS, configMap('crud'));
  expect(created.metadata?.uid).toEqual(expect.any(String));
  expect(isAlreadyExists(await failure(admin.create(CONFIGMAPS, configMap('crud'))))).toBe(true);
  const patched = await admin.patch<KubernetesObject & { data?: Record<string, string> }>(CONFIGMAPS, namespace, 'crud', { data: { a: '1' } });
  expect(patched.data).toEqual({ a: '1' });
  expect((await admin.get<KubernetesObject>(CONFIGMAPS, namespace, 'crud')).metadata?.resourceVersion).toBe(patched.metadata?.resourceVersion);
  await admin.delete(CONFIGMAPS, namespace, 'crud');
  const missing = await failure(admin.get(CONFIGMAPS, namespace, 'crud'));
  expect(isNotFound(missing)).toBe(true);
  expect(missing.message).toContain(`GET /api/v1/namespaces/${namespace}/configmaps/crud: 404 NotFound`);
});

it('refuses a patch computed from a stale read with a ConflictError, and a delete of a replaced object', async () => {
  const first = await admin.create(CONFIGMAPS, configMap('guarded'));
  await admin.patch(CONFIGMAPS, namespace, 'guarded', { data: { moved: 'on' } });
  const stale = await failure(admin.patch(CONFIGMAPS, namespace, 'guarded', { data: { x: 'y' } }, { resourceVersion: first.metadata?.resourceVersion ?? '' }));
  expect(stale).toBeInstanceOf(ConflictError);
  expect(stale.status).toBe(409);
  await admin.delete(CONFIGMAPS, namespace, 'guarded');
  await admin.create(CONFIGMAPS, configMap('guarded'));
  const replaced = await failure(admin.delete(CONFIGMAPS, namespace, 'guarded', { uid: first.metadata?.uid ?? '' }));
  expect(replaced.status).toBe(409);
  expect(replaced).toBeInstanceOf(ConflictError);
});

it('retries 429 after Retry-After, and gives up after the configured number of retries', async () => {
  const { client, proxy: faults } = await proxied({ maxRetriesOn429: 2 });
  faults.setRules([{ name: 'busy', match: { method: 'GET' }, times: 2, action: { type: 'status', code: 429, retryAfterSeconds: 1 } }]);
  const started = Date.now();
  await client.list(CONFIGMAPS, { namespace });
  expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
  expect(faults.events.filter((event) => event.rule === 'busy')).toHaveLength(2);

  faults.setRules([{ name: 'busy', match: { method: 'GET' }, action: { type: 'status', code: 429, retryAfterSeconds: 0 } }]);
  const exhausted = await failure(client.list(CONFIGMAPS, { namespace }));
  expect(exhausted.status).toBe(429);
  expect(faults.events.filter((event) => event.rule === 'busy')).toHaveLength(2 + 3);
});

it('times out a request that gets no answer, as an ApiError with status 0', async () => {
  const { client, proxy: faults } = await proxied({ requestTimeoutMs: 500 });
  faults.setRules([{ match: { method: 'GET' }, times: 1, action: { type: 'delay', ms: 3_000 } }]);
  const slow = await failure(client.get(CONFIGMAPS, namespace, 'anything'));
  expect(slow).toMatchObject({ status: 0, reason: 'Timeout' });
  expect(slow.message).toContain('timed out');
  // A dropped connection is an ApiError too, and the next call works.
  faults.setRules([{ match: { method: 'GET' }, times: 1, action: { type: 'drop' } }]);
  expect((await failure(client.list(CONFIGMAPS, { namespace }))).status).toBe(0);
  await expect(client.list(CONFIGMAPS, { namespace })).resolves.toMatchObject({ items: expect.any(Array) as unknown });
});

it('with maxInFlight, sends requests one turn at a time and times each from its turn, not from its wait', async () => {
  proxy = await FaultProxy.start(cluster.info, { seed: 3 });
  const client = new KubeClient({ access: clusterAccess(proxy.kubeConfig(token)), requestTimeoutMs: 500, maxInFlight: 1 });
  proxy.setRules([{ match: { method: 'GET' }, action: { type: 'delay', ms: 300 } }]);
  // Three reads of 300 ms each, one at a time: the last is answered about 900 ms after the
  // first was asked for, beyond the 500 ms timeout, and none times out.
  const reads = await Promise.all(['a', 'b', 'c'].map((name) => failure(client.get(CONFIGMAPS, namespace, name))));
  expect(reads.map((error) => error.status)).toEqual([404, 404, 404]);
  const arrivals = proxy.events.filter((event) => event.method === 'GET').map((event) => event.time);
  expect(arrivals).toHaveLength(3);
  for (let i = 1; i < arrivals.length; i++) expect((arrivals[i] ?? 0) - (arrivals[i - 1] ?? 0)).toBeGreaterThanOrEqual(250);
});

it('spaces requests by its token bucket', async () => {
  const limited = new KubeClient({ access: clusterAccess(cluster.kubeConfig), rateLimiter: new TokenBucketRateLimiter<string>({ qps: 5, burst: 2 }) });
  const started = Date.now();
  await Promise.all(Array.from({ length: 6 }, () => limited.list(CONFIGMAPS, { namespace })));
  // Two at once, then one every 200 ms: the sixth may not start before 800 ms.
  expect(Date.now() - started).toBeGreaterThanOrEqual(750);
});

it('aggregates repeated events into one Event with a count', async () => {
  const subject = await admin.create(CONFIGMAPS, configMap('eventful'));
  const recorder = new ApiEventRecorder({ client: admin, component: 'client-test', logger: new TestLogger() });
  for (let i = 0; i < 5; i++) recorder.record(subject, 'Warning', 'InvalidSpec', 'frequency "1.5h" is not a duration');
  recorder.record(subject, 'Normal', 'RunStarted', 'item a started');
  await recorder.flush();
  const events = (await admin.list<CoreV1Event>(EVENTS, { namespace, fieldSelector: `involvedObject.uid=${subject.metadata?.uid ?? ''}` })).items;
  const summary = events.map((event) => [event.type, event.reason, event.count, event.source?.component]).sort();
  expect(summary).toEqual([
    ['Normal', 'RunStarted', 1, 'client-test'],
    ['Warning', 'InvalidSpec', 5, 'client-test'],
  ]);
  const invalid = events.find((event) => event.reason === 'InvalidSpec');
  expect(invalid?.involvedObject).toMatchObject({ kind: 'ConfigMap', name: 'eventful', uid: subject.metadata?.uid });
  expect(invalid?.message).toBe('frequency "1.5h" is not a duration');
});

it('drops the Events beyond its budget instead of queueing them, and counts them', async () => {
  const subject = await admin.create(CONFIGMAPS, configMap('chatty'));
  const registry = new Registry();
  const recorder = new ApiEventRecorder({
    client: admin,
    component: 'client-test',
    logger: new TestLogger(),
    budget: new TokenBucketRateLimiter<string>({ qps: 0.001, burst: 3 }),
    registry,
  });
  for (let i = 0; i < 10; i++) recorder.record(subject, 'Normal', 'RunStarted', `item ${String(i)} started`);
  await recorder.flush();
  const events = (await admin.list<CoreV1Event>(EVENTS, { namespace, fieldSelector: `involvedObject.uid=${subject.metadata?.uid ?? ''}` })).items;
  expect(events.map((event) => event.message).sort()).toEqual(['item 0 started', 'item 1 started', 'item 2 started']);
  expect(await registry.getSingleMetricAsString('oaat_events_dropped_total')).toContain('oaat_events_dropped_total{reason="budget"} 7');
});

it('drops the Events beyond its bound of unanswered writes while the server does not answer, and counts them', async () => {
  const subject = await admin.create(CONFIGMAPS, configMap('backlogged'));
  const { client, proxy: slow } = await proxied();
  slow.setRules([{ match: { method: 'POST', path: /\/events$/ }, action: { type: 'hold' } }]);
  const registry = new Registry();
  const recorder = new ApiEventRecorder({ client, component: 'client-test', logger: new TestLogger(), maxPending: 2, registry });
  for (let i = 0; i < 5; i++) recorder.record(subject, 'Normal', 'RunStarted', `item ${String(i)} started`);
  await waitUntil(() => Promise.resolve(slow.heldCount), (held) => held === 2, { what: 'two Event creates to be held', timeoutMs: 10_000 });
  expect(await registry.getSingleMetricAsString('oaat_events_dropped_total')).toContain('oaat_events_dropped_total{reason="backlog"} 3');
  slow.setRules([]);
  expect(slow.releaseHeld()).toBe(2);
  await recorder.flush();
  // Answered: room again.
  recorder.record(subject, 'Normal', 'RunStarted', 'item 5 started');
  await recorder.flush();
  const events = (await admin.list<CoreV1Event>(EVENTS, { namespace, fieldSelector: `involvedObject.uid=${subject.metadata?.uid ?? ''}` })).items;
  expect(events.map((event) => event.message).sort()).toEqual(['item 0 started', 'item 1 started', 'item 5 started']);
});
