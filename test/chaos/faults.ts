/**
 * What each fault kind does to a running episode. A fault runs its whole course: it starts,
 * lasts its planned duration and undoes itself (a killed process is started again, a paused
 * group resumed, a deleted OaatType restored), so that once every fault has returned the
 * episode is quiet. Targets that depend on the moment (the leader, the running pod) are chosen
 * then, with the episode's seeded generator.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Pod } from '@kubernetes/client-node';
import type { Rng } from '../../src/services/rng.ts';
import type { FaultRule } from '../support/fault-proxy.ts';
import type { Episode } from './episode.ts';
import type { FaultKind, FaultPlan } from './plan.ts';

type FaultAction = (episode: Episode, fault: FaultPlan, rng: Rng) => Promise<string>;

const pick = <T>(rng: Rng, values: readonly T[]): T | undefined => values[Math.floor(rng.next() * values.length)];

const WRITES = ['POST', 'PUT', 'PATCH', 'DELETE'];

/** Sets `rules` on every replica's proxy for the fault's duration. */
async function onEveryProxy(episode: Episode, fault: FaultPlan, rules: FaultRule[]): Promise<void> {
  for (const replica of episode.replicas) replica.proxy.setRules(rules);
  await sleep(fault.durationMs);
  for (const replica of episode.replicas) replica.proxy.setRules([]);
}

async function killAndRestart(episode: Episode, index: number, fault: FaultPlan): Promise<string> {
  await episode.kill(index);
  await sleep(fault.durationMs);
  await episode.restart(index);
  return `killed ${episode.replicas[index]?.name ?? '?'}`;
}

async function livePod(episode: Episode, rng: Rng): Promise<V1Pod | undefined> {
  const pods = (await episode.operatorPods()).filter((p) => p.metadata?.deletionTimestamp === undefined && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
  return pick(rng, pods);
}

export const FAULTS: Record<FaultKind, FaultAction> = {
  'kill-leader': async (episode, fault) => killAndRestart(episode, await episode.leaderIndex(), fault),
  'kill-standby': async (episode, fault) => killAndRestart(episode, 1 - (await episode.leaderIndex()), fault),

  // The create-in-flight case: a pod create held on the wire while its sender dies.
  'kill-during-create': async (episode, fault) => {
    for (const replica of episode.replicas) replica.proxy.setRules([{ name: 'hold-create', match: { method: 'POST', path: /\/pods$/ }, times: 1, action: { type: 'hold' } }]);
    const deadline = Date.now() + episode.profile.faultWindowMs;
    let index = -1;
    while (index < 0 && Date.now() < deadline) {
      index = episode.replicas.findIndex((replica) => replica.proxy.heldCount > 0);
      if (index < 0) await sleep(100);
    }
    for (const replica of episode.replicas) replica.proxy.setRules([]);
    if (index < 0) return 'no create was sent';
    const replica = episode.replicas[index];
    await episode.kill(index);
    await sleep(fault.durationMs);
    for (const each of episode.replicas) {
      if (fault.release === true) each.proxy.releaseHeld();
      else each.proxy.dropHeld();
    }
    await episode.restart(index);
    return `held a create of ${replica?.name ?? '?'}, killed it, ${fault.release === true ? 'released' : 'dropped'} the create`;
  },

  'steal-lease': async (episode) => {
    await episode.world.stealLease(Math.ceil(episode.leaseSeconds()));
    return 'lease given to chaos-intruder';
  },
  'block-renewal': async (episode, fault) => {
    const leader = episode.replicas[await episode.leaderIndex()];
    leader?.proxy.setRules([{ name: 'no-renewal', match: { method: 'PUT', path: /\/leases\// }, action: { type: 'status', code: 503 } }]);
    await sleep(fault.durationMs);
    leader?.proxy.setRules([]);
    return `${leader?.name ?? '?'} could not renew`;
  },
  'restart-apiserver': async (episode) => {
    await episode.world.restartApiserver();
    return 'kube-apiserver restarted';
  },
  'pause-etcd': async (episode, fault) => {
    await episode.world.pauseEtcd(Math.min(fault.durationMs, episode.profile.serverRequestTimeoutMs / 2));
    return 'etcd paused';
  },

  'cut-watches': (episode, _fault, rng) => {
    const mode = rng.next() < 0.5 ? 'end' : 'destroy';
    const cut = episode.replicas.reduce((sum, replica) => sum + replica.proxy.cutWatches(mode), 0);
    return Promise.resolve(`${String(cut)} watches cut (${mode})`);
  },
  'stall-watches': async (episode, fault) => {
    const stalled = episode.replicas.reduce((sum, replica) => sum + replica.proxy.stallWatches(fault.durationMs), 0);
    await sleep(fault.durationMs);
    return `${String(stalled)} watches stalled`;
  },
  // Requests that take longer than the client waits (OAAT_REQUEST_TIMEOUT) as well as shorter.
  'slow-requests': async (episode, fault, rng) => {
    const ms = Math.round(rng.next() * 2 * episode.requestTimeoutMs());
    await onEveryProxy(episode, fault, [{ name: 'slow', match: { watch: false }, probability: fault.probability ?? 1, action: { type: 'delay', ms } }]);
    return `requests delayed ${String(ms)} ms`;
  },
  'watch-410': async (episode, fault) => {
    await onEveryProxy(episode, fault, [{ name: 'gone', match: { watch: true }, action: { type: 'status', code: 410 } }]);
    return 'watches answered 410';
  },
  'write-errors': async (episode, fault) => {
    await onEveryProxy(episode, fault, [
      { name: 'write-error', match: { method: WRITES }, probability: fault.probability ?? 1, action: { type: 'status', code: fault.code ?? 500 } },
    ]);
    return `writes failed with ${String(fault.code)}`;
  },
  'lose-responses': async (episode, fault) => {
    await onEveryProxy(episode, fault, [{ name: 'lost', match: { method: WRITES }, probability: fault.probability ?? 1, action: { type: 'lose-response' } }]);
    return 'write responses lost';
  },
  'reset-connections': async (episode, fault) => {
    await onEveryProxy(episode, fault, [{ name: 'reset', probability: fault.probability ?? 1, action: { type: 'reset' } }]);
    return 'connections reset';
  },
  partition: async (episode, fault, rng) => {
    const replica = pick(rng, episode.replicas);
    replica?.proxy.partition(rng.next() < 0.5 ? 'drop' : 'reset');
    await sleep(fault.durationMs);
    replica?.proxy.heal();
    return `${replica?.name ?? '?'} partitioned`;
  },

  'delete-pod': async (episode, _fault, rng) => {
    const pod = await livePod(episode, rng);
    if (pod === undefined) return 'no live pod';
    await episode.deletePod(pod, undefined);
    return `deleted pod ${pod.metadata?.name ?? ''}`;
  },
  'force-delete-pod': async (episode, _fault, rng) => {
    const pod = await livePod(episode, rng);
    if (pod === undefined) return 'no live pod';
    await episode.deletePod(pod, 0);
    return `force-deleted pod ${pod.metadata?.name ?? ''}`;
  },
  'recreate-group': async (episode, _fault, rng) => {
    const group = episode.pickGroup(rng);
    if (group === undefined) return 'no group';
    await episode.deleteGroup(group.namespace, group.name);
    await episode.createGroup(group.namespace, group.name);
    return `re-created ${group.namespace}/${group.name}`;
  },
  'edit-items': async (episode, _fault, rng) => {
    const group = episode.pickGroup(rng);
    if (group === undefined) return 'no group';
    const items = group.spec.items.filter(() => rng.next() < 0.7);
    const added = Array.from({ length: 1 + Math.floor(rng.next() * 3) }, (_, i) => `added-${String(Math.floor(rng.next() * 1000))}-${String(i)}`);
    await episode.setItems(group.namespace, group.name, [...items, ...added]);
    return `items of ${group.name}: ${String(items.length)} kept, ${String(added.length)} added`;
  },
  'rename-running': async (episode, _fault, rng) => {
    const running = await episode.runningItems();
    const target = pick(rng, running);
    if (target === undefined) return 'nothing running';
    const group = episode.groupSpec(target.namespace, target.group);
    if (group === undefined) return 'group gone';
    await episode.setItems(target.namespace, target.group, group.items.map((item) => (item === target.item ? `${item}-renamed` : item)));
    return `renamed running item ${target.item} of ${target.group}`;
  },
  pause: async (episode, fault, rng) => {
    const group = episode.pickGroup(rng);
    if (group === undefined) return 'no group';
    await episode.patchGroupSpec(group.namespace, group.name, { paused: true });
    await sleep(fault.durationMs);
    await episode.patchGroupSpec(group.namespace, group.name, { paused: false });
    return `paused ${group.name}`;
  },
  'change-type': async (episode, _fault, rng) => {
    const group = episode.pickGroup(rng);
    if (group === undefined) return 'no group';
    const type = await episode.otherType(group.namespace, group.spec.type);
    group.spec.type = type;
    await episode.patchGroupSpec(group.namespace, group.name, { oaatType: type });
    return `${group.name} now of ${type}`;
  },
  'delete-type': async (episode, fault, rng) => {
    const group = episode.pickGroup(rng);
    if (group === undefined) return 'no group';
    await episode.deleteType(group.namespace, group.spec.type);
    await sleep(fault.durationMs);
    await episode.createType(group.namespace, group.spec.type);
    return `OaatType ${group.spec.type} deleted and restored`;
  },
  'delete-namespace': async (episode, _fault, rng) => {
    const namespace = pick(rng, episode.liveNamespaces());
    if (namespace === undefined) return 'no namespace';
    await episode.deleteNamespace(namespace);
    return `deleted namespace ${namespace}`;
  },
  'foreign-pod': async (episode, _fault, rng) => {
    const group = episode.pickGroup(rng);
    if (group === undefined) return 'no group';
    const name = await episode.createForeignPod(group.namespace, group.name, pick(rng, group.spec.items) ?? 'item-0');
    return `foreign pod ${name} in ${group.name}`;
  },
};
