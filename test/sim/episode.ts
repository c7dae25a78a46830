/**
 * One simulated episode, chosen entirely by its seed: a workload (1-3 groups of 1-10 items),
 * a replica mode (one replica; two active replicas without a lease; two replicas with a lease
 * that changes hands), a set of fault kinds with random moments, a fault window and then a
 * quiet period (every replica up, no faults) in which every group must make progress again.
 * The oracle checks after every step and at the end.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { ANNOTATIONS, APP_LABEL_VALUE, LABELS } from '../../src/api/v1/keys.ts';
import { API_VERSION, type OaatGroup, type OaatGroupSpec, type OaatType, type TimeWindow } from '../../src/api/v1/types.ts';
import { loadConfig, type OperatorConfig } from '../../src/config.ts';
import { REFUSAL_BACKOFF_CAP_MS } from '../../src/services/group-planner.ts';
import { SimApiServer, timestamp, type Kind } from './api-server.ts';
import { GarbageCollector, Kubelet, type KubeletBehaviour } from './cluster.ts';
import { EventLoop, SIM_EPOCH } from './event-loop.ts';
import { Oracle, type ProtocolStep } from './oracle.ts';
import { NO_NETWORK_FAULTS, Replica, type NetworkFaults } from './replica.ts';

export const FAULT_KINDS = [
  'crash',
  'crash-after-send',
  'lost-response',
  'transient-error',
  'held-create',
  'watch-lag',
  'relist',
  'delete-pod',
  'force-delete-pod',
  'recreate-group',
  'edit-items',
  'rename-items',
  'pause',
  'run-now',
  'type-change',
  'foreign-pod',
  'hide-pod',
  'kubelet-skew',
  'refused-create',
  'long-grace',
  'original-pods',
  'two-replicas',
  'lease-handover',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

export interface EpisodeOptions {
  /** Only these fault kinds may be chosen (default all); a scripted regression names its faults. */
  faults?: readonly FaultKind[];
  /** Each allowed fault kind is chosen with this probability (default 0.3). */
  faultChance?: number;
  maxSteps?: number;
  /** Trace lines kept for a report. */
  keepLines?: number;
  /** Instead of random groups: these (namespace `sim`, OaatType `job`). */
  workload?: readonly { name: string; items: readonly string[]; spec?: Partial<OaatGroupSpec> }[];
  kubelet?: Partial<KubeletBehaviour>;
  /** terminationGracePeriodSeconds of item pods (default 30, 600 with the long-grace fault). */
  podGraceSeconds?: number;
  /** Default: from the faults chosen. */
  mode?: EpisodeResult['mode'];
  /** Operator settings over the simulation's. */
  config?: Partial<OperatorConfig>;
  /** Scripted actions, given the episode's world once it is set up (scenarios). */
  script?: (world: ScriptWorld) => void;
  /** Default: the fault window and the quiet period. */
  durationMs?: number;
  /** Network faults over the chosen fault kinds' (until the quiet period). */
  network?: Partial<NetworkFaults>;
}

/** What a scripted scenario acts on. */
export interface ScriptWorld {
  readonly loop: EventLoop;
  readonly server: SimApiServer;
  readonly namespace: string;
  /** The replicas now (a restart replaces a crashed one in place). */
  readonly replicas: readonly Replica[];
  /** Runs `action` `atMs` after the start. */
  at(atMs: number, label: string, action: () => void): void;
  /** Every replica's watches (of `kinds`, default all) lag `lagMs` until `untilMs` after the start. */
  lagWatches(untilMs: number, lagMs: number, kinds?: readonly Kind[]): void;
}

/** One request a replica made, as the server answered it. */
export interface RequestRecord {
  replica: string;
  group: string;
  verb: string;
  at: number;
  status: number;
}

export interface EpisodeResult {
  seed: number;
  mode: 'single' | 'two-replicas' | 'lease';
  faults: FaultKind[];
  violations: string[];
  hash: string;
  steps: number;
  virtualMs: number;
  trace: string[];
  /** fault kind -> protocol steps reached in the episode. */
  coverage: Map<FaultKind, Set<ProtocolStep>>;
  /** The API server at the end, and every request the replicas made (for scenarios). */
  server: SimApiServer;
  requests: RequestRecord[];
}

const FAULT_WINDOW_MS = 8 * 60_000;
const QUIET_MS = 6 * 60_000;
const NAMESPACE = 'sim';
/** The CRD's bound on status.items keys, at the simulation's scale (groups have at most 10 items). */
const MAX_STATUS_ITEMS = 16;

function simConfig(): OperatorConfig {
  return { ...loadConfig({}), workers: 2, statusItemsLimit: MAX_STATUS_ITEMS };
}

/**
 * A blackout window inside the fault period (episodes start at SIM_EPOCH, midnight UTC): one to
 * two minutes, a third of them noStartItem, the rest noRunItem that stop a running item.
 */
function simWindow(loop: EventLoop): TimeWindow {
  const opensAt = loop.uniform(60_000, FAULT_WINDOW_MS - 3 * 60_000);
  const clock = (offset: number): string => new Date(SIM_EPOCH + offset).toISOString().slice(11, 19);
  const span = { start: { time: clock(opensAt) }, end: { time: clock(opensAt + loop.uniform(60_000, 120_000)) } };
  return loop.chance(1 / 3) ? { name: 'quiet', noStartItem: span } : { name: 'maintenance', noRunItem: span, stopRunning: true };
}

export async function runEpisode(seed: number, options: EpisodeOptions = {}): Promise<EpisodeResult> {
  const loop = new EventLoop(seed, options.keepLines ?? 80);
  const server = new SimApiServer(loop);
  server.maxStatusItems = MAX_STATUS_ITEMS;
  const allowed = options.faults ?? FAULT_KINDS;
  const chance = options.faultChance ?? 0.3;
  const faults = new Set<FaultKind>(allowed.filter(() => loop.chance(chance)));
  if (faults.size === 0 && allowed.length > 0) faults.add(loop.pick(allowed));
  if (faults.has('two-replicas') && faults.has('lease-handover')) faults.delete(loop.chance(0.5) ? 'two-replicas' : 'lease-handover');
  const mode: EpisodeResult['mode'] = options.mode ?? (faults.has('two-replicas') ? 'two-replicas' : faults.has('lease-handover') ? 'lease' : 'single');
  const injected = new Map<FaultKind, number>();
  const inject = (kind: FaultKind, what: string): void => {
    if (!injected.has(kind)) injected.set(kind, loop.now());
    loop.note(`fault ${kind}: ${what}`);
  };
  let quiet = false;
  const quietAt = FAULT_WINDOW_MS;
  // A pod deleted just before the quiet period may take its whole grace period to end.
  // and a group whose creates were refused may back off for up to the backoff cap.
  const endAt = options.durationMs ?? FAULT_WINDOW_MS + QUIET_MS + (faults.has('long-grace') ? 10 * 60_000 : 0) + (faults.has('refused-create') ? REFUSAL_BACKOFF_CAP_MS : 0);
  const startedAt = loop.now();
  const at = (): number => loop.uniform(1_000, FAULT_WINDOW_MS - 1_000);

  // --- cluster and workload
  const longGrace = faults.has('long-grace');
  new Kubelet(loop, server, {
    skewMs: faults.has('kubelet-skew') ? loop.pick([-1, 1]) * loop.uniform(30_000, 120_000) : 0,
    neverStarts: 0.02,
    succeeds: 0.7,
    runMs: [5_000, 120_000],
    ...options.kubelet,
  });
  new GarbageCollector(loop, server);
  const config = { ...simConfig(), ...options.config };
  const typeManifest = (grace: number): OaatType => ({
    apiVersion: API_VERSION,
    kind: 'OaatType',
    metadata: { name: 'job', namespace: NAMESPACE },
    spec: { type: 'pod', podspec: { container: { name: 'main', image: 'busybox', command: ['run', '%%oaat_item%%'] }, terminationGracePeriodSeconds: grace } },
  });
  const grace = options.podGraceSeconds ?? (longGrace ? 600 : 30);
  server.create('OaatType', typeManifest(grace), 'user');
  let itemSerial = 0;
  const workload =
    options.workload ??
    Array.from({ length: 1 + Math.floor(loop.rng.next() * 3) }, (_, g) => ({
      name: `g${String(g)}`,
      items: Array.from({ length: 1 + Math.floor(loop.rng.next() * 10) }, () => `item-${String(itemSerial++)}`),
      spec: {
        frequency: loop.pick(['1m', '2m', '3m']),
        ...(loop.chance(0.3) && { failureCoolOff: '1m' }),
        ...(loop.chance(0.3) && { failureBackoff: { multiplier: loop.pick([2, 3]), max: '4m' } }),
        ...(loop.chance(0.2) && { runTimeout: '1m' }),
        ...(loop.chance(0.25) && { windows: [simWindow(loop)] }),
      },
    }));
  const manifests = new Map<string, OaatGroup>();
  for (const { name, items, spec } of workload) {
    const manifest: OaatGroup = {
      apiVersion: API_VERSION,
      kind: 'OaatGroup',
      metadata: { name, namespace: NAMESPACE },
      spec: { oaatType: 'job', oaatItems: [...items], frequency: '1m', pendingTimeout: '2m', ...spec },
    };
    manifests.set(name, manifest);
    server.create('OaatGroup', manifest, 'user');
  }

  // Pods the Python original left (its ownerReference, its labels, no run id): one running to
  // adopt, one finished to record.
  if (faults.has('original-pods')) {
    for (const manifest of manifests.values()) {
      const stored = server.peek('OaatGroup', NAMESPACE, manifest.metadata?.name ?? '') as OaatGroup;
      const group = stored.metadata?.name ?? '';
      const items = stored.spec?.oaatItems ?? [];
      const pod = (item: string, suffix: string): V1Pod => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `${group}-original-${suffix}`,
          namespace: NAMESPACE,
          labels: { [LABELS.app]: APP_LABEL_VALUE, [LABELS.parentName]: group, [LABELS.itemName]: item },
          ownerReferences: [{ apiVersion: API_VERSION, kind: 'OaatGroup', name: group, uid: stored.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }],
        },
        spec: { containers: [{ name: 'main', image: 'busybox' }] },
      });
      server.create('Pod', pod(loop.pick(items), 'running'), 'user');
      const finished = pod(loop.pick(items), 'finished');
      server.create('Pod', finished, 'user');
      const at = timestamp(loop.now() - 60_000);
      server.updateStatus('Pod', NAMESPACE, finished.metadata?.name ?? '', (object) => {
        (object as V1Pod).status = {
          phase: 'Succeeded',
          startTime: at,
          containerStatuses: [{ name: 'main', image: 'x', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: at, finishedAt: at } } }],
        };
      });
    }
    inject('original-pods', 'pods of the Python original: one running, one finished per group');
  }

  // --- replicas
  const network: NetworkFaults = {
    lostResponse: faults.has('lost-response') ? 0.05 : 0,
    transientError: faults.has('transient-error') ? 0.05 : 0,
    heldCreate: faults.has('held-create') ? 0.25 : 0,
    crashAfterSend: faults.has('crash-after-send') ? 0.02 : 0,
    ...options.network,
  };
  const lagUntil = { at: 0, ms: undefined as number | undefined, kinds: undefined as readonly Kind[] | undefined };
  const everyReplica = new Map<string, Replica>();
  const oracle = new Oracle(
    loop,
    server,
    (actor) => everyReplica.has(actor),
    (actor, uid) => everyReplica.get(actor)?.seenPods.has(uid) === true,
  );
  const replicas: Replica[] = [];
  const requests: RequestRecord[] = [];
  let incarnations = 0;
  const spawn = (slot: string, active: boolean): Replica => {
    const replica = new Replica({
      name: `${slot}#${String(++incarnations)}`,
      loop,
      server,
      config,
      faults: () => (quiet ? NO_NETWORK_FAULTS : network),
      watchLagMs: (kind) =>
        loop.now() < lagUntil.at && (lagUntil.kinds?.includes(kind) ?? true) ? (lagUntil.ms ?? loop.uniform(2_000, 20_000)) : loop.uniform(1, 40),
      clockSkewMs: 0,
      requests: (replica, group, verb, time, status, before) => {
        requests.push({ replica, group, verb, at: time - startedAt, status });
        oracle.request(replica, group, verb, time, status, before);
      },
      onCrash: (crashed) => {
        if (crashed.active && mode === 'lease') handOver(crashed, loop.uniform(10_000, 15_000));
        const restartIn = quiet ? 1_000 : loop.uniform(500, 20_000);
        loop.schedule(restartIn, `${slot}: restart`, () => {
          const index = replicas.indexOf(crashed);
          const next = spawn(slot, mode !== 'lease' || !replicas.some((r) => r.active && r.alive));
          if (index >= 0) replicas[index] = next;
        });
      },
    });
    everyReplica.set(replica.incarnation, replica);
    replica.start(active);
    return replica;
  };
  /** The lease passes from `from` to the other replica after `delayMs`. */
  const handOver = (from: Replica, delayMs: number): void => {
    loop.schedule(delayMs, 'lease: acquired by standby', () => {
      const next = replicas.find((r) => r !== from && r.alive && !r.active);
      if (next !== undefined && !replicas.some((r) => r.active && r.alive && r !== from)) next.activate();
    });
  };
  replicas.push(spawn('ra', true));
  if (mode !== 'single') replicas.push(spawn('rb', mode === 'two-replicas'));

  // --- faults
  const anyReplica = (): Replica | undefined => {
    const alive = replicas.filter((r) => r.alive && (mode !== 'lease' || r.active));
    return alive.length === 0 ? undefined : loop.pick(alive);
  };
  const livePods = (): V1Pod[] =>
    (server.list('Pod', NAMESPACE) as V1Pod[]).filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed' && p.metadata?.deletionTimestamp === undefined);
  const times = (n: number, kind: FaultKind, action: () => void): void => {
    if (!faults.has(kind)) return;
    for (let i = 0; i < n; i++) {
      loop.schedule(at(), '', () => {
        if (quiet) return;
        try {
          action();
        } catch (error) {
          // A person's request can be refused too (a quota, a conflict): they move on.
          loop.note(`user request refused: ${(error as Error).message}`);
        }
      });
    }
  };
  /** `kind` happens to a random replica (an active one, with a lease). */
  const toAReplica = (kind: FaultKind, act: (replica: Replica) => void): void => {
    times(3, kind, () => {
      const replica = anyReplica();
      if (replica === undefined) return;
      inject(kind, replica.incarnation);
      act(replica);
    });
  };
  toAReplica('crash', (replica) => { replica.crash(); });
  times(3, 'lease-handover', () => {
    const leader = replicas.find((r) => r.active && r.alive);
    const standby = replicas.find((r) => !r.active && r.alive);
    if (leader === undefined || standby === undefined) return;
    inject('lease-handover', `${leader.incarnation} -> ${standby.incarnation}`);
    standby.activate();
    // The old leader acts until it notices (its next renewal), then exits.
    loop.schedule(loop.uniform(0, 3_000), `${leader.incarnation}: lost the lease, exits`, () => { leader.crash(); });
  });
  times(3, 'watch-lag', () => {
    inject('watch-lag', 'watches lag 2-20 s for 30 s');
    lagUntil.at = loop.now() + 30_000;
  });
  toAReplica('relist', (replica) => { replica.relist(); });
  times(4, 'delete-pod', () => {
    const pods = livePods();
    if (pods.length === 0) return;
    const pod = loop.pick(pods);
    inject('delete-pod', pod.metadata?.name ?? '');
    server.delete('Pod', NAMESPACE, pod.metadata?.name ?? '');
  });
  times(3, 'force-delete-pod', () => {
    const pods = livePods();
    if (pods.length === 0) return;
    const pod = loop.pick(pods);
    inject('force-delete-pod', pod.metadata?.name ?? '');
    server.delete('Pod', NAMESPACE, pod.metadata?.name ?? '', { gracePeriodSeconds: 0 });
  });
  times(2, 'recreate-group', () => {
    const manifest = loop.pick([...manifests.values()]);
    const name = manifest.metadata?.name ?? '';
    if (server.peek('OaatGroup', NAMESPACE, name) === undefined) return;
    inject('recreate-group', name);
    server.delete('OaatGroup', NAMESPACE, name);
    loop.schedule(loop.uniform(0, 3_000), `user: re-create group ${name}`, () => {
      if (server.peek('OaatGroup', NAMESPACE, name) === undefined) server.create('OaatGroup', manifests.get(name) ?? manifest, 'user');
    });
  });
  times(3, 'edit-items', () => {
    const manifest = loop.pick([...manifests.values()]);
    const name = manifest.metadata?.name ?? '';
    const stored = server.peek('OaatGroup', NAMESPACE, name) as OaatGroup | undefined;
    if (stored === undefined) return;
    const items = [...(stored.spec?.oaatItems ?? [])];
    const running = stored.status?.currentRun?.item;
    const victim = running !== undefined && loop.chance(0.5) ? running : loop.pick(items.length > 0 ? items : ['none']);
    const next = items.filter((i) => i !== victim);
    if (loop.chance(0.7) || next.length === 0) next.push(`item-${String(itemSerial++)}`);
    inject('edit-items', `${name}: ${items.join(',')} -> ${next.join(',')}`);
    server.patch('OaatGroup', NAMESPACE, name, { spec: { oaatItems: next } });
    manifests.set(name, { ...manifest, spec: { ...manifest.spec, oaatItems: next } });
  });
  times(12, 'rename-items', () => {
    const name = loop.pick([...manifests.keys()]);
    const stored = server.peek('OaatGroup', NAMESPACE, name) as OaatGroup | undefined;
    if (stored === undefined) return;
    const next = (stored.spec?.oaatItems ?? []).map(() => `item-${String(itemSerial++)}`);
    inject('rename-items', `${name}: every item renamed`);
    server.patch('OaatGroup', NAMESPACE, name, { spec: { oaatItems: next } });
    const manifest = manifests.get(name);
    if (manifest !== undefined) manifests.set(name, { ...manifest, spec: { ...manifest.spec, oaatItems: next } });
  });
  times(2, 'pause', () => {
    const name = loop.pick([...manifests.keys()]);
    if (server.peek('OaatGroup', NAMESPACE, name) === undefined) return;
    inject('pause', name);
    server.patch('OaatGroup', NAMESPACE, name, { spec: { paused: true } });
    loop.schedule(loop.uniform(5_000, 120_000), `user: unpause ${name}`, () => {
      if (server.peek('OaatGroup', NAMESPACE, name) !== undefined) server.patch('OaatGroup', NAMESPACE, name, { spec: { paused: false } });
    });
  });
  times(3, 'run-now', () => {
    const name = loop.pick([...manifests.keys()]);
    const group = server.peek('OaatGroup', NAMESPACE, name) as OaatGroup | undefined;
    if (group === undefined) return;
    // Mostly a listed item, sometimes a name that is not (a typo), sometimes a reset of all.
    const item = loop.chance(0.1) ? 'no-such-item' : loop.pick(group.spec?.oaatItems ?? ['no-such-item']);
    const [annotation, value] = loop.chance(0.3) ? [ANNOTATIONS.reset, '*'] : [ANNOTATIONS.runNow, item];
    inject('run-now', `${annotation}=${value} on ${name}`);
    server.patch('OaatGroup', NAMESPACE, name, { metadata: { annotations: { [annotation]: `${value}@${new Date(loop.now()).toISOString()}` } } });
  });
  times(2, 'type-change', () => {
    if (server.peek('OaatType', NAMESPACE, 'job') === undefined) return;
    inject('type-change', 'OaatType deleted for a while');
    server.delete('OaatType', NAMESPACE, 'job');
    loop.schedule(loop.uniform(1_000, 60_000), 'user: re-create the OaatType', () => {
      if (server.peek('OaatType', NAMESPACE, 'job') === undefined) server.create('OaatType', typeManifest(grace), 'user');
    });
  });
  times(2, 'foreign-pod', () => {
    const name = loop.pick([...manifests.keys()]);
    inject('foreign-pod', name);
    const pod: V1Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${name}-foreign-${String(loop.stepsRun)}`,
        namespace: NAMESPACE,
        labels: { [LABELS.app]: APP_LABEL_VALUE, [LABELS.parentName]: name, [LABELS.itemName]: 'item-0' },
      },
      spec: { containers: [{ name: 'main', image: 'busybox' }] },
    };
    server.create('Pod', pod, 'user');
  });
  const hidden = new Set<string>();
  times(1, 'hide-pod', () => {
    const pods = livePods().filter((p) => p.metadata?.labels?.[LABELS.runId] !== undefined);
    if (pods.length === 0) return;
    const pod = loop.pick(pods);
    inject('hide-pod', pod.metadata?.name ?? '');
    hidden.add(pod.metadata?.name ?? '');
    server.patch('Pod', NAMESPACE, pod.metadata?.name ?? '', { metadata: { labels: { [LABELS.app]: 'hidden' } } });
  });
  times(1, 'refused-create', () => {
    const name = loop.pick([...manifests.keys()]);
    inject('refused-create', `pods of ${name} refused for 6 minutes`);
    const until = loop.now() + 6 * 60_000;
    server.admission = (pod) =>
      !quiet && loop.now() < until && pod.metadata?.labels?.[LABELS.parentName] === name ? 'exceeded quota: pods, requested: pods=1, limited: pods=0' : undefined;
  });
  if (faults.has('kubelet-skew')) inject('kubelet-skew', 'kubelet clock skewed');
  if (faults.has('long-grace')) inject('long-grace', 'pods have a 600 s grace period');
  if (faults.has('two-replicas')) inject('two-replicas', 'two active replicas');
  for (const kind of ['crash-after-send', 'lost-response', 'transient-error', 'held-create'] as const) {
    if (faults.has(kind)) inject(kind, 'network fault on');
  }

  options.script?.({
    loop,
    server,
    namespace: NAMESPACE,
    replicas,
    at: (atMs, label, action) => {
      loop.schedule(atMs, label, action);
    },
    lagWatches: (untilMs, lagMs, kinds) => {
      lagUntil.at = startedAt + untilMs;
      lagUntil.ms = lagMs;
      lagUntil.kinds = kinds;
    },
  });

  // --- quiet period: every replica up, no faults, groups runnable
  loop.schedule(quietAt, 'quiet: faults stop', () => {
    quiet = true;
    lagUntil.at = 0;
    for (const [name, manifest] of manifests) {
      if (server.peek('OaatGroup', NAMESPACE, name) === undefined) server.create('OaatGroup', manifest, 'user');
      else server.patch('OaatGroup', NAMESPACE, name, { spec: { paused: false } });
    }
    if (server.peek('OaatType', NAMESPACE, 'job') === undefined) server.create('OaatType', typeManifest(grace), 'user');
    if (mode === 'lease' && !replicas.some((r) => r.active && r.alive)) {
      const standby = replicas.find((r) => r.alive);
      standby?.activate();
    }
  });

  await loop.run({
    until: loop.now() + endAt,
    maxSteps: options.maxSteps ?? 20_000,
    afterStep: () => {
      oracle.check();
    },
  });
  // A group whose claimed pod a user hid cannot run (its pod may still be live): that is right.
  oracle.finish(startedAt + quietAt, (group) => {
    const run = group.status?.currentRun;
    return (group.spec?.oaatItems ?? []).length > 0 && !(run !== undefined && run !== null && hidden.has(run.podName));
  }, hidden);
  const coverage = new Map<FaultKind, Set<ProtocolStep>>();
  for (const kind of injected.keys()) coverage.set(kind, new Set(oracle.steps.keys()));
  return {
    seed,
    mode,
    faults: [...faults],
    violations: [...oracle.violations, ...loop.misuse.slice(0, 1)],
    hash: loop.hash(),
    steps: loop.stepsRun,
    virtualMs: loop.now() - startedAt,
    trace: loop.recentTrace(),
    coverage,
    server,
    requests,
  };
}
