/**
 * Upgrading from the Python original's CRDs, on a control plane of this test's own (the CRDs
 * are cluster-wide, so the shared one cannot be used): the operator refuses to start on the old
 * CRDs and says how to fix it; after the upgrade, a group stored under the old CRD with a value
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

beforeAll(() => {
  stateDir = mkdtempSync(path.join(os.tmpdir(), 'oaat-crd-upgrade-'));
  cluster = new TestCluster(startControlPlane({ stateDir, tier: 'T0', ownerPid: process.pid }));
});

afterAll(() => {
  stopControlPlane(stateDir);
});

it('refuses to run on the original CRDs, then reports a stored invalid spec after the upgrade', async () => {
  for (const crd of loadManifests({ file: path.join(REPO_ROOT, 'test/fixtures/original/manifests/01-oaat-operator-crd.yaml') })) {
    await cluster.installCrd(crd);
  }
  const ns = await OaatNamespace.create(cluster, 'upgrade');
  // Accepted by the original's schema (it has none for durations); the original read it as 5h.
  await ns.group('old', ['a'], { frequency: '1.5h' });

  const operator = ns.startOperator();
  expect(await operator.program.exited()).toEqual({ code: 3, signal: null });
  expect(operator.messages().join('\n')).toContain(
    'refusing to start: CRD oaatgroups.kawaja.net has no /status subresource (it is the Python original\'s or an older one): install the CRDs of this release: kubectl apply --server-side --force-conflicts -f config/crd/',
  );

  await installOaatCrds(cluster);
  operator.start();
  const group = await ns.waitForGroup('old', (g) => g.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'False', 'Ready=False');
  expect(group.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
    reason: 'InvalidSpec',
    message: expect.stringContaining('spec.frequency: "1.5h" is not a duration') as unknown,
  });
  const events = await waitUntil(() => cluster.core.listNamespacedEvent({ namespace: ns.name }), (list) => list.items.some((e) => e.reason === 'InvalidSpec'), {
    what: 'an InvalidSpec Event',
  });
  expect(events.items.find((e) => e.reason === 'InvalidSpec')).toMatchObject({ type: 'Warning', message: expect.stringContaining('1.5h') as unknown });
  expect(group.status?.currentRun ?? undefined).toBeUndefined();
  // Replacing the CRD restarts the resource's watch cache: the checker's old watch gets 410.
  expect((await ns.close()).filter((violation) => !violation.includes('too old resource version'))).toEqual([]);
});
