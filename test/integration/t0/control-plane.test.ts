/**
 * T0 smoke tests: the control plane is a real etcd + kube-apiserver of the pinned versions,
 * serving custom resources with watches and a status subresource, enforcing RBAC, and letting
 * the harness drive pod phases the way a kubelet would.
 */
import { CoreV1Api, PatchStrategy, setHeaderOptions, VersionApi, type KubernetesObject } from '@kubernetes/client-node';
import { apiStatus, connectCluster, type TestCluster } from '../../support/cluster.ts';
import { exitCodeOf, setPodPhase, unmanagedPod } from '../../support/pods.ts';
import { toolVersions } from '../../support/versions.ts';
import { waitUntil } from '../../support/wait.ts';
import { RecordingWatch } from '../../support/watch.ts';

const GROUP = 'smoke.oaat.test';
const widgetCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `widgets.${GROUP}` },
  spec: {
    group: GROUP,
    names: { kind: 'Widget', plural: 'widgets', singular: 'widget', listKind: 'WidgetList' },
    scope: 'Namespaced',
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', properties: { size: { type: 'integer', minimum: 1 } }, required: ['size'] },
              status: { type: 'object', properties: { seen: { type: 'integer' } } },
            },
          },
        },
      },
    ],
  },
};

interface Widget extends KubernetesObject {
  spec: { size: number };
  status?: { seen?: number };
}

let cluster: TestCluster;
let namespace: string;

beforeAll(async () => {
  cluster = connectCluster('T0');
  await cluster.installCrd(widgetCrd);
});

beforeEach(async () => {
  namespace = await cluster.createNamespace('t0-smoke');
});

it('reports the pinned Kubernetes and etcd versions', async () => {
  const versions = toolVersions();
  const [major, minor] = versions.kubernetes.split('.');
  const info = await cluster.kubeConfig.makeApiClient(VersionApi).getCode();
  expect(info).toMatchObject({ gitVersion: `v${versions.kubernetes}`, major, minor });
  const etcd = (await (await fetch(`${cluster.info.etcd}/version`)).json()) as { etcdserver: string };
  expect(etcd.etcdserver).toBe(versions.etcd);
});

it('serves a custom resource: create, watch, and a status write through /status', async () => {
  const created = (await cluster.custom.createNamespacedCustomObject({
    group: GROUP,
    version: 'v1',
    namespace,
    plural: 'widgets',
    body: { apiVersion: `${GROUP}/v1`, kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 3 }, status: { seen: 99 } },
  })) as Widget;
  // The status subresource makes the main endpoint ignore status.
  expect(created.status).toBeUndefined();
  const watch = await RecordingWatch.start(
    cluster.kubeConfig,
    `/apis/${GROUP}/v1/namespaces/${namespace}/widgets`,
    created.metadata?.resourceVersion,
  );
  // A merge patch of /status that holds only if the object still has `resourceVersion`.
  const patchStatus = async (resourceVersion: string | undefined, seen: number): Promise<Widget> =>
    (await cluster.custom.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: 'v1', namespace, plural: 'widgets', name: 'w1', body: { metadata: { resourceVersion }, status: { seen } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as Widget;
  try {
    const patched = await patchStatus(created.metadata?.resourceVersion, 1);
    expect(patched.status).toEqual({ seen: 1 });
    expect(patched.metadata?.generation).toBe(created.metadata?.generation);

    const event = await watch.next(
      (e) => e.type === 'MODIFIED' && (e.object as Widget).status?.seen === 1,
      'the status write on the watch',
    );
    expect(event.object.metadata?.resourceVersion).toBe(patched.metadata?.resourceVersion);

    // A status write computed from a stale read is refused (the run protocol relies on this).
    const stale = patchStatus(created.metadata?.resourceVersion, 2);
    await expect(stale.catch((error: unknown) => apiStatus(error))).resolves.toBe(409);
  } finally {
    watch.stop();
  }
});

it('rejects a custom object that breaks the schema', async () => {
  const invalid = cluster.custom.createNamespacedCustomObject({
    group: GROUP,
    version: 'v1',
    namespace,
    plural: 'widgets',
    body: { apiVersion: `${GROUP}/v1`, kind: 'Widget', metadata: { name: 'bad' }, spec: { size: 0 } },
  });
  await expect(invalid).rejects.toMatchObject({ code: 422, body: expect.stringContaining('spec.size') as unknown });
});

it('enforces RBAC: a ServiceAccount token is refused until a Role grants the verb', async () => {
  const asSa = (await cluster.serviceAccountKubeConfig(namespace, 'reader')).makeApiClient(CoreV1Api);
  await expect(asSa.listNamespacedPod({ namespace }).catch((error: unknown) => apiStatus(error))).resolves.toBe(403);

  await cluster.rbac.createNamespacedRole({
    namespace,
    body: { metadata: { name: 'pod-reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }] },
  });
  await cluster.rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: 'reader-reads-pods' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace }],
    },
  });
  const pods = await waitUntil(
    () => asSa.listNamespacedPod({ namespace }),
    () => true,
    { what: 'the RoleBinding to take effect', timeoutMs: 10_000 },
  );
  expect(pods.items).toEqual([]);
  // Granted in this namespace only.
  await expect(asSa.listNamespacedPod({ namespace: 'default' }).catch((error: unknown) => apiStatus(error))).resolves.toBe(403);
  // And an unknown token is not authenticated at all.
  const stranger = cluster.kubeConfigWithToken('not-a-token').makeApiClient(CoreV1Api);
  await expect(stranger.listNamespacedPod({ namespace }).catch((error: unknown) => apiStatus(error))).resolves.toBe(401);
});

it('lets the harness drive a pod through its phases as a kubelet would', async () => {
  await cluster.core.createNamespacedPod({ namespace, body: unmanagedPod({ name: 'p1' }) });
  const running = await setPodPhase(cluster.core, namespace, 'p1', 'Running');
  expect(running.status?.phase).toBe('Running');
  const failed = await setPodPhase(cluster.core, namespace, 'p1', 'Failed', 3);
  expect(failed.status?.phase).toBe('Failed');
  expect(exitCodeOf(failed)).toBe(3);
  expect((await cluster.core.readNamespacedPod({ namespace, name: 'p1' })).status?.phase).toBe('Failed');
  // A terminal pod is removed at once on delete: nothing has to confirm it.
  await cluster.core.deleteNamespacedPod({ namespace, name: 'p1' });
  await expect(cluster.core.readNamespacedPod({ namespace, name: 'p1' }).catch((error: unknown) => apiStatus(error))).resolves.toBe(404);
});
