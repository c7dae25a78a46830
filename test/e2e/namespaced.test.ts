/**
 * The chart in namespaced mode (`watchNamespaces`): RBAC only in the watched namespaces (cluster-
 * wide only a read of the two CRDs by name), the operator told to watch exactly those, running items to success and failure
 * in each (namespaces enforcing Pod Security `restricted`); a group in a namespace it does not
 * watch is never touched.
 */
import { AuthorizationV1Api } from '@kubernetes/client-node';
import { connectCluster, POD_SECURITY_RESTRICTED, type TestCluster } from '../support/cluster.ts';
import { installOaatCrds, OaatNamespace } from '../support/oaat.ts';
import { ChartOperator } from './chart-operator.ts';
import { allowed, runItemsToSuccessAndFailure } from './scenarios.ts';

let cluster: TestCluster;
let chart: ChartOperator;
let watched: OaatNamespace[];
let outside: OaatNamespace;

beforeAll(async () => {
  cluster = connectCluster('T2');
  // The namespaces (with an OaatType each) must exist before the install, which creates Roles
  // in them; the CRDs (which no e2e release owns: see chart-operator.ts) before them.
  await installOaatCrds(cluster);
  watched = [await OaatNamespace.create(cluster, 'e2e-team-a', POD_SECURITY_RESTRICTED), await OaatNamespace.create(cluster, 'e2e-team-b', POD_SECURITY_RESTRICTED)];
  outside = await OaatNamespace.create(cluster, 'e2e-outside', POD_SECURITY_RESTRICTED);
  chart = await ChartOperator.install(cluster, ['--set', `watchNamespaces={${watched.map((ns) => ns.name).join(',')}}`]);
});

afterAll(async () => {
  const violations = (await Promise.all([...watched, outside].map((ns) => ns.close()))).flat();
  const exit = await chart.uninstall();
  await Promise.all([...watched, outside].map((ns) => cluster.core.deleteNamespace({ name: ns.name })));
  expect(exit).toEqual({ code: 0, signal: null });
  expect(violations).toEqual([]);
});

it('grants the operator rules in the watched namespaces only, and the Lease in the release namespace', async () => {
  // Cluster-wide, for the operator only the start-up check's read of the two CRDs (bound); the
  // roles for people are aggregated into view and edit, which grant only where someone binds them.
  expect(chart.manifest.filter((o) => o.kind === 'ClusterRole').map((o) => o.metadata.name).sort()).toEqual(
    [`${chart.release}-crd-check`, `${chart.release}-edit`, `${chart.release}-view`],
  );
  expect(chart.manifest.filter((o) => o.kind === 'ClusterRoleBinding').map((o) => (o.roleRef as { name: string }).name)).toEqual([`${chart.release}-crd-check`]);
  expect(chart.chartEnv.OAAT_WATCH_NAMESPACES).toBe(watched.map((ns) => ns.name).join(','));
  expect(chart.chartEnv.OAAT_LEASE_NAMESPACE).toBe(chart.namespace);
  const authorization = cluster.kubeConfig.makeApiClient(AuthorizationV1Api);
  const can = (what: Parameters<typeof allowed>[2]) => allowed(authorization, chart, what);
  for (const ns of watched) {
    expect(await can({ verb: 'create', resource: 'pods', namespace: ns.name })).toBe(true);
    expect(await can({ verb: 'watch', resource: 'oaatgroups', group: 'kawaja.net', namespace: ns.name })).toBe(true);
    expect(await can({ verb: 'update', resource: 'oaatgroups', group: 'kawaja.net', namespace: ns.name, name: 'x' })).toBe(false);
  }
  expect(await can({ verb: 'create', resource: 'pods', namespace: outside.name })).toBe(false);
  expect(await can({ verb: 'list', resource: 'pods' })).toBe(false);
  expect(await can({ verb: 'list', resource: 'oaatgroups', group: 'kawaja.net' })).toBe(false);
  expect(await can({ verb: 'list', resource: 'customresourcedefinitions', group: 'apiextensions.k8s.io' })).toBe(false);
  expect(await can({ verb: 'update', resource: 'leases', group: 'coordination.k8s.io', namespace: chart.namespace, name: chart.chartEnv.OAAT_LEASE_NAME ?? '' })).toBe(true);
  expect(await can({ verb: 'update', resource: 'leases', group: 'coordination.k8s.io', namespace: chart.namespace, name: 'someone-else' })).toBe(false);
});

it('runs items to success and failure in each watched namespace and leaves the others alone', async () => {
  await outside.group('ignored', ['x']);
  await chart.start();
  await chart.ready();
  expect(await chart.http('/healthz')).toMatchObject({ status: 200 });
  await chart.logged('became leader');
  expect((await chart.http('/metrics')).text).toMatch(/^leader_election_master_status\{[^}]*\} 1$/m);
  await Promise.all(watched.map((ns, i) => runItemsToSuccessAndFailure(ns, `group-${String(i)}`)));
  expect((await outside.readGroup('ignored')).status).toBeUndefined();
  expect(await outside.pods()).toEqual([]);
  expect(chart.output()).not.toMatch(/forbidden: User .* cannot/);
});
