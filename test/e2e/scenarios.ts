/** Scenarios and checks the e2e suites share. */
import type { AuthorizationV1Api, CoreV1Event } from '@kubernetes/client-node';
import type { OaatNamespace } from '../support/oaat.ts';
import { waitUntil } from '../support/wait.ts';
import type { ChartOperator } from './chart-operator.ts';

/** Whether RBAC lets the chart's ServiceAccount do `verb` on `resource` (cluster-wide when no namespace). */
export async function allowed(
  authorization: AuthorizationV1Api,
  chart: ChartOperator,
  what: { verb: string; resource: string; group?: string; namespace?: string; name?: string },
): Promise<boolean> {
  const review = await authorization.createSubjectAccessReview({
    body: {
      spec: {
        user: chart.user,
        groups: ['system:serviceaccounts', `system:serviceaccounts:${chart.namespace}`, 'system:authenticated'],
        resourceAttributes: { verb: what.verb, resource: what.resource, group: what.group ?? '', namespace: what.namespace ?? '', name: what.name ?? '' },
      },
    },
  });
  return review.status?.allowed === true;
}

/** The Events about object `name` in the namespace, oldest first. */
export async function eventsAbout(ns: OaatNamespace, name: string): Promise<CoreV1Event[]> {
  return (await ns.cluster.core.listNamespacedEvent({ namespace: ns.name, fieldSelector: `involvedObject.name=${name}` })).items;
}

/**
 * A group of two items in `ns`, `ok` listed in the spec and `bad` in a labelled ConfigMap (so
 * the chart's RBAC must let the operator watch ConfigMaps): whichever item runs, `ok` is made to
 * succeed and `bad` to fail with exit code 3 (on the KWOK node), one at a time; both results end
 * up in the group status and as Events, and nothing runs afterwards.
 */
export async function runItemsToSuccessAndFailure(ns: OaatNamespace, group: string): Promise<void> {
  const source = `${group}-items`;
  await ns.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: source, labels: { 'oaat.kawaja.net/items': 'true' } }, data: { list: 'bad\n' } });
  await ns.group(group, ['ok'], { failureCoolOff: '1h', oaatItemsFrom: [{ configMapKeyRef: { name: source, key: 'list' } }] });
  for (let round = 0; round < 2; round++) {
    const pod = await ns.runningPod(group);
    expect(await ns.livePods()).toHaveLength(1);
    const item = (await ns.readGroup(group)).status?.currentRun?.item;
    await ns.end(pod, item === 'ok' ? { outcome: 'succeed' } : { outcome: 'fail', exitCode: 3 });
    await ns.waitForGroup(group, (g) => g.status?.items?.[item ?? '']?.last_run !== undefined && g.status.currentRun?.item !== item, `${item ?? '?'} recorded`);
  }
  const done = await ns.waitForGroup(group, (g) => (g.status?.currentRun ?? undefined) === undefined, 'idle after both items ran');
  expect(done.status?.items?.ok).toMatchObject({ failure_count: 0, last_run: { outcome: 'Succeeded', exitCode: 0 } });
  expect(done.status?.items?.bad).toMatchObject({ failure_count: 1, last_run: { outcome: 'Failed', exitCode: 3 } });
  expect(await ns.livePods()).toEqual([]);
  const events = await waitUntil(
    () => eventsAbout(ns, group),
    (list) => ['RunStarted', 'RunSucceeded', 'RunFailed'].every((reason) => list.some((e) => e.reason === reason)),
    { what: `RunStarted, RunSucceeded and RunFailed Events about ${ns.name}/${group}`, timeoutMs: 15_000 },
  );
  expect(events.find((e) => e.reason === 'RunFailed')?.type).toBe('Warning');
}
