/**
 * RBAC that lacks a verb the operator needs: with `create` removed from the pods rule of the
 * chart's ClusterRole, the operator cannot start an item. What it reports (observed, asserted
 * here): the API server's 403 text, naming the ServiceAccount, the verb, the resource and the
 * namespace, is the closed run's `status.items.<item>.last_run.reason` (outcome `CreateFailed`);
 * a Warning Event `RunCreateFailed` and the log line `closed a run` carry the same text. No pod exists, the operator stays up, and once the verb is back
 * the item runs without a restart.
 */
import { AuthorizationV1Api, type V1PolicyRule } from '@kubernetes/client-node';
import { connectCluster, POD_SECURITY_RESTRICTED, type TestCluster } from '../support/cluster.ts';
import { OaatNamespace } from '../support/oaat.ts';
import { waitUntil } from '../support/wait.ts';
import { ChartOperator } from './chart-operator.ts';
import { allowed, eventsAbout } from './scenarios.ts';

let cluster: TestCluster;
let chart: ChartOperator;
let ns: OaatNamespace;

beforeAll(async () => {
  cluster = connectCluster('T2');
  chart = await ChartOperator.install(cluster);
  ns = await OaatNamespace.create(cluster, 'e2e-noverb', POD_SECURITY_RESTRICTED);
});

afterAll(async () => {
  const violations = await ns.close();
  await chart.uninstall();
  await cluster.core.deleteNamespace({ name: ns.name });
  expect(violations).toEqual([]);
});

it('without pods/create the operator reports the 403 in its log, the group status and a Warning Event', async () => {
  const name = chart.release; // the operator ClusterRole (the other one is `<release>-crd-check`)
  const role = await cluster.rbac.readClusterRole({ name });
  const original: V1PolicyRule[] = structuredClone(role.rules ?? []);
  role.rules = structuredClone(original);
  for (const rule of role.rules) if (rule.resources?.includes('pods') === true) rule.verbs = rule.verbs.filter((verb) => verb !== 'create');
  expect(JSON.stringify(role.rules)).not.toEqual(JSON.stringify(original));
  await cluster.rbac.replaceClusterRole({ name, body: role });
  const authorization = cluster.kubeConfig.makeApiClient(AuthorizationV1Api);
  await waitUntil(() => allowed(authorization, chart, { verb: 'create', resource: 'pods', namespace: ns.name }), (yes) => !yes, {
    what: 'RBAC to deny pods/create',
    timeoutMs: 10_000,
  });

  await chart.start();
  await chart.ready();
  await ns.group('denied', ['only']);
  const forbidden = `pods is forbidden: User "${chart.user}" cannot create resource "pods" in API group "" in the namespace "${ns.name}"`;
  const group = await ns.waitForGroup('denied', (g) => g.status?.items?.only?.last_run !== undefined, 'the run to be closed');
  expect(group.status?.items?.only?.last_run).toMatchObject({ outcome: 'CreateFailed' });
  expect(group.status?.items?.only?.last_run?.reason).toContain(`403 Forbidden ${forbidden}`);
  const closed = await chart.logged(new RegExp(`"message":"closed a run","name":"denied","namespace":"${ns.name}"`));
  expect(closed).toMatchObject({ level: 'info', outcome: 'CreateFailed', namespace: ns.name, name: 'denied', reason: expect.stringContaining('cannot create resource "pods"') as unknown });
  const events = await waitUntil(() => eventsAbout(ns, 'denied'), (list) => list.some((e) => e.reason === 'RunCreateFailed'), {
    what: 'a RunCreateFailed Event',
    timeoutMs: 15_000,
  });
  expect(events.find((e) => e.reason === 'RunCreateFailed')).toMatchObject({ type: 'Warning', message: expect.stringContaining('cannot create resource "pods"') as unknown });
  expect(await ns.pods()).toEqual([]);
  expect(await chart.http('/healthz')).toMatchObject({ status: 200 });

  // The verb back: the retried item starts, no restart needed.
  const current = await cluster.rbac.readClusterRole({ name });
  current.rules = original;
  await cluster.rbac.replaceClusterRole({ name, body: current });
  const pod = await ns.runningPod('denied');
  await ns.end(pod, { outcome: 'succeed' });
  await ns.waitForGroup('denied', (g) => g.status?.items?.only?.last_run?.outcome === 'Succeeded', 'the item to succeed once allowed');
});
