/**
 * The controller on a real informer: every object is reconciled, one key never concurrently,
 * events collapse, secondary objects wake their primary, and each reconcile outcome (success,
 * requeueAfter, error, terminal error, conflict) leads to what the Reconciler contract says.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubernetesObject } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { ApiError, ConflictError } from '../../../src/runtime/api-error.ts';
import { KubeClient, type ResourceType } from '../../../src/runtime/client.ts';
import { PrometheusControllerMetrics } from '../../../src/runtime/controller-metrics.ts';
import { Controller } from '../../../src/runtime/controller.ts';
import { Informer } from '../../../src/runtime/informer.ts';
import { ExponentialFailureRateLimiter } from '../../../src/runtime/rate-limiter.ts';
import { TerminalError, type Reconciler, type Request, type Result } from '../../../src/runtime/reconciler.ts';
import { clusterAccess, connectCluster, type TestCluster } from '../../support/cluster.ts';
import { TestLogger } from '../../support/test-logger.ts';
import { waitUntil } from '../../support/wait.ts';
import { CONFIGMAPS } from '../../support/resource-types.ts';

const SECRETS: ResourceType = { apiVersion: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true };
/** Only objects the test made (a T2 plane adds ConfigMap kube-root-ca.crt to every namespace). */
const MEMBER = 'controller.test/member';

let cluster: TestCluster;
let client: KubeClient;
let namespace: string;
let running: { informers: Informer<KubernetesObject>[]; controller?: Controller | undefined };
let logger: TestLogger;
let registry: Registry;

/** Records every reconcile; what each one does is up to the test. */
class RecordingReconciler implements Reconciler {
  readonly calls: string[] = [];
  readonly inFlight = new Set<string>();
  overlaps = 0;
  constructor(private readonly behaviour: (request: Request, call: number) => Promise<Result>) {}

  async reconcile(request: Request): Promise<Result> {
    const key = `${request.namespace}/${request.name}`;
    if (this.inFlight.has(key)) this.overlaps++;
    this.inFlight.add(key);
    this.calls.push(key);
    try {
      return await this.behaviour(request, this.calls.filter((k) => k === key).length);
    } finally {
      this.inFlight.delete(key);
    }
  }

  count(name: string): number {
    return this.calls.filter((key) => key === `${namespace}/${name}`).length;
  }
}

beforeAll(() => {
  cluster = connectCluster('T0');
  client = new KubeClient({ access: clusterAccess(cluster.kubeConfig) });
});

beforeEach(async () => {
  namespace = await cluster.createNamespace('controller');
  running = { informers: [] };
  logger = new TestLogger();
  registry = new Registry();
});

afterEach(async () => {
  await running.controller?.stop();
  await Promise.all(running.informers.map((informer) => informer.stop()));
});

function informerFor(type: ResourceType): Informer<KubernetesObject> {
  const informer = new Informer<KubernetesObject>({ client, type, namespaces: [namespace], labelSelector: `${MEMBER}=yes`, logger });
  running.informers.push(informer);
  informer.start();
  return informer;
}

async function startController(reconciler: Reconciler, options: { secondary?: Informer<KubernetesObject>; workers?: number } = {}): Promise<void> {
  const primary = informerFor(CONFIGMAPS);
  await Promise.all(running.informers.map((informer) => informer.waitForSync(30_000)));
  const controller = new Controller({
    name: 'test',
    reconciler,
    primary,
    ...(options.secondary && {
      secondaries: [
        {
          informer: options.secondary,
          // A Secret wakes the ConfigMap named in its `owner` label.
          map: (object: KubernetesObject) => {
            const owner = object.metadata?.labels?.owner;
            return owner === undefined ? [] : [{ namespace: object.metadata?.namespace ?? '', name: owner }];
          },
        },
      ],
    }),
    workers: options.workers ?? 4,
    rateLimiter: new ExponentialFailureRateLimiter<string>({ baseMs: 50, capMs: 400 }),
    logger,
    metrics: new PrometheusControllerMetrics(registry).forController('test', options.workers ?? 4),
  });
  running.controller = controller;
  controller.start();
}

function create(type: ResourceType, name: string, labels: Record<string, string> = {}): Promise<KubernetesObject> {
  return client.create(type, { apiVersion: 'v1', kind: type.kind, metadata: { name, namespace, labels: { ...labels, [MEMBER]: 'yes' } } });
}

async function metric(name: string, labels: string): Promise<number> {
  const text = await registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return Number(line?.split(' ').pop() ?? Number.NaN);
}

it('reconciles every object, never one key twice at once, and collapses bursts of events', async () => {
  for (let i = 0; i < 20; i++) await create(CONFIGMAPS, `cm-${String(i)}`);
  const reconciler = new RecordingReconciler(async () => {
    await sleep(300);
    return {};
  });
  await startController(reconciler, { workers: 4 });
  await waitUntil(() => Promise.resolve(new Set(reconciler.calls).size), (n) => n === 20, { what: 'all 20 objects reconciled' });

  // 10 updates to one object while it is being reconciled: at most one more reconcile each time it is busy.
  const before = reconciler.count('cm-0');
  for (let i = 0; i < 10; i++) await client.patch(CONFIGMAPS, namespace, 'cm-0', { data: { n: String(i) } });
  await waitUntil(() => Promise.resolve(reconciler.inFlight.size), (n) => n === 0, { what: 'the controller to go idle' });
  await sleep(500);
  const extra = reconciler.count('cm-0') - before;
  expect(extra).toBeGreaterThanOrEqual(1);
  expect(extra).toBeLessThan(10);
  expect(reconciler.overlaps).toBe(0);
  expect(await metric('controller_runtime_reconcile_total', 'result="success"')).toBe(reconciler.calls.length);
});

it('gives each reconcile a logger with the controller, the object and a reconcile id in every line', async () => {
  await create(CONFIGMAPS, 'logged');
  await startController({
    reconcile: (_request, { log }) => {
      log.info('looked at it');
      return Promise.resolve({});
    },
  });
  await waitUntil(() => Promise.resolve(logger.lines.filter((line) => line.message === 'looked at it')), (lines) => lines.length === 1, {
    what: 'the reconcile to log',
  });
  expect(logger.lines.find((line) => line.message === 'looked at it')?.meta).toEqual({
    controller: 'test',
    namespace,
    name: 'logged',
    reconcileID: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown,
  });
});

it('wakes the primary object when a mapped secondary object changes', async () => {
  await create(CONFIGMAPS, 'owner');
  const reconciler = new RecordingReconciler(() => Promise.resolve({}));
  await startController(reconciler, { secondary: informerFor(SECRETS) });
  await waitUntil(() => Promise.resolve(reconciler.count('owner')), (n) => n === 1, { what: 'the first reconcile' });
  await create(SECRETS, 'child', { owner: 'owner' });
  await waitUntil(() => Promise.resolve(reconciler.count('owner')), (n) => n === 2, { what: 'a reconcile caused by the secret' });
  await client.delete(SECRETS, namespace, 'child');
  await waitUntil(() => Promise.resolve(reconciler.count('owner')), (n) => n === 3, { what: 'a reconcile caused by the deletion' });
});

it('requeues after the requested delay', async () => {
  await create(CONFIGMAPS, 'periodic');
  const reconciler = new RecordingReconciler(() => Promise.resolve({ requeueAfter: 200 }));
  await startController(reconciler);
  await waitUntil(() => Promise.resolve(reconciler.count('periodic')), (n) => n >= 4, { what: 'four reconciles 200 ms apart' });
  expect(await metric('controller_runtime_reconcile_total', 'result="requeue_after"')).toBeGreaterThanOrEqual(4);
});

it('retries errors with backoff until success, logging them', async () => {
  await create(CONFIGMAPS, 'flaky');
  const reconciler = new RecordingReconciler((_request, call) => (call < 4 ? Promise.reject(new Error(`attempt ${String(call)} failed`)) : Promise.resolve({})));
  await startController(reconciler);
  await waitUntil(() => Promise.resolve(reconciler.count('flaky')), (n) => n === 4, { what: 'three failures, then success' });
  await sleep(1_000);
  expect(reconciler.count('flaky')).toBe(4);
  expect(await metric('controller_runtime_reconcile_errors_total', 'controller="test"')).toBe(3);
  expect(logger.at('error').filter((line) => line.includes('retrying with backoff'))).toHaveLength(3);
  expect(logger.at('error')[0]).toContain(`"namespace":"${namespace}","name":"flaky"`);
});

it('does not retry a terminal error until the object changes', async () => {
  await create(CONFIGMAPS, 'broken');
  const reconciler = new RecordingReconciler(() => Promise.reject(new TerminalError('spec is invalid')));
  await startController(reconciler);
  await waitUntil(() => Promise.resolve(reconciler.count('broken')), (n) => n === 1, { what: 'the first reconcile' });
  await sleep(1_500);
  expect(reconciler.count('broken')).toBe(1);
  expect(await metric('controller_runtime_terminal_reconcile_errors_total', 'controller="test"')).toBe(1);
  await client.patch(CONFIGMAPS, namespace, 'broken', { data: { fixed: 'yes' } });
  await waitUntil(() => Promise.resolve(reconciler.count('broken')), (n) => n === 2, { what: 'a reconcile after the change' });
});

it('requeues a conflict quietly, without an error log or error count', async () => {
  await create(CONFIGMAPS, 'contended');
  const conflict = new ConflictError('the object has been modified', 409, 'Conflict');
  const reconciler = new RecordingReconciler((_request, call) => (call < 3 ? Promise.reject(conflict) : Promise.resolve({})));
  await startController(reconciler);
  await waitUntil(() => Promise.resolve(reconciler.count('contended')), (n) => n === 3, { what: 'two conflicts, then success' });
  expect(logger.at('error')).toEqual([]);
  expect(await metric('controller_runtime_reconcile_errors_total', 'controller="test"')).toBe(0);
  expect(await metric('controller_runtime_reconcile_total', 'result="requeue"')).toBe(2);
  // Any other API error is an error.
  expect(new ApiError('x', 409, 'AlreadyExists')).not.toBeInstanceOf(ConflictError);
});

it('finishes the reconciles in flight when stopped, and starts no new ones', async () => {
  await create(CONFIGMAPS, 'slow');
  let finished = false;
  const reconciler = new RecordingReconciler(async () => {
    await sleep(1_000);
    finished = true;
    return { requeueAfter: 10 };
  });
  await startController(reconciler);
  await waitUntil(() => Promise.resolve(reconciler.inFlight.size), (n) => n === 1, { what: 'the reconcile to start' });
  await running.controller?.stop();
  expect(finished).toBe(true);
  const calls = reconciler.calls.length;
  await sleep(300);
  expect(reconciler.calls.length).toBe(calls);
  running.controller = undefined;
});
