/**
 * Scripted scenarios of the simulation, one per hole the run protocol v2 closed: each one
 * replays an interleaving that broke v1 (seeds drift when the simulator changes; these do
 * not), on the operator's own code, under the oracle (no violation may occur), plus what the
 * scenario is about.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { LABELS } from '../../../src/api/v1/keys.ts';
import type { LastRun, OaatGroup } from '../../../src/api/v1/types.ts';
import { runEpisode, type EpisodeOptions, type ScriptWorld } from '../../sim/episode.ts';

const MINUTE = 60_000;
const SUCCEEDS = { neverStarts: 0, succeeds: 1 } as const;

function scenario(options: EpisodeOptions): ReturnType<typeof runEpisode> {
  return runEpisode(1, { faults: [], mode: 'single', keepLines: 400, ...options });
}

function livePods(world: ScriptWorld): V1Pod[] {
  return (world.server.list('Pod', world.namespace) as V1Pod[]).filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
}

function group(world: ScriptWorld | { server: ScriptWorld['server'] }, name = 'g'): OaatGroup {
  return world.server.peek('OaatGroup', 'sim', name) as OaatGroup;
}

function expectClean(result: Awaited<ReturnType<typeof runEpisode>>): void {
  if (result.violations.length > 0) throw new Error(`violations:\n${result.violations.join('\n')}\n\ntrace:\n${result.trace.join('\n')}`);
}

it('a group deleted and re-created with its pod still terminating (600 s grace) starts nothing until that pod has ended, and never records it', async () => {
  let oldPod: V1Pod | undefined;
  let oldPodEndedAt = Infinity;
  let firstNewCreateAt = Infinity;
  const result = await scenario({
    workload: [{ name: 'g', items: ['a', 'b'] }],
    kubelet: { ...SUCCEEDS, runMs: [20 * MINUTE, 20 * MINUTE], termination: 'full-grace' },
    podGraceSeconds: 600,
    durationMs: 30 * MINUTE,
    script: (world) => {
      world.server.watch((change) => {
        if (change.kind !== 'Pod') return;
        const ended = change.type === 'DELETED' || ['Succeeded', 'Failed'].includes((change.object as V1Pod).status?.phase ?? '');
        if (ended && change.object.metadata?.uid === oldPod?.metadata?.uid) oldPodEndedAt = Math.min(oldPodEndedAt, world.loop.now());
        if (change.type === 'ADDED' && oldPod !== undefined && change.object.metadata?.uid !== oldPod.metadata?.uid) firstNewCreateAt = Math.min(firstNewCreateAt, world.loop.now());
      });
      world.at(30_000, 'user: kubectl delete og g --wait=false && kubectl apply -f g.yaml', () => {
        oldPod = livePods(world)[0];
        const manifest = group(world);
        world.server.delete('OaatGroup', 'sim', 'g');
        const again: OaatGroup = { apiVersion: 'kawaja.net/v1', kind: 'OaatGroup', metadata: { name: 'g', namespace: 'sim' }, ...(manifest.spec && { spec: manifest.spec }) };
        world.server.create('OaatGroup', again, 'user');
      });
    },
  });
  expectClean(result);
  expect(oldPod).toBeDefined();
  expect(oldPodEndedAt).toBeLessThan(Infinity);
  expect(firstNewCreateAt).toBeGreaterThan(oldPodEndedAt);
  const recorded = Object.values(group(result).status?.items ?? {}).map((item) => item?.last_run?.podUID);
  expect(recorded).not.toContain(oldPod?.metadata?.uid);
});

it('a restart right after the running pod was force-deleted never creates that pod again', async () => {
  let deleted: string | undefined;
  const result = await scenario({
    workload: [{ name: 'g', items: ['a', 'b'] }],
    kubelet: { ...SUCCEEDS, runMs: [2 * MINUTE, 2 * MINUTE] },
    script: (world) => {
      world.at(20_000, 'user: kubectl delete pod --grace-period=0, then the operator restarts', () => {
        deleted = livePods(world)[0]?.metadata?.name;
        world.server.delete('Pod', 'sim', deleted ?? '', { gracePeriodSeconds: 0 });
        world.replicas[0]?.crash();
      });
    },
  });
  expectClean(result);
  expect(deleted).toBeDefined();
  expect(result.requests.filter((r) => r.verb === 'create' && r.status === 200).length).toBeGreaterThan(1);
  expect(result.trace.join('\n')).not.toMatch(new RegExp(`create Pod sim/${deleted ?? 'none'} -> 200[\\s\\S]*create Pod sim/${deleted ?? 'none'} -> 200`));
});

it('creates held in flight past the client\'s timeout are never sent again, never run next to another pod, and are recorded with their UID', async () => {
  const result = await scenario({
    workload: [{ name: 'g', items: ['a', 'b', 'c'] }],
    kubelet: { ...SUCCEEDS, runMs: [10_000, 20_000] },
    network: { heldCreate: 1 },
  });
  expectClean(result);
  const creates = result.requests.filter((r) => r.verb === 'create');
  expect(creates.length).toBeGreaterThan(3);
  expect(creates.every((r) => r.status === 200)).toBe(true);
  const runs = Object.values(group(result).status?.items ?? {}).map((item) => item?.last_run);
  expect(runs.every((run) => run?.outcome === 'Succeeded' && run.podUID !== undefined)).toBe(true);
});

it('a group whose creates are refused backs off, says so, burns no item while probing, and runs again once they are admitted', async () => {
  let condition: string | undefined;
  const result = await scenario({
    workload: [{ name: 'g', items: Array.from({ length: 10 }, (_, i) => `item-${String(i)}`) }],
    kubelet: { ...SUCCEEDS, runMs: [10_000, 10_000] },
    durationMs: 30 * MINUTE,
    script: (world) => {
      let admissionClosed = true;
      world.server.admission = () => (admissionClosed ? 'exceeded quota: pods=1, limited: pods=0' : undefined);
      world.at(10 * MINUTE - 1, 'check the group condition', () => {
        condition = group(world).status?.conditions?.find((c) => c.type === 'CreatesRefused')?.status;
      });
      world.at(10 * MINUTE, 'admin: the quota is raised', () => {
        admissionClosed = false;
      });
    },
  });
  expectClean(result);
  expect(condition).toBe('True');
  const refused = result.requests.filter((r) => r.verb.startsWith('create') && r.status === 403);
  expect(refused.length).toBeGreaterThanOrEqual(3);
  expect(refused.length).toBeLessThanOrEqual(8); // 3 creates, then dry runs at 30 s, 1, 2, 4 min
  const burnt = Object.values(group(result).status?.items ?? {}).filter((item) => item?.last_run?.outcome === 'CreateFailed');
  expect(burnt.length).toBeLessThanOrEqual(3);
  expect(group(result).status?.conditions?.find((c) => c.type === 'CreatesRefused')?.status).toBe('False');
});

it('a policy that refuses one item\'s pod does not stop the others', async () => {
  const result = await scenario({
    workload: [{ name: 'g', items: ['bad', 'b', 'c'], spec: { frequency: '1m' } }],
    kubelet: { ...SUCCEEDS, runMs: [10_000, 10_000] },
    script: (world) => {
      world.server.admission = (pod) => (pod.metadata?.annotations?.['oaat.kawaja.net/item'] === 'bad' ? 'denied by policy' : undefined);
    },
  });
  expectClean(result);
  const items = group(result).status?.items ?? {};
  expect(items.bad?.last_run?.outcome).toBe('CreateFailed');
  expect(items.b?.last_run?.outcome).toBe('Succeeded');
  expect(items.c?.last_run?.outcome).toBe('Succeeded');
  expect(group(result).status?.createBackoff?.retryAt).toBeUndefined();
});

it('a claimed pod hidden from the pod cache is read with backoff, reported Stuck, and recorded once it ends', async () => {
  let hidden: V1Pod | undefined;
  let stuck: string | undefined;
  let recorded: LastRun | undefined;
  const result = await scenario({
    workload: [{ name: 'g', items: ['a'] }],
    kubelet: { ...SUCCEEDS, runMs: [6 * MINUTE, 6 * MINUTE] },
    durationMs: 24 * MINUTE,
    script: (world) => {
      world.at(20_000, 'user: edits the app label away', () => {
        hidden = livePods(world)[0];
        world.server.patch('Pod', 'sim', hidden?.metadata?.name ?? '', { metadata: { labels: { [LABELS.app]: 'hidden' } } });
      });
      world.at(5 * MINUTE, 'check the group condition', () => {
        stuck = group(world).status?.conditions?.find((c) => c.type === 'Stuck')?.reason;
      });
      world.at(8 * MINUTE, 'check the hidden pod\'s record', () => {
        recorded = group(world).status?.items?.a?.last_run;
      });
    },
  });
  expectClean(result);
  expect(stuck).toBe('PodNotInCache');
  const reads = result.requests.filter((r) => r.verb === 'get' && r.at < 6 * MINUTE);
  expect(reads.length).toBeLessThanOrEqual(12);
  expect(recorded).toMatchObject({ podUID: hidden?.metadata?.uid, outcome: 'Succeeded' });
});

it('a kubelet clock two minutes ahead records every pod once, with its true runtime', async () => {
  const result = await scenario({
    workload: [{ name: 'g', items: ['a', 'b'], spec: { frequency: '1m' } }],
    kubelet: { ...SUCCEEDS, runMs: [10_000, 10_000], skewMs: 2 * MINUTE },
  });
  expectClean(result);
  for (const item of Object.values(group(result).status?.items ?? {})) {
    expect(item?.runtime?.count).toBeGreaterThan(2);
    expect(item?.runtime?.min).toBe(10);
    expect(item?.runtime?.max).toBe(10);
  }
});

it('a pod that ran and vanished before the watch showed it is recorded with its UID, as Deleted', async () => {
  let vanished: V1Pod | undefined;
  const result = await scenario({
    workload: [{ name: 'g', items: ['a', 'b'] }],
    kubelet: { ...SUCCEEDS, runMs: [MINUTE, MINUTE] },
    script: (world) => {
      world.lagWatches(40_000, 20_000, ['Pod']);
      world.at(5_000, 'a drain removes the pod; the operator\'s pod watch is 20 s behind and then relists', () => {
        vanished = livePods(world)[0];
        world.server.delete('Pod', 'sim', vanished?.metadata?.name ?? '', { gracePeriodSeconds: 0 });
        world.replicas[0]?.relist();
      });
    },
  });
  expectClean(result);
  expect(vanished).toBeDefined();
  const records = result.trace.join('\n');
  expect(records).toContain('"outcome":"Deleted"');
  expect(Object.values(group(result).status?.items ?? {}).map((item) => item?.last_run?.podUID)).not.toContain(undefined);
});

it('renaming every item again and again never outgrows the status bound', async () => {
  let serial = 0;
  const result = await scenario({
    workload: [{ name: 'g', items: Array.from({ length: 10 }, (_, i) => `item-${String(i)}`), spec: { frequency: '1m' } }],
    kubelet: { ...SUCCEEDS, runMs: [5_000, 5_000] },
    script: (world) => {
      for (let t = 30_000; t < 8 * MINUTE; t += 15_000) {
        world.at(t, 'user: renames every item', () => {
          world.server.patch('OaatGroup', 'sim', 'g', { spec: { oaatItems: Array.from({ length: 10 }, () => `renamed-${String(serial++)}`) } });
        });
      }
    },
  });
  expectClean(result);
  expect(result.requests.filter((r) => r.status === 422)).toEqual([]);
  expect(Object.keys(group(result).status?.items ?? {}).length).toBeLessThanOrEqual(16);
});

it('two active replicas and a pod hidden from their caches: the Stuck report does not flap, reads stay bounded', async () => {
  const result = await scenario({
    mode: 'two-replicas',
    workload: [{ name: 'g', items: ['a'] }],
    kubelet: { ...SUCCEEDS, runMs: [6 * MINUTE, 6 * MINUTE] },
    durationMs: 24 * MINUTE,
    script: (world) => {
      world.at(20_000, 'user: edits the app label away', () => {
        const pod = livePods(world)[0];
        world.server.patch('Pod', 'sim', pod?.metadata?.name ?? '', { metadata: { labels: { [LABELS.app]: 'hidden' } } });
      });
    },
  });
  expectClean(result);
  const writes = result.requests.filter((r) => r.verb === 'patch-status' && r.at > 30_000 && r.at < 6 * MINUTE);
  expect(writes.length).toBeLessThanOrEqual(6);
});
