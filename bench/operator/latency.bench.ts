/**
 * End-to-end benchmark of the built operator (`dist/`) on a local T1 control plane of its own,
 * with an audit log. BENCH_GROUPS groups; every item pod is told to succeed once it runs, when
 * the mode (BENCH_MODE) says:
 * - `burst` (default): BENCH_ITEMS items a group, frequency 1s; every pod succeeds at once and
 *   every group runs BENCH_RUNS_PER_GROUP times, all at once (a worst-case burst).
 *   Hand-over latency: from a pod seen Succeeded to the next pod of its group seen ADDED.
 * - `steady`: BENCH_ITEMS items a group, frequency 1s; a pod runs GROUPS / BENCH_RATE seconds,
 *   so the groups together complete BENCH_RATE runs a second. Each group's first pod is held
 *   until every group's first pod runs (the creation burst is not measured), then the first
 *   pods end one after another, evenly over one run's length. Measured over the
 *   BENCH_DURATION_SECONDS that follow: hand-over latency of the successes in that window, and
 *   the completion rate achieved. Every later item is eligible at hand-over: (items - 1) runs
 *   must last longer than the frequency.
 * - `eligible`: one item a group, frequency BENCH_FREQUENCY; pods succeed at once, the first
 *   ones spread evenly over one frequency, so eligibility instants spread too. Latency from the
 *   item becoming eligible by the planner's rule (selection-policy.ts: strictly after
 *   `last_success + frequency`, i.e. at +1 ms, with `last_success` as the group's status
 *   records it) to its next pod: seen ADDED by the benchmark's watcher (`seen`) and by the
 *   pod's creationTimestamp (`creationTimestamp`), for the eligibility instants in a window of
 *   BENCH_DURATION_SECONDS that opens once the first pods have ended. `last_success` is the container's finishedAt, which the API keeps
 *   in whole seconds: the eligibility instant is the planner's own, exactly, but can be up to
 *   1 s earlier than (true finish + frequency); creationTimestamp is whole seconds too, so its
 *   figures read up to 1 s low; `seen` adds the watch's delivery (milliseconds here).
 * All modes also report:
 * - the operator's API requests per run, by verb, resource and answer, from kube-apiserver's
 *   audit log (the operator's user agent), and the TCP connections it opened (through a
 *   counting pass-through in front of kube-apiserver); over the whole burst, or over the
 *   window, per run completed in it;
 * - idle: the groups' frequency is then raised to 1h and, once no pod has been created for 10 s
 *   and the operator has sent nothing for 5 s (how long that took after the last run: settled),
 *   the operator's requests and connections in BENCH_IDLE_SECONDS (only Lease renewals, and
 *   none here: leader election is off, should remain);
 * - memory from the operator's own metrics: RSS peak while running and at idle, heap used;
 * - the runs the operator closed, by outcome (oaat_runs_closed_total; a `Lost` is a run given up);
 * - the operator's own share of a hand-over as it measures it: from the watch event showing a
 *   run's pod ended to the close sent (oaat_run_close_delay_seconds, quantiles interpolated
 *   within its buckets, and the share within 100 ms, a bucket bound: exact);
 * - burst: the first wave (every group's first hand-over): how long KWOK took to end its pods
 *   and the operator to close them, the API server's writes a second meanwhile, and the cores
 *   each process (operator, kube-apiserver, etcd, KWOK, the benchmark) used meanwhile;
 * - the operator's CPU per run (process_cpu_seconds_total over the span the requests count);
 *   with BENCH_CPU_PROFILE=1 also its CPU profile over its whole run, top frames by self time.
 *
 * Run: npm run bench:operator. Knobs (defaults): BENCH_MODE (burst), BENCH_GROUPS (50),
 * BENCH_ITEMS (3; eligible: always 1), BENCH_RUNS_PER_GROUP (BENCH_ITEMS; burst),
 * BENCH_RATE (20 completions/s; steady), BENCH_FREQUENCY (30s; eligible, below the operator's
 * 60 s requeue cap so that the cap's wake-ups do not stand in for the eligibility wake-up),
 * BENCH_DURATION_SECONDS (120; steady, eligible), BENCH_IDLE_SECONDS (30),
 * BENCH_KWOK_PARALLELISM (pods KWOK ends at once; default KWOK's 4, about 100 pods a second
 * here: a burst then reaches the operator at that pace). Extra OAAT_* settings pass through
 * to the operator.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Watch, type KubeConfig, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import { frequencyMs } from '../../src/api/v1/defaults.ts';
import type { ApiClient } from '../../src/runtime/client.ts';
import type { OaatGroup } from '../../src/api/v1/types.ts';
import { epochMs } from '../../src/services/pod-outcome.ts';
import { TestCluster } from '../../test/support/cluster.ts';
import { startControlPlane, stopControlPlane } from '../../test/support/control-plane.ts';
import { CountingPassThrough } from '../../test/support/counting-pass-through.ts';
import { keepCpuProfile } from './cpu-profile-summary.ts';
import { CONFIGMAPS } from '../../test/support/resource-types.ts';
import { auditMark, benchClient, BenchOperator, ProcessCpu, benchNamespace, histogramSummary, inParallel, isOperator, latencySummary, mib, operatorRequests, readAudit, tellToSucceed, type AuditEvent, type HistogramCounts } from './harness.ts';

const MODES = ['burst', 'steady', 'eligible'] as const;
type Mode = (typeof MODES)[number];

function knob(name: string, fallback: number, check: (value: number) => boolean = (value) => value > 0): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || !check(value)) throw new Error(`${name}=${String(process.env[name])} is not a usable value`);
  return value;
}
const positiveInteger = (value: number): boolean => Number.isInteger(value) && value > 0;

const MODE = (process.env.BENCH_MODE ?? 'burst') as Mode;
if (!MODES.includes(MODE)) throw new Error(`BENCH_MODE=${MODE}: one of ${MODES.join(', ')}`);
const GROUPS = knob('BENCH_GROUPS', 50, positiveInteger);
const ITEMS = MODE === 'eligible' ? 1 : knob('BENCH_ITEMS', 3, positiveInteger);
// One run per item: each hand-over then finds a never-run item eligible at once.
const RUNS_PER_GROUP = knob('BENCH_RUNS_PER_GROUP', ITEMS, positiveInteger);
const IDLE_SECONDS = knob('BENCH_IDLE_SECONDS', 30, (value) => value >= 0);
const RATE = knob('BENCH_RATE', 20);
const DURATION_MS = knob('BENCH_DURATION_SECONDS', 120) * 1000;
const FREQUENCY = MODE === 'eligible' ? (process.env.BENCH_FREQUENCY ?? '30s') : '1s';
const FREQUENCY_MS = frequencyMs({ frequency: FREQUENCY });
/** Steady mode: how long each pod runs. */
const RUN_MS = (GROUPS / RATE) * 1000;
if (MODE === 'steady' && (ITEMS - 1) * RUN_MS <= FREQUENCY_MS + 1000) {
  throw new Error(`steady: with ${String(ITEMS)} items of ${String(RUN_MS)} ms runs the next item may not be eligible at hand-over; raise BENCH_ITEMS or BENCH_GROUPS / BENCH_RATE`);
}
/** Profile the operator's CPU (its whole run) and report the top frames. */
const CPU_PROFILE = process.env.BENCH_CPU_PROFILE === '1';
/** How long the benchmark waits for what must come, at most. */
const PATIENCE_MS = 1_800_000;

/** Resolves with `promise`, or throws once `ms` have passed. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  const timeout = new AbortController();
  try {
    return await Promise.race([
      promise,
      sleep(ms, undefined, { signal: timeout.signal }).then(() => {
        throw new Error(`benchmark: ${what} did not happen in ${String(ms / 1000)} s`);
      }),
    ]);
  } finally {
    timeout.abort();
  }
}

/**
 * Watches `path` while the benchmark runs. A watch that ends is started again from the last
 * resourceVersion seen, so no event is lost or repeated: client-node's Watch ends after 30 s
 * without an event, and a new CRD's first watches meet 429 until its watch cache is ready. After
 * an ERROR event (410: that resourceVersion is gone) it lists again: `onEvent` must take an
 * ADDED it has seen before.
 */
function watchAlways(kubeConfig: KubeConfig, path: string, onEvent: (type: string, object: KubernetesObject) => void): void {
  let resourceVersion: string | undefined;
  const watch = (): void => {
    void new Watch(kubeConfig).watch(path, { allowWatchBookmarks: true, resourceVersion }, (type: string, object: KubernetesObject) => {
      if (type === 'ERROR') {
        console.error(`benchmark: watch of ${path} from ${String(resourceVersion)} failed, listing again: ${JSON.stringify(object)}`);
        resourceVersion = undefined;
        return;
      }
      resourceVersion = object.metadata?.resourceVersion ?? resourceVersion;
      if (type !== 'BOOKMARK') onEvent(type, object);
    }, () => setTimeout(watch, 200));
  };
  watch();
}

/**
 * When the pods end. `spreadMs`: each group's first pod is held until every group's first pod
 * runs; then the k-th of them (k = 1..GROUPS, in the order they ran) succeeds k/GROUPS of this
 * later (0: each at once, without waiting for the others). `runMs`: every later pod succeeds
 * this long after it was seen Running (0: at once).
 */
interface Schedule {
  spreadMs: number;
  runMs: number;
}

/** A pod seen created after its group's previous pod was seen Succeeded. */
interface HandOver {
  group: string;
  /** The group's pod that succeeded. */
  succeeded: string;
  /** Epoch ms: the previous pod seen Succeeded, and this one seen ADDED. */
  succeededAt: number;
  addedAt: number;
  /** Epoch ms: this pod's creationTimestamp (whole seconds). */
  createdAt: number;
}

/**
 * Watches the benchmark's pods, tells each one to succeed when the schedule says, and records
 * what the watch shows (epoch ms of the benchmark's clock, which the control plane shares).
 */
class PodDriver {
  readonly handOvers: HandOver[] = [];
  /** The same, by group. */
  readonly handOversOf = new Map<string, HandOver[]>();
  /** Every success seen, in order. */
  readonly successes: { group: string; at: number }[] = [];
  /** Pods seen ADDED so far. */
  added = 0;
  /** Resolves when every group's first pod runs, with that time. */
  readonly allRunning: Promise<number>;
  private readonly seen = new Set<string>();
  private readonly live = new Set<string>();
  private readonly told = new Set<string>();
  private readonly recorded = new Set<string>();
  private readonly succeededAt = new Map<string, { at: number; pod: string }>();
  private readonly firstHeld: string[] = [];
  private readonly groupsRunning = new Set<string>();
  private readonly waiters = new Set<() => void>();
  private startedAll!: (at: number) => void;
  private readonly client: ApiClient;

  constructor(
    private readonly cluster: TestCluster,
    private readonly namespace: string,
    public schedule: Schedule,
  ) {
    this.client = benchClient(cluster);
    this.allRunning = new Promise((resolve) => (this.startedAll = resolve));
  }

  watch(): void {
    watchAlways(this.cluster.kubeConfig, `/api/v1/namespaces/${this.namespace}/pods`, (type: string, pod: V1Pod) => {
      this.observe(type, pod);
      for (const waiter of this.waiters) waiter();
    });
  }

  /** Pods seen ADDED and neither terminal nor deleted yet. */
  get livePods(): number {
    return this.live.size;
  }

  /** Resolves once `condition` holds, checked now and after each pod event. */
  async until(condition: () => boolean, what: string, ms = PATIENCE_MS): Promise<void> {
    if (condition()) return;
    let waiter = (): void => undefined;
    try {
      await within(new Promise<void>((resolve) => {
        waiter = () => { if (condition()) resolve(); };
        this.waiters.add(waiter);
      }), ms, what);
    } finally {
      this.waiters.delete(waiter);
    }
  }

  private observe(type: string, pod: V1Pod): void {
    const group = pod.metadata?.labels?.['parent-name'] ?? '';
    const name = pod.metadata?.name ?? '';
    const phase = pod.status?.phase;
    const now = Date.now();
    if (type === 'ADDED' && !this.seen.has(name)) {
      this.seen.add(name);
      this.added++;
      this.live.add(name);
      const succeeded = this.succeededAt.get(group);
      this.succeededAt.delete(group);
      if (succeeded !== undefined) {
        const handOver = { group, succeeded: succeeded.pod, succeededAt: succeeded.at, addedAt: now, createdAt: epochMs(pod.metadata?.creationTimestamp) ?? Number.NaN };
        this.handOvers.push(handOver);
        const ofGroup = this.handOversOf.get(group) ?? [];
        if (ofGroup.length === 0) this.handOversOf.set(group, ofGroup);
        ofGroup.push(handOver);
      }
    }
    if (type === 'DELETED' || phase === 'Succeeded' || phase === 'Failed') this.live.delete(name);
    if (phase === 'Running' && !this.told.has(name)) {
      this.told.add(name);
      this.scheduleSuccess(group, name, now);
    }
    if (phase === 'Succeeded' && this.told.has(name) && !this.recorded.has(name)) {
      this.recorded.add(name);
      this.succeededAt.set(group, { at: now, pod: name });
      this.successes.push({ group, at: now });
    }
  }

  private scheduleSuccess(group: string, name: string, now: number): void {
    const { spreadMs, runMs } = this.schedule;
    if (this.groupsRunning.has(group)) {
      this.tell(name, runMs === 0 ? undefined : now + runMs);
      return;
    }
    this.groupsRunning.add(group);
    if (spreadMs === 0) this.tell(name);
    else this.firstHeld.push(name);
    if (this.groupsRunning.size < GROUPS) return;
    this.firstHeld.forEach((held, k) => {
      this.tell(held, now + (spreadMs * (k + 1)) / GROUPS);
    });
    this.startedAll(now);
  }

  /** Tells KWOK to end the pod with success at `at` (epoch ms), or at once. */
  private tell(name: string, at?: number): void {
    tellToSucceed(this.client, this.namespace, name, at).catch((error: unknown) => {
      console.error(`benchmark: could not tell pod ${name} to succeed: ${String(error)}`);
    });
  }
}

/** A group's item success as its status records it, and the status's own nextEligibleAt. */
interface Close {
  group: string;
  /** Epoch ms, parsed from the status: the item's last_success and the group's nextEligibleAt. */
  lastSuccess: number;
  nextEligibleAt: number;
  /** Epoch ms: when the benchmark saw it. */
  seenAt: number;
}

/** Records every new `last_success` the operator writes into a group's status. */
function watchCloses(cluster: TestCluster, namespace: string): Close[] {
  const closes: Close[] = [];
  const seen = new Map<string, string>();
  watchAlways(cluster.kubeConfig, `/apis/kawaja.net/v1/namespaces/${namespace}/oaatgroups`, (_type: string, group: OaatGroup) => {
    const name = group.metadata?.name ?? '';
    for (const [item, status] of Object.entries(group.status?.items ?? {})) {
      const lastSuccess = status?.last_success;
      const key = `${name}/${item}`;
      if (lastSuccess === undefined || seen.get(key) === lastSuccess) continue;
      seen.set(key, lastSuccess);
      closes.push({ group: name, lastSuccess: Date.parse(lastSuccess), nextEligibleAt: Date.parse(group.status?.nextEligibleAt ?? ''), seenAt: Date.now() });
    }
  });
  return closes;
}

/** Where the audit log (its size) and the connection count stood, and when. */
interface Mark {
  auditBytes: number;
  connections: number;
  /** The operator's CPU seconds so far. */
  cpuSeconds: number;
  /** Its `oaat_run_close_delay_seconds` so far. */
  closeDelay: HistogramCounts;
  at: number;
}

interface Measured {
  /** The report's mode-specific fields, first in the output. */
  report: Record<string, unknown>;
  /** Runs completed between the two marks: the requests are counted per run. */
  runs: number;
  from: Mark;
  to: Mark;
}

interface Bench {
  driver: PodDriver;
  auditLog: string;
  /** Writes a second the API server took in the probe before the operator started. */
  writeProbe: number;
  closes: Close[];
  mark: () => Promise<Mark>;
  /** The mark taken just before the groups were applied (burst counts from the operator's start). */
  applied: Mark;
  cpu: ProcessCpu;
}

/**
 * Every group runs RUNS_PER_GROUP times: the first pods are held until all run and then end
 * together, the later ones at once. Besides the hand-over latency, from the audit log (the API
 * server's clock): the operator's share of each hand-over, from the status write that ended the pod
 * (Succeeded) to the operator's next status write of the group arriving; and the write
 * throughput of the burst against the API server's own (a probe before the operator started).
 */
async function burst({ driver, mark, applied, auditLog, writeProbe, cpu }: Bench): Promise<Measured> {
  const runs = new Map<string, number>();
  let counted = 0;
  let done = 0;
  await driver.until(() => {
    for (; counted < driver.successes.length; counted++) {
      const group = driver.successes[counted]?.group ?? '';
      const count = (runs.get(group) ?? 0) + 1;
      runs.set(group, count);
      if (count === RUNS_PER_GROUP) done++;
    }
    return done === GROUPS;
  }, 'the burst');
  const to = await mark();
  const totalRuns = GROUPS * RUNS_PER_GROUP;
  return {
    report: {
      groups: GROUPS,
      itemsPerGroup: ITEMS,
      runs: totalRuns,
      elapsedSeconds: Number(((to.at - applied.at) / 1000).toFixed(1)),
      handOverMs: latencySummary(driver.handOvers.map((h) => h.addedAt - h.succeededAt)),
      ...burstAnalysis(readAudit(auditLog, applied.auditBytes, to.auditBytes), driver.handOvers, writeProbe, cpu),
    },
    runs: totalRuns,
    from: { ...applied, auditBytes: 0 },
    to,
  };
}

/**
 * The window both timed modes measure: it opens `warmUpMs` after every group's first pod runs
 * and lasts BENCH_DURATION_SECONDS; then waits (at most PATIENCE_MS) until `settled(from, to)`
 * holds: what happened in the window has had its sequel.
 */
async function window({ driver, mark }: Bench, warmUpMs: number, settled: (from: number, to: number) => boolean): Promise<{ from: Mark; to: Mark; runs: number }> {
  const opened = (await within(driver.allRunning, PATIENCE_MS, 'every group\'s first pod running')) + warmUpMs;
  const sleepUntil = (at: number): Promise<void> => sleep(Math.max(0, at - Date.now()));
  await sleepUntil(opened);
  const from = { ...(await mark()), at: opened };
  console.error(`benchmark: measuring for ${String(DURATION_MS / 1000)} s`);
  await sleepUntil(opened + DURATION_MS);
  const to = await mark();
  await driver.until(() => settled(from.at, to.at), 'the window\'s last hand-overs');
  const runs = driver.successes.filter(({ at }) => at >= from.at && at < to.at).length;
  return { from, to, runs };
}

/** Completions spread evenly at RATE a second; hand-overs of the successes in the window. */
async function steady(bench: Bench): Promise<Measured> {
  const { driver } = bench;
  const handOversIn = (from: number, to: number): HandOver[] => driver.handOvers.filter((h) => h.succeededAt >= from && h.succeededAt < to);
  const successesIn = (from: number, to: number): number => driver.successes.filter(({ at }) => at >= from && at < to).length;
  const { from, to, runs } = await window(bench, 0, (start, end) => handOversIn(start, end).length === successesIn(start, end));
  const handOvers = handOversIn(from.at, to.at);
  return {
    report: {
      mode: MODE,
      groups: GROUPS,
      itemsPerGroup: ITEMS,
      targetRatePerSecond: RATE,
      runSeconds: RUN_MS / 1000,
      windowSeconds: DURATION_MS / 1000,
      completions: runs,
      achievedRatePerSecond: Number((runs / (DURATION_MS / 1000)).toFixed(2)),
      handOverMs: latencySummary(handOvers.map((h) => h.addedAt - h.succeededAt)),
    },
    runs,
    from,
    to,
  };
}

/**
 * From the item eligible (its group's recorded last_success + frequency + 1 ms) to the group's
 * next pod (the first seen after that last_success), for the eligibility instants in the window.
 * The window opens once the first pods have ended (one frequency), so every run in it is a
 * whole cycle: success, wait, claim, create.
 */
async function eligible(bench: Bench): Promise<Measured> {
  const { driver, closes } = bench;
  const eligibleAt = (close: Close): number => close.lastSuccess + FREQUENCY_MS + 1;
  const closesIn = (from: number, to: number): Close[] => closes.filter((close) => eligibleAt(close) >= from && eligibleAt(close) < to);
  const nextPod = (close: Close): HandOver | undefined => driver.handOversOf.get(close.group)?.find((h) => h.addedAt > close.seenAt);
  const { from, to, runs } = await window(bench, FREQUENCY_MS, (start, end) => closesIn(start, end).every((close) => nextPod(close) !== undefined));
  const measured = closesIn(from.at, to.at);
  const latencies = (of: (h: HandOver) => number): number[] =>
    measured.flatMap((close) => {
      const next = nextPod(close);
      return next === undefined ? [] : [of(next) - eligibleAt(close)];
    });
  return {
    report: {
      mode: MODE,
      groups: GROUPS,
      frequency: FREQUENCY,
      windowSeconds: DURATION_MS / 1000,
      eligibleToPodMs: {
        seen: latencySummary(latencies((h) => h.addedAt)),
        creationTimestamp: latencySummary(latencies((h) => h.createdAt)),
      },
      // Whether the status's own nextEligibleAt is the instant computed from last_success.
      nextEligibleAtAgrees: `${String(measured.filter((close) => close.nextEligibleAt === eligibleAt(close)).length)}/${String(measured.length)}`,
      // Recorded successes with a fraction of a second (0: the status has whole seconds only).
      lastSuccessWithFraction: closes.filter((close) => close.lastSuccess % 1000 !== 0).length,
    },
    runs,
    from,
    to,
  };
}

/** How many writes a second the API server takes: 2,000 ConfigMap creates, 16 at a time (then deleted). */
async function apiServerWrites(cluster: TestCluster, namespace: string): Promise<number> {
  const client = benchClient(cluster);
  const names = Array.from({ length: 2_000 }, (_, i) => `probe-${String(i)}`);
  const started = performance.now();
  await inParallel(names, (name) => client.create(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { a: 'b' } }));
  const perSecond = names.length / ((performance.now() - started) / 1000);
  await inParallel(names, (name) => client.delete(CONFIGMAPS, namespace, name));
  return Math.round(perSecond);
}

/** When a write arrived at the API server and when its response was complete (epoch ms). */
interface Write {
  received: number;
  completed: number;
}

/** The operator's share of each hand-over and the burst's write rate, from the audit events of the burst. */
function burstAnalysis(events: readonly AuditEvent[], handOvers: readonly HandOver[], writeProbe: number, cpu: ProcessCpu): Record<string, unknown> {
  const done = events.filter((event) => event.stage === 'ResponseComplete');
  const podStatusWrites = new Map<string, Write[]>();
  const operatorWrites = new Map<string, Write[]>();
  const append = (to: Map<string, Write[]>, key: string, event: AuditEvent): void => {
    const write = { received: Date.parse(event.requestReceivedTimestamp ?? ''), completed: Date.parse(event.stageTimestamp ?? '') };
    const list = to.get(key);
    if (list === undefined) to.set(key, [write]);
    else list.push(write);
  };
  for (const event of done) {
    const { resource, subresource, name = '' } = event.objectRef ?? {};
    if (resource === 'pods' && subresource === 'status' && !isOperator(event)) append(podStatusWrites, name, event);
    if (resource === 'oaatgroups' && subresource === 'status' && isOperator(event)) append(operatorWrites, name, event);
  }
  // The write that ended the pod is the last one that arrived before the benchmark saw the pod
  // Succeeded (its watch event may come before the write's own response is complete; a later
  // write, e.g. KWOK's, must not count). The share runs from that write's completion to the
  // arrival of the operator's first status write of the group that arrived after it.
  const timed = handOvers.flatMap((handOver) => {
    const ended = podStatusWrites.get(handOver.succeeded)?.filter((write) => write.received <= handOver.succeededAt).at(-1);
    const close = ended === undefined ? undefined : operatorWrites.get(handOver.group)?.find((write) => write.received > ended.received);
    return ended === undefined || close === undefined ? [] : [{ handOver, ended: ended.completed, closed: close.received }];
  });
  // The first wave: every group's first hand-over, the pods held until all ran and then ended together.
  const firstOf = new Map<string, (typeof timed)[number]>();
  for (const t of timed) if ((firstOf.get(t.handOver.group)?.handOver.succeededAt ?? Infinity) > t.handOver.succeededAt) firstOf.set(t.handOver.group, t);
  const wave = [...firstOf.values()];
  const from = Math.min(...wave.map((t) => t.ended));
  const to = Math.max(...wave.map((t) => t.closed));
  const seconds = (ms: number): number => Number((ms / 1000).toFixed(1));
  const writes = done.filter((event) => {
    const at = Date.parse(event.stageTimestamp ?? '');
    return ['create', 'update', 'patch', 'delete'].includes(event.verb) && at >= from && at <= to;
  }).length;
  return {
    operatorShareMs: latencySummary(timed.map((t) => Math.max(0, t.closed - t.ended))),
    // Of that share, the API server's own: from the write that ended the pod to the benchmark's
    // watch seeing it (the operator's watch sees it about then too).
    watchDeliveryMs: latencySummary(timed.map((t) => Math.max(0, t.handOver.succeededAt - t.ended))),
    firstWave: {
      handOvers: wave.length,
      // From the first pod of the wave ended to the last one (KWOK's pace) and to the last close.
      podsEndedWithinSeconds: seconds(Math.max(...wave.map((t) => t.ended)) - from),
      closedWithinSeconds: seconds(to - from),
      closesPerSecond: Math.round(wave.length / ((to - from) / 1000)),
      // Every write the API server completed meanwhile (the operator's, KWOK's, the benchmark's).
      apiServerWritesPerSecond: Math.round(writes / ((to - from) / 1000)),
      // Who had the machine's cores meanwhile: cores each process used on average.
      coresUsed: { of: os.cpus().length, ...cpu.coresBetween(from, to) },
    },
    // What the API server takes alone: ConfigMap creates, 16 at a time, before the operator started.
    apiServerWriteCapacityPerSecond: writeProbe,
  };
}

const MEASURE: Record<Mode, (bench: Bench) => Promise<Measured>> = { burst, steady, eligible };
const SCHEDULE: Record<Mode, Schedule> = {
  // The first pods are held until all run, then end together: a simultaneous burst of hand-overs.
  burst: { spreadMs: 1, runMs: 0 },
  steady: { spreadMs: RUN_MS, runMs: RUN_MS },
  eligible: { spreadMs: FREQUENCY_MS, runMs: 0 },
};

const stateDir = mkdtempSync(path.join(os.tmpdir(), 'oaat-bench-'));
const KWOK_PARALLELISM = process.env.BENCH_KWOK_PARALLELISM;
const info = startControlPlane({
  stateDir,
  tier: 'T1',
  ownerPid: process.pid,
  audit: true,
  ...(KWOK_PARALLELISM !== undefined && { kwokPodParallelism: Number(KWOK_PARALLELISM) }),
});
const cluster = new TestCluster(info);
const { counter, kubeconfig } = await CountingPassThrough.inFrontOf(info.kubeconfig);
let operator: BenchOperator | undefined;
let cpu: ProcessCpu | undefined;
try {
  const namespace = await benchNamespace(cluster);
  const driver = new PodDriver(cluster, namespace, SCHEDULE[MODE]);
  driver.watch();
  const closes = MODE === 'eligible' ? watchCloses(cluster, namespace) : [];

  // Succeeded pods are kept (1 per group) as by default; items stay eligible immediately.
  const writeProbe = MODE === 'burst' ? await apiServerWrites(cluster, namespace) : Number.NaN;
  const profiles = path.join(stateDir, 'cpu');
  const running = await BenchOperator.start(kubeconfig, namespace, {}, CPU_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profiles}`] : []);
  operator = running;
  cpu = new ProcessCpu(new Map([...ProcessCpu.controlPlanePids(stateDir), ['operator', running.process.pid ?? 0], ['benchmark', process.pid]]));

  const auditLog = info.auditLog ?? '';
  const mark = async (): Promise<Mark> => ({
    auditBytes: auditMark(auditLog),
    connections: counter.accepted,
    cpuSeconds: await running.metric('process_cpu_seconds_total'),
    closeDelay: await running.histogram('oaat_run_close_delay_seconds'),
    at: Date.now(),
  });
  const applied = await mark();
  const groups = Array.from({ length: GROUPS }, (_, g) => ({
    apiVersion: 'kawaja.net/v1',
    kind: 'OaatGroup',
    metadata: { name: `group-${String(g)}` },
    spec: { frequency: FREQUENCY, oaatType: 'runner', oaatItems: Array.from({ length: ITEMS }, (_, i) => `item-${String(i)}`) },
  }));
  await cluster.apply(groups, namespace);
  const measured = await MEASURE[MODE]({ driver, closes, mark, applied, auditLog, writeProbe, cpu });
  const runRequests = operatorRequests(readAudit(auditLog, measured.from.auditBytes, measured.to.auditBytes));

  // Idle: nothing is eligible for an hour (never-run items still run once, at once); once no
  // pod runs and none has been created for 10 s, count what is still sent.
  driver.schedule = { spreadMs: 0, runMs: 0 };
  await cluster.apply(groups.map((group) => ({ ...group, spec: { ...group.spec, frequency: '1h' } })), namespace);
  let added: number;
  do {
    await driver.until(() => driver.livePods === 0, 'the last runs ending', RUN_MS + 60_000);
    added = driver.added;
    await sleep(10_000);
  } while (added !== driver.added);
  // And until the operator's tail is sent: retention deletes, on a lane with a limit of its own,
  // may trail the last closes (watches aside, which stay open).
  const lastRunsEnded = Date.now() - 10_000;
  for (let quietFrom = auditMark(auditLog); ; quietFrom = auditMark(auditLog)) {
    await sleep(5_000);
    if (![...operatorRequests(readAudit(auditLog, quietFrom)).keys()].some((key) => !key.startsWith('watch '))) break;
  }
  const settledSeconds = Math.round((Date.now() - 5_000 - lastRunsEnded) / 1000);
  const idleFrom = await mark();
  await sleep(IDLE_SECONDS * 1000);
  const idleRequests = operatorRequests(readAudit(auditLog, idleFrom.auditBytes));
  const metric = (name: string): Promise<number> => running.metric(name);

  const memoryMiB = { rssPeak: mib(running.peakRss()), rssIdle: mib(await metric('process_resident_memory_bytes')), heapUsedIdle: mib(await metric('nodejs_heap_size_used_bytes')) };
  const eventsDropped = await metric('oaat_events_dropped_total');
  const runsClosed = Object.fromEntries(
    [...(await running.metrics()).matchAll(/^oaat_runs_closed_total\{outcome="(\w+)"\} (\S+)$/gm)].map((match) => [match[1] ?? '', Number(match[2])]),
  );
  // The profile is written when the operator exits (SIGTERM: it shuts down cleanly).
  await running.stop();
  const cpuProfile = CPU_PROFILE ? keepCpuProfile(profiles) : undefined;

  console.log(JSON.stringify({
    ...measured.report,
    requestsPerRun: Object.fromEntries([...runRequests].map(([key, count]) => [key, Number((count / measured.runs).toFixed(2))])),
    connectionsOpened: measured.to.connections - measured.from.connections,
    // In the operator: from the watch event showing a pod ended to the close sent (oaat_run_close_delay_seconds).
    closeDelayMs: histogramSummary(measured.from.closeDelay, measured.to.closeDelay, 100),
    cpuMsPerRun: Math.round(((measured.to.cpuSeconds - measured.from.cpuSeconds) * 1000) / measured.runs),
    idle: {
      // From the last run's end until the operator's last request before the idle window.
      settledAfterSeconds: settledSeconds,
      seconds: IDLE_SECONDS,
      requests: Object.fromEntries(idleRequests),
      connectionsOpened: counter.accepted - idleFrom.connections,
    },
    memoryMiB,
    eventsDropped,
    runsClosed,
    ...(cpuProfile && { cpuProfile }),
  }, null, 2));
} finally {
  operator?.process.kill('SIGKILL');
  cpu?.stop();
  await counter.stop();
  stopControlPlane(stateDir);
}
// The benchmark's own watches would keep the process waiting for a server that is gone (and start again).
process.exit(0);
