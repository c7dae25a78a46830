/**
 * The chart in cluster-wide mode (default values, plus the optional FlowSchema; the CRDs owned
 * elsewhere, see chart-operator.ts): `helm install` creates the least-privilege RBAC and a
 * FlowSchema the API server accepts; the Deployment's pod passes Pod Security `restricted`; the
 * operator, run with the chart's command, environment and ServiceAccount, serves its probes and
 * metrics, takes the Lease in the release namespace, and runs the items of groups in any
 * namespace to success and to failure on the KWOK node.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { AppsV1Api, AuthorizationV1Api, CoordinationV1Api, FlowcontrolApiserverV1Api, type V1Deployment, type V1Pod, type V1PodSpec } from '@kubernetes/client-node';
import { apiStatus, connectCluster, loadManifests, POD_SECURITY_RESTRICTED, type TestCluster } from '../support/cluster.ts';
import { REPO_ROOT } from '../support/control-plane.ts';
import { OaatNamespace } from '../support/oaat.ts';
import { waitUntil } from '../support/wait.ts';
import { ChartOperator } from './chart-operator.ts';
import { allowed, runItemsToSuccessAndFailure } from './scenarios.ts';

let cluster: TestCluster;
let chart: ChartOperator;
const namespaces: OaatNamespace[] = [];

beforeAll(async () => {
  cluster = connectCluster('T2');
  chart = await ChartOperator.install(cluster, ['--set', 'flowSchema.enabled=true']);
});

afterAll(async () => {
  const violations = (await Promise.all(namespaces.map((ns) => ns.close()))).flat();
  const exit = await chart.uninstall();
  // A later cluster-wide operator must not find these groups.
  await Promise.all(namespaces.map((ns) => cluster.core.deleteNamespace({ name: ns.name })));
  expect(exit).toEqual({ code: 0, signal: null });
  expect(violations).toEqual([]);
});

it('helm install: cluster-wide RBAC for the ServiceAccount, the Deployment scaled to 0, NOTES with next steps', async () => {
  for (const name of ['oaatgroups.kawaja.net', 'oaattypes.kawaja.net']) {
    const crd = await cluster.apiextensions.readCustomResourceDefinition({ name });
    expect(crd.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');
  }
  expect(chart.manifest.map((o) => o.kind).sort()).toEqual(['ClusterRole', 'ClusterRole', 'ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'ClusterRoleBinding', 'Deployment', 'FlowSchema', 'Role', 'RoleBinding', 'Service', 'ServiceAccount']);
  // API Priority and Fairness took it, and its priority level exists (not Dangling).
  const flowcontrol = cluster.kubeConfig.makeApiClient(FlowcontrolApiserverV1Api);
  const flowSchema = await waitUntil(
    () => flowcontrol.readFlowSchema({ name: chart.object('FlowSchema').metadata.name }),
    (schema) => schema.status?.conditions?.some((c) => c.type === 'Dangling') === true,
    { what: 'the FlowSchema\'s Dangling condition' },
  );
  expect(flowSchema.status?.conditions?.find((c) => c.type === 'Dangling')?.status).toBe('False');
  expect(flowSchema.spec?.priorityLevelConfiguration.name).toBe('workload-high');
  expect(chart.chartEnv).toMatchObject({ OAAT_WATCH_NAMESPACES: '', OAAT_LEADER_ELECT: 'true', OAAT_LEASE_NAMESPACE: chart.namespace, OAAT_HTTP_ADDRESS: ':8080', OAAT_SHUTDOWN_TIMEOUT: '25s' });
  const deployment = await cluster.kubeConfig.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: chart.object('Deployment').metadata.name, namespace: chart.namespace });
  expect(deployment.spec?.replicas).toBe(0);
  expect(chart.installOutput).toContain('kubectl get og');
  expect(chart.installOutput).toContain('this release does not install them (crds.enabled=false)');
  const authorization = cluster.kubeConfig.makeApiClient(AuthorizationV1Api);
  expect(await allowed(authorization, chart, { verb: 'create', resource: 'pods', namespace: 'anywhere' })).toBe(true);
  expect(await allowed(authorization, chart, { verb: 'list', resource: 'oaatgroups', group: 'kawaja.net' })).toBe(true);
  // Least privilege: nothing the operator does not do.
  expect(await allowed(authorization, chart, { verb: 'get', resource: 'customresourcedefinitions', group: 'apiextensions.k8s.io', name: 'oaatgroups.kawaja.net' })).toBe(true);
  expect(await allowed(authorization, chart, { verb: 'get', resource: 'customresourcedefinitions', group: 'apiextensions.k8s.io', name: 'other.example.com' })).toBe(false);
  expect(await allowed(authorization, chart, { verb: 'update', resource: 'oaatgroups', group: 'kawaja.net', namespace: 'anywhere' })).toBe(false);
  expect(await allowed(authorization, chart, { verb: 'delete', resource: 'oaatgroups', group: 'kawaja.net', namespace: 'anywhere' })).toBe(false);
  expect(await allowed(authorization, chart, { verb: 'list', resource: 'secrets' })).toBe(false);
  expect(await allowed(authorization, chart, { verb: 'create', resource: 'leases', group: 'coordination.k8s.io', namespace: 'anywhere' })).toBe(false);
});

it('people with view in a namespace may read OaatGroups and OaatTypes there; with edit also write them', async () => {
  const namespace = await cluster.createNamespace('e2e-people');
  try {
    for (const [user, role] of [['viewer', 'view'], ['editor', 'edit']] as const) {
      await cluster.rbac.createNamespacedRoleBinding({
        namespace,
        body: {
          metadata: { name: user },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
          subjects: [{ kind: 'User', name: user, apiGroup: 'rbac.authorization.k8s.io' }],
        },
      });
    }
    const authorization = cluster.kubeConfig.makeApiClient(AuthorizationV1Api);
    const may = async (user: string, verb: string, resource: string): Promise<boolean> =>
      (await authorization.createSubjectAccessReview({ body: { spec: { user, resourceAttributes: { verb, resource, group: 'kawaja.net', namespace } } } })).status?.allowed === true;
    // kube-controller-manager aggregates the chart's roles into view and edit shortly after the install.
    await waitUntil(() => may('editor', 'create', 'oaatgroups'), (ok) => ok, { what: 'edit to aggregate the chart\'s rules' });
    await waitUntil(() => may('viewer', 'list', 'oaatgroups'), (ok) => ok, { what: 'view to aggregate the chart\'s rules' });
    expect(await may('editor', 'create', 'oaattypes')).toBe(true);
    expect(await may('editor', 'delete', 'oaatgroups')).toBe(true);
    expect(await may('viewer', 'get', 'oaattypes')).toBe(true);
    expect(await may('viewer', 'create', 'oaatgroups')).toBe(false);
    expect(await may('viewer', 'patch', 'oaattypes')).toBe(false);
  } finally {
    await cluster.core.deleteNamespace({ name: namespace });
  }
});

it('the Deployment\'s pod passes Pod Security `restricted` in the release namespace (and one without its security context does not)', async () => {
  const template = (chart.object('Deployment') as unknown as V1Deployment).spec?.template;
  if (template?.spec === undefined) throw new Error('the chart Deployment has no pod template');
  const pod = (spec: V1PodSpec): V1Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'operator-pod-security', labels: template.metadata?.labels ?? {} }, spec });
  const created = await cluster.core.createNamespacedPod({ namespace: chart.namespace, body: pod(template.spec), dryRun: 'All' });
  expect(created.spec?.securityContext).toEqual(template.spec.securityContext);
  expect(created.spec?.securityContext?.runAsUser).toBeUndefined();
  // Pod Security admission is on and enforcing here: the same pod without its security contexts is refused.
  const unconfined = structuredClone(template.spec);
  delete unconfined.securityContext;
  for (const container of unconfined.containers) delete container.securityContext;
  const refused = await cluster.core.createNamespacedPod({ namespace: chart.namespace, body: pod(unconfined), dryRun: 'All' }).then(() => undefined, (error: unknown) => error);
  expect(apiStatus(refused)).toBe(403);
  expect((JSON.parse(String((refused as { body?: unknown }).body)) as { message?: string }).message).toContain('violates PodSecurity "restricted:latest"');
});

it('make crds-upgrade applies config/crd/ over the CRDs in place', () => {
  const out = execFileSync('make', ['--no-print-directory', 'crds-upgrade'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    // Not a socket on stdin (Node's default pipe): bash then reads /etc/bash.bashrc, as for a remote shell.
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KUBECONFIG: cluster.info.kubeconfig, PATH: `${cluster.info.binDir}:${process.env.PATH ?? ''}` },
  });
  expect(out).toContain('customresourcedefinition.apiextensions.k8s.io/oaatgroups.kawaja.net serverside-applied');
  expect(out).toContain('customresourcedefinition.apiextensions.k8s.io/oaattypes.kawaja.net serverside-applied');
});

it('the operator runs with the chart ServiceAccount: /healthz, /readyz and /metrics answer, and it holds the Lease in the release namespace', async () => {
  await chart.start();
  await chart.logged('serving probes and metrics');
  expect(await chart.http('/healthz')).toEqual({ status: 200, text: 'ok\n' });
  await chart.ready();
  const lease = await waitUntil(
    () => cluster.kubeConfig.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: chart.chartEnv.OAAT_LEASE_NAME ?? '', namespace: chart.namespace }),
    (l) => (l.spec?.holderIdentity ?? '') !== '',
    { what: 'the chart Lease to be held', timeoutMs: 30_000 },
  );
  expect(lease.metadata?.namespace).toBe(chart.namespace);
  await chart.logged('became leader');
  const metrics = await chart.http('/metrics');
  expect(metrics.status).toBe(200);
  expect(metrics.text).toMatch(/^leader_election_master_status\{[^}]*\} 1$/m);
});

it('the samples run in a namespace that enforces Pod Security `restricted`: their item pod is admitted', async () => {
  const namespace = await cluster.createNamespace('e2e-samples', POD_SECURITY_RESTRICTED);
  try {
    for (const file of ['oaattype.yaml', 'oaatgroup.yaml']) await cluster.apply(loadManifests({ file: path.join(REPO_ROOT, 'config', 'samples', file) }), namespace);
    const pods = await waitUntil(() => cluster.core.listNamespacedPod({ namespace }), (list) => list.items.length > 0, { what: 'the sample group\'s first item pod' });
    expect(pods.items[0]?.spec?.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
  } finally {
    await cluster.core.deleteNamespace({ name: namespace });
  }
});

it('runs items to success and to failure in groups of two unrelated namespaces', async () => {
  const first = await OaatNamespace.create(cluster, 'e2e-wide', POD_SECURITY_RESTRICTED);
  const second = await OaatNamespace.create(cluster, 'e2e-wide', POD_SECURITY_RESTRICTED);
  namespaces.push(first, second);
  await Promise.all([runItemsToSuccessAndFailure(first, 'first'), runItemsToSuccessAndFailure(second, 'second')]);
  expect(chart.output()).not.toMatch(/forbidden: User .* cannot/);
  // Each group ran one item to success and one to failure (a cluster-wide operator may also
  // have closed runs of groups other test files left behind).
  const metrics = (await chart.http('/metrics')).text;
  const closed = (outcome: string): number => Number(new RegExp(`^oaat_runs_closed_total\\{outcome="${outcome}"\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? 0);
  expect(closed('Succeeded')).toBeGreaterThanOrEqual(2);
  expect(closed('Failed')).toBeGreaterThanOrEqual(2);
  // Each of those four runs' pods was seen ending in the watch: how long the close took is timed.
  expect(Number(/^oaat_run_close_delay_seconds_count (\d+)$/m.exec(metrics)?.[1] ?? 0)).toBeGreaterThanOrEqual(4);
});
