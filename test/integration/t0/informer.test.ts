/**
 * The informer against a real API server: paginated lists, watches that resume without
 * relisting, indexes, and handlers that see every add, update and delete.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { KubeClient } from '../../../src/runtime/client.ts';
import { Informer, type InformerOptions } from '../../../src/runtime/informer.ts';
import { clusterAccess, connectCluster, type TestCluster } from '../../support/cluster.ts';
import { TestLogger } from '../../support/test-logger.ts';
import { waitUntil } from '../../support/wait.ts';
import { CONFIGMAPS } from '../../support/resource-types.ts';

const LABEL = 'informer.test/member';

let cluster: TestCluster;
let client: KubeClient;
let namespace: string;
const informers: Informer<KubernetesObject>[] = [];

beforeAll(() => {
  cluster = connectCluster('T0');
  client = new KubeClient({ access: clusterAccess(cluster.kubeConfig) });
});

beforeEach(async () => {
  namespace = await cluster.createNamespace('informer');
});

afterEach(async () => {
  await Promise.all(informers.splice(0).map((informer) => informer.stop()));
});

function startInformer(options: Partial<InformerOptions<KubernetesObject>> = {}): Informer<KubernetesObject> {
  const informer = new Informer<KubernetesObject>({
    client,
    type: CONFIGMAPS,
    namespaces: [namespace],
    labelSelector: `${LABEL}=yes`,
    logger: new TestLogger(),
    ...options,
  });
  informers.push(informer);
  informer.start();
  return informer;
}

function configMap(name: string, data: Record<string, string> = {}, labels: Record<string, string> = { [LABEL]: 'yes' }): KubernetesObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels }, data } as KubernetesObject;
}

/** Runs `task` for every item, `width` at a time. */
async function inParallel<T>(items: readonly T[], width: number, task: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await task(items[next++] as T);
    }),
  );
}

/** name -> resourceVersion of what the server holds now (a fresh, consistent LIST). */
async function serverState(): Promise<Map<string, string>> {
  const list = await client.list<KubernetesObject>(CONFIGMAPS, { namespace, labelSelector: `${LABEL}=yes` });
  return new Map(list.items.map((item) => [item.metadata?.name ?? '', item.metadata?.resourceVersion ?? '']));
}

function cacheState(informer: Informer<KubernetesObject>): Map<string, string> {
  return new Map(informer.list(namespace).map((item) => [item.metadata?.name ?? '', item.metadata?.resourceVersion ?? '']));
}

function sameState(a: Map<string, string>, b: Map<string, string>): boolean {
  return a.size === b.size && [...a].every(([name, version]) => b.get(name) === version);
}

it('lists thousands of objects across pages, then follows adds, updates and deletes', async () => {
  const names = Array.from({ length: 1500 }, (_, i) => `cm-${String(i).padStart(4, '0')}`);
  await inParallel(names, 16, (name) => client.create(CONFIGMAPS, configMap(name)));
  await client.create(CONFIGMAPS, configMap('not-a-member', {}, { other: 'label' }));

  const informer = startInformer({ pageSize: 100 });
  const seen = { added: new Set<string>(), updated: new Set<string>(), deleted: new Set<string>() };
  informer.addEventHandler({
    onAdd: (object) => seen.added.add(object.metadata?.name ?? ''),
    onUpdate: (_old, object) => seen.updated.add(object.metadata?.name ?? ''),
    onDelete: (object) => seen.deleted.add(object.metadata?.name ?? ''),
  });
  await informer.waitForSync(60_000);
  expect(informer.list(namespace)).toHaveLength(1500);
  expect(informer.get(namespace, 'not-a-member')).toBeUndefined();
  expect(informer.stats.lists).toBe(1);
  expect(seen.added.size).toBe(1500);
  // Objects are cached as a GET returns them, without managedFields.
  const cached = informer.get(namespace, 'cm-0000');
  expect(cached).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap' });
  expect(cached?.metadata?.managedFields).toBeUndefined();

  const updated = names.slice(0, 200);
  const deleted = names.slice(200, 400);
  const created = Array.from({ length: 200 }, (_, i) => `new-${String(i).padStart(3, '0')}`);
  await Promise.all([
    inParallel(updated, 8, (name) => client.patch(CONFIGMAPS, namespace, name, { data: { changed: 'yes' } })),
    inParallel(deleted, 8, (name) => client.delete(CONFIGMAPS, namespace, name)),
    inParallel(created, 8, (name) => client.create(CONFIGMAPS, configMap(name))),
  ]);
  const expected = await serverState();
  await waitUntil(() => Promise.resolve(cacheState(informer)), (state) => sameState(state, expected), {
    what: 'the cache to equal a fresh LIST',
    timeoutMs: 60_000,
  });
  expect([...seen.deleted].sort()).toEqual(deleted);
  expect(updated.every((name) => seen.updated.has(name))).toBe(true);
  expect(created.every((name) => seen.added.has(name))).toBe(true);
  expect(informer.get(namespace, 'cm-0000')).toMatchObject({ data: { changed: 'yes' } });
  expect(informer.stats.relists).toBe(0);
});

it('resumes a watch the server ended without listing again', async () => {
  await client.create(CONFIGMAPS, configMap('steady'));
  const informer = startInformer({ watchTimeoutSeconds: () => 1 });
  await informer.waitForSync(30_000);
  await waitUntil(() => Promise.resolve(informer.stats), (stats) => stats.watchStarts >= 4, {
    what: 'the informer to resume its watch several times',
    timeoutMs: 30_000,
  });
  // A change after several resumptions still arrives.
  await client.patch(CONFIGMAPS, namespace, 'steady', { data: { after: 'resume' } });
  await waitUntil(() => Promise.resolve(informer.get(namespace, 'steady')), (object) => (object as { data?: Record<string, string> } | undefined)?.data?.after === 'resume', {
    what: 'the change made after the resumptions',
  });
  expect(informer.stats).toMatchObject({ lists: 1, relists: 0, watchFailures: 0 });
  expect(informer.isHealthy()).toBe(true);
});

it('keeps indexes current as objects change', async () => {
  const byTeam = (object: KubernetesObject): string[] => {
    const team = object.metadata?.labels?.team;
    return team === undefined ? [] : [team];
  };
  await client.create(CONFIGMAPS, configMap('a', {}, { [LABEL]: 'yes', team: 'red' }));
  await client.create(CONFIGMAPS, configMap('b', {}, { [LABEL]: 'yes', team: 'red' }));
  await client.create(CONFIGMAPS, configMap('c', {}, { [LABEL]: 'yes', team: 'blue' }));
  const informer = startInformer({ indexes: { team: byTeam } });
  await informer.waitForSync(30_000);
  const members = (team: string): string[] => informer.byIndex('team', team).map((o) => o.metadata?.name ?? '').sort();
  expect(members('red')).toEqual(['a', 'b']);
  expect(members('blue')).toEqual(['c']);

  await client.patch(CONFIGMAPS, namespace, 'b', { metadata: { labels: { team: 'blue' } } });
  await client.delete(CONFIGMAPS, namespace, 'c');
  await waitUntil(() => Promise.resolve([members('red'), members('blue')]), ([red, blue]) => red?.join() === 'a' && blue?.join() === 'b', {
    what: 'the team index to follow the changes',
  });
  expect(() => informer.byIndex('colour', 'x')).toThrow("no index 'colour'");
});

it('watches several namespaces, one list and watch each', async () => {
  const other = await cluster.createNamespace('informer-other');
  await client.create(CONFIGMAPS, configMap('here'));
  await client.create(CONFIGMAPS, { ...configMap('there'), metadata: { name: 'there', namespace: other, labels: { [LABEL]: 'yes' } } });
  const informer = startInformer({ namespaces: [namespace, other] });
  await informer.waitForSync(30_000);
  expect(informer.list().map((o) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`).sort()).toEqual([`${namespace}/here`, `${other}/there`].sort());
  expect(informer.stats.lists).toBe(2);
});
