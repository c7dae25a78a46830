/**
 * The informer and controller behind the fault proxy: the connection to the API server is cut
 * while objects are created, changed and deleted directly, and etcd is compacted so the
 * informer's resourceVersion is gone (410). Once the connection heals, the cache must equal a
 * fresh LIST, and every changed object, deleted ones included, must be reconciled.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { KubeClient, type ResourceType } from '../../../src/runtime/client.ts';
import { PrometheusControllerMetrics } from '../../../src/runtime/controller-metrics.ts';
import { Controller } from '../../../src/runtime/controller.ts';
import { Informer } from '../../../src/runtime/informer.ts';
import type { Reconciler, Request, Result } from '../../../src/runtime/reconciler.ts';
import { clusterAccess, connectCluster, type TestCluster } from '../../support/cluster.ts';
import { compactEtcd } from '../../support/etcd.ts';
import { FaultProxy } from '../../support/fault-proxy.ts';
import { TestLogger } from '../../support/test-logger.ts';
import { waitUntil } from '../../support/wait.ts';

// Secrets: served without a watch cache here, so compaction reaches the informer as 410.
const SECRETS: ResourceType = { apiVersion: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true };
const LABEL = 'faults.test/member';

let cluster: TestCluster;
let namespace: string;
let admin: KubeClient;
let proxy: FaultProxy;
let informer: Informer<KubernetesObject>;
let controller: Controller;

class Recorder implements Reconciler {
  readonly seen: string[] = [];
  reconcile(request: Request): Promise<Result> {
    this.seen.push(request.name);
    return Promise.resolve({});
  }
}

beforeAll(() => {
  cluster = connectCluster('T0');
  admin = new KubeClient({ access: clusterAccess(cluster.kubeConfig) });
});

afterEach(async () => {
  await controller.stop();
  await informer.stop();
  await proxy.stop();
});

function secret(name: string, value = 'v1'): KubernetesObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, labels: { [LABEL]: 'yes' } },
    stringData: { value },
  } as KubernetesObject;
}

function state(objects: readonly KubernetesObject[]): string[] {
  return objects.map((o) => `${o.metadata?.name ?? ''}@${o.metadata?.resourceVersion ?? ''}`).sort();
}

it('converges to a fresh LIST after a partition and a compaction, and reconciles every changed key', async () => {
  namespace = await cluster.createNamespace('faults');
  const account = await cluster.serviceAccountWithRole(namespace, 'operator', [
    { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] },
  ]);
  proxy = await FaultProxy.start(cluster.info, { seed: 7 });
  const logger = new TestLogger();
  const client = new KubeClient({ access: clusterAccess(proxy.kubeConfig(account.token)), requestTimeoutMs: 5_000 });
  informer = new Informer<KubernetesObject>({
    client,
    type: SECRETS,
    namespaces: [namespace],
    labelSelector: `${LABEL}=yes`,
    logger,
    backoffInitialMs: 100,
    backoffMaxMs: 1_000,
  });
  const recorder = new Recorder();
  controller = new Controller({
    name: 'faults',
    reconciler: recorder,
    primary: informer,
    logger,
    metrics: new PrometheusControllerMetrics(new Registry()).forController('faults', 4),
  });

  const names = Array.from({ length: 30 }, (_, i) => `s-${String(i).padStart(2, '0')}`);
  for (const name of names) await admin.create(SECRETS, secret(name));
  informer.start();
  await informer.waitForSync(30_000);
  controller.start();
  await waitUntil(() => Promise.resolve(new Set(recorder.seen).size), (n) => n === 30, { what: 'the first reconcile of all 30' });

  proxy.partition('reset');
  const created = ['n-0', 'n-1', 'n-2', 'n-3', 'n-4'];
  const updated = names.slice(0, 5);
  const deleted = names.slice(5, 10);
  for (const name of created) await admin.create(SECRETS, secret(name));
  for (const name of updated) await admin.patch(SECRETS, namespace, name, { stringData: { value: 'v2' } });
  for (const name of deleted) await admin.delete(SECRETS, namespace, name);
  await compactEtcd(cluster.info);
  recorder.seen.length = 0;
  // The informer must meet the partition (a request refused while it lasts), however fast the
  // writes above were: with pooled connections its next request may come after them.
  await waitUntil(() => Promise.resolve(proxy.events.some((event) => event.rule === 'partition')), (met) => met, {
    what: 'a request of the informer to meet the partition',
    timeoutMs: 30_000,
  });
  proxy.heal();

  const fresh = state((await admin.list<KubernetesObject>(SECRETS, { namespace, labelSelector: `${LABEL}=yes` })).items);
  await waitUntil(() => Promise.resolve(state(informer.list(namespace))), (cached) => cached.join() === fresh.join(), {
    what: 'the cache to equal a fresh LIST',
    timeoutMs: 60_000,
  });
  const changed = [...created, ...updated, ...deleted];
  await waitUntil(() => Promise.resolve(changed.filter((name) => !recorder.seen.includes(name))), (missing) => missing.length === 0, {
    what: 'a reconcile of every changed key',
  });
  expect(informer.stats.relists).toBeGreaterThanOrEqual(1);
  expect(logger.at('info').some((line) => line.startsWith('resourceVersion too old'))).toBe(true);
  expect(proxy.events.some((event) => event.rule === 'partition')).toBe(true);
});

describe('backs off instead of storming the API server', () => {
  async function start(): Promise<void> {
    namespace = await cluster.createNamespace('storm');
    const account = await cluster.serviceAccountWithRole(namespace, 'operator', [
      { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] },
    ]);
    proxy = await FaultProxy.start(cluster.info, { seed: 9 });
    informer = new Informer<KubernetesObject>({
      client: new KubeClient({ access: clusterAccess(proxy.kubeConfig(account.token)), requestTimeoutMs: 5_000 }),
      type: SECRETS,
      namespaces: [namespace],
      logger: new TestLogger(),
      backoffInitialMs: 100,
      backoffMaxMs: 1_000,
    });
    controller = new Controller({ name: 'storm', reconciler: new Recorder(), primary: informer, logger: new TestLogger(), metrics: new PrometheusControllerMetrics(new Registry()).forController('storm', 1) });
    informer.start();
    await informer.waitForSync(30_000);
  }

  // Backoff 100, 200, 400, 800, 1000 ms (jittered down to half): at most about 10 in 3 s; without it, hundreds.
  it.each([
    ['is answered and ended at once', { type: 'cut-watch', afterMs: 100, mode: 'end' }, 'watchStarts'],
    ['answers 410 Gone (each time a relist)', { type: 'status', code: 410, message: 'too old resource version' }, 'relists'],
  ] as const)('when every watch %s', async (_what, action, counter) => {
    await start();
    const before = informer.stats[counter];
    proxy.setRules([{ name: 'storm', match: { path: /\/secrets$/, watch: true }, action }]);
    proxy.cutWatches();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const count = informer.stats[counter] - before;
    expect(count).toBeGreaterThanOrEqual(3);
    expect(count).toBeLessThanOrEqual(12);
    if (counter === 'watchStarts') expect(informer.stats.shortWatches).toBeGreaterThanOrEqual(3);
  });
});
