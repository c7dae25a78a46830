/**
 * Upgrading from the Python original's CRDs, on a control plane of this test's own (the CRDs
 * are cluster-wide, so the shared one cannot be used): the operator refuses to start on the old
 * CRDs, and on the previous release's (no claim numbers), and says how to fix it; after the upgrade, a group stored under the old CRD with a value
 * the new schema rejects is reported on the object (condition and Event), not crashed on.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadManifests, TestCluster } from '../../support/cluster.ts';
import { REPO_ROOT, startControlPlane, stopControlPlane } from '../../support/control-plane.ts';
import { installOaatCrds, OaatNamespace } from '../../support/oaat.ts';
import { waitUntil } from '../../support/wait.ts';

let stateDir: string;
let cluster: TestCluster;
let ns: OaatNamespace | undefined;

beforeAll(() => {
  stateDir = mkdtempSync(path.join(os.tmpdir(), 'oaat-crd-upgrade-'));
  cluster = new TestCluster(startControlPlane({ stateDir, tier: 'T0', ownerPid: process.pid }));
});

afterAll(async () => {
  await ns?.close();
  stopControlPlane(stateDir);
});

it('refuses to run on the original CRDs, then reports a stored invalid spec after the upgrade', async () => {
  for (const crd of loadManifests({ file: path.join(REPO_ROOT, 'test/fixtures/original/manifests/01-oaat-operator-crd.yaml') })) {
    await cluster.installCrd(crd);
  }
  const upgrade = await OaatNamespace.create(cluster, 'upgrade');
  ns = upgrade;
  // Accepted by the original's schema (it has none for durations); the original read it as 5h.
  await upgrade.group('old', ['a'], { frequency: '1.5h' });
  // More values the new schema rejects, stored while it did not exist.
  await upgrade.group('cooloff', ['a'], { failureCoolOff: 'soon' });
  await upgrade.group('crowded', Array.from({ length: 1001 }, (_, i) => `item-${String(i)}`));
  await upgrade.apply({ apiVersion: 'kawaja.net/v1', kind: 'OaatGroup', metadata: { name: 'untyped' }, spec: { oaatItems: ['a'] } });
  await upgrade.apply({
    apiVersion: 'kawaja.net/v1',
    kind: 'OaatType',
    metadata: { name: 'broken' },
    spec: { type: 'job', podspec: { restartPolicy: 'Always', containers: [{ name: 'x', image: 'y' }] } },
  });
  await upgrade.group('badtype', ['a'], { oaatType: 'broken' });

  const operator = upgrade.startOperator();
  expect(await operator.program.exited()).toEqual({ code: 3, signal: null });
  expect(operator.messages().join('\n')).toContain(
    'refusing to start: CRD oaatgroups.kawaja.net has no /status subresource (it is the Python original\'s or an older one): install the CRDs of this release: helm upgrade of the release that owns them (crds.enabled), or kubectl apply --server-side --force-conflicts -f config/crd/',
  );

  // A CRD of this operator's previous release (no claim numbers in the status schema) is refused too.
  const [current] = loadManifests({ file: path.join(REPO_ROOT, 'config/crd/oaatgroups.kawaja.net.yaml') });
  const previous = structuredClone(current) as { spec: { versions: { schema: { openAPIV3Schema: { properties: { status: { properties: Record<string, unknown> } } } } }[] } };
  for (const version of previous.spec.versions) delete version.schema.openAPIV3Schema.properties.status.properties.runSeq;
  await cluster.installCrd(previous as never);
  operator.start();
  expect(await operator.program.exited()).toEqual({ code: 3, signal: null });
  expect(operator.messages().join('\n')).toContain('refusing to start: CRD oaatgroups.kawaja.net lacks status.runSeq in its schema (an older version)');

  await installOaatCrds(cluster);
  operator.start();
  const group = await upgrade.waitForGroup('old', (g) => g.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'False', 'Ready=False');
  expect(group.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
    reason: 'InvalidSpec',
    message: expect.stringContaining('spec.frequency: "1.5h" is not a duration') as unknown,
  });
  const events = await waitUntil(() => cluster.core.listNamespacedEvent({ namespace: upgrade.name }), (list) => list.items.some((e) => e.reason === 'InvalidSpec' && e.involvedObject.name === 'old'), {
    what: 'an InvalidSpec Event',
  });
  expect(events.items.find((e) => e.reason === 'InvalidSpec' && e.involvedObject.name === 'old')).toMatchObject({ type: 'Warning', message: expect.stringContaining('1.5h') as unknown });
  expect(group.status?.currentRun ?? undefined).toBeUndefined();

  const ready = async (name: string): Promise<{ reason?: string; message?: string }> =>
    (await upgrade.waitForGroup(name, (g) => g.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'False', 'Ready=False')).status?.conditions?.find(
      (c) => c.type === 'Ready',
    ) ?? {};
  expect(await ready('cooloff')).toMatchObject({ reason: 'InvalidSpec', message: expect.stringContaining('spec.failureCoolOff: "soon" is not a duration') as unknown });
  expect(await ready('crowded')).toMatchObject({ reason: 'InvalidSpec', message: expect.stringContaining('spec.oaatItems: Too many: 1001 items, at most 1000') as unknown });
  expect(await ready('untyped')).toMatchObject({ reason: 'InvalidSpec', message: expect.stringContaining('spec.oaatType: Required value') as unknown });
  const badType = await ready('badtype');
  expect(badType.reason).toBe('OaatTypeInvalid');
  for (const text of ['spec.type', 'containers', 'spec.podspec.container', 'restartPolicy']) expect(badType.message).toContain(text);
  expect(await upgrade.pods()).toEqual([]);
  // Replacing the CRD restarts the resource's watch cache: the checker's old watch may get 410,
  // and then relists (a gap in what it saw, not a violation).
  const violations = await upgrade.close();
  ns = undefined;
  expect(violations).toEqual([]);
});
