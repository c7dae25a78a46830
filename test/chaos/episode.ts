/**
 * One chaos episode: its workload applied in fresh namespaces, the operator started (one or two
 * replicas), the planned faults injected at their moments, then, once they are over, the
 * oracle's questions: did every group make progress again, did the groups go idle without a
 * write, and what did the invariant checker and the audit log see.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import { seededRng, type Rng } from '../../src/services/rng.ts';
import { apiStatus, TEST_FIELD_MANAGER } from '../support/cluster.ts';
import { InvariantChecker } from '../support/invariant-checker.ts';
import { GROUP_API, type GroupView } from '../support/oaat.ts';
import { MERGE_PATCH, podManifest, SIM } from '../support/pods.ts';
import { waitUntil } from '../support/wait.ts';
import { AuditLog, peakRate, podCreates, protocolWrites } from './audit.ts';
import { FAULTS } from './faults.ts';
import { describeFaults, type EpisodePlan, type GroupPlan, type OaatTypePlan } from './plan.ts';
import { confirmationMs, type Profile } from './profiles.ts';
import { ChaosCluster, HARNESS_NODE, hashOf, OPERATOR_USER, PodDriver, Replica, type UnaskedExit } from './world.ts';


/** Marks the pods the harness creates with a group's labels (foreign to the operator). */
const FOREIGN_ANNOTATION = 'chaos.oaat.test/foreign';

export interface EpisodeOptions {
  /** Liveness bounds are multiplied by this (CI's slower machines: 3). */
  livenessFactor: number;
  /** Where a violated episode's plan, logs and audit slice go. */
  artifactsDir: string;
  /** The highest request rate (requests/s over 10 s, all replicas) the operator may reach. */
  maxRequestRate: number;
}

export interface EpisodeResult {
  seed: number;
  profile: string;
  replicas: number;
  faults: string;
  /** What each fault did, in order. */
  notes: string[];
  podsCreated: number;
  violations: string[];
  durationMs: number;
  /** Per process fault: the time from it to a replica becoming leader, its first run write, the next item pod. */
  recoveries: Recovery[];
  /** The operator's peak request rate (requests/s over 10 s). */
  peakRate: number;
  artifacts?: string;
}

export interface Recovery {
  fault: string;
  replicas: number;
  /** To a "became leader" log line (null: none after the fault). */
  leaderMs: number | null;
  /** To the first claim, close or pod create the operator logged. */
  firstWriteMs: number | null;
  /** To the next item pod the harness saw. */
  nextPodMs: number | null;
}

/** Log lines of the operator that mean it wrote a run's state. */
const RUN_WRITES = new Set(['claimed a run', 'closed a run', 'created the run pod']);

interface LiveGroup {
  namespace: string;
  name: string;
  spec: GroupPlan;
}

export class Episode {
  readonly replicas: Replica[] = [];
  private readonly notes: string[] = [];
  private readonly checkers = new Map<string, InvariantChecker>();
  private readonly deletedNamespaces = new Set<string>();
  private readonly groups = new Map<string, LiveGroup>();
  private readonly types = new Map<string, OaatTypePlan>();
  private readonly missingTypes = new Set<string>();
  private readonly started = Date.now();
  private readonly violations: string[] = [];
  private readonly env: Record<string, string>;
  private readonly driver: PodDriver;
  readonly namespaces: string[];

  constructor(
    readonly world: ChaosCluster,
    readonly plan: EpisodePlan,
    readonly profile: Profile,
    private readonly options: EpisodeOptions,
  ) {
    this.namespaces = plan.namespaces.map((n) => `chaos-${String(plan.seed)}-${n.suffix}`);
    plan.namespaces.forEach((n, i) => {
      const namespace = this.namespaces[i] ?? '';
      for (const type of n.types) this.types.set(`${namespace}/${type.name}`, { ...type });
      for (const group of n.groups) this.groups.set(`${namespace}/${group.name}`, { namespace, name: group.name, spec: { ...group, items: [...group.items] } });
    });
    this.env = { ...profile.operatorEnv };
    this.driver = new PodDriver(
      world,
      plan,
      profile,
      new Set(this.namespaces),
      (namespace, name) => {
        const group = this.groups.get(`${namespace}/${name}`)?.spec;
        return { failRate: group?.failRate ?? 0, skewMs: this.types.get(`${namespace}/${group?.type ?? ''}`)?.skewMs ?? 0 };
      },
    );
  }

  /** Adds to the episode's log; `at` is when it happened (default now). */
  private note(text: string, at = Date.now()): void {
    this.notes.push(`+${((at - this.started) / 1000).toFixed(1)}s ${text}`);
  }

  // --- the operator's processes -------------------------------------------------------------

  async kill(index: number): Promise<void> {
    await this.replicas[index]?.kill();
  }

  async restart(index: number): Promise<void> {
    this.replicas[index]?.ensureRunning();
    await Promise.resolve();
  }

  /**
   * A replica exited without being asked to. After losing its lease it must (and is started
   * again, as its Deployment would); any other exit is a crash.
   */
  private onUnaskedExit(replica: Replica, exit: UnaskedExit): void {
    const how = `code ${String(exit.code)}${exit.signal === null ? '' : `, signal ${exit.signal}`}`;
    if (exit.code === 1 && exit.output.includes('"reason":"lost-leadership"')) {
      this.note(`${replica.name} exited after losing its lease (${how}); restarted`);
      return;
    }
    this.violations.push(`crash: ${replica.name} exited by itself (${how}); its last lines:\n    ${exit.lastLines.join('\n    ')}`);
  }

  /** The replica holding the Lease (0 when none or not known). */
  async leaderIndex(): Promise<number> {
    const holder = await this.world.leaseHolder();
    if (holder === undefined) return 0;
    return Math.max(0, this.replicas.findIndex((replica) => replica.isIdentity(holder)));
  }

  leaseSeconds(): number {
    return Number.parseFloat(this.env.OAAT_LEASE_DURATION ?? '15s');
  }

  /** The operator's client timeout of one request (OAAT_REQUEST_TIMEOUT, default 30 s). */
  requestTimeoutMs(): number {
    return Number.parseFloat(this.env.OAAT_REQUEST_TIMEOUT ?? '30s') * 1000;
  }

  // --- the workload -------------------------------------------------------------------------

  liveNamespaces(): string[] {
    return this.namespaces.filter((n) => !this.deletedNamespaces.has(n));
  }

  pickGroup(rng: Rng): LiveGroup | undefined {
    const live = [...this.groups.values()].filter((g) => !this.deletedNamespaces.has(g.namespace));
    return live[Math.floor(rng.next() * live.length)];
  }

  groupSpec(namespace: string, name: string): GroupPlan | undefined {
    return this.groups.get(`${namespace}/${name}`)?.spec;
  }

  private typeManifest(namespace: string, type: OaatTypePlan): KubernetesObject {
    const node = type.node === 'harness' ? HARNESS_NODE : this.world.info.node;
    return {
      apiVersion: 'kawaja.net/v1',
      kind: 'OaatType',
      metadata: { name: type.name, namespace },
      spec: {
        type: 'pod',
        podspec: {
          nodeName: node,
          terminationGracePeriodSeconds: type.graceSeconds,
          container: { name: 'main', image: 'oaat.invalid/chaos:never-pulled', command: ['run', '%%oaat_item%%'] },
        },
      },
    } as KubernetesObject;
  }

  private groupManifest(namespace: string, group: GroupPlan): KubernetesObject {
    return {
      apiVersion: 'kawaja.net/v1',
      kind: 'OaatGroup',
      metadata: { name: group.name, namespace },
      spec: {
        frequency: group.frequency,
        oaatType: group.type,
        oaatItems: group.items,
        ...(group.failureCoolOff !== undefined && { failureCoolOff: group.failureCoolOff }),
      },
    } as KubernetesObject;
  }

  async createType(namespace: string, name: string): Promise<void> {
    const type = this.types.get(`${namespace}/${name}`);
    if (type === undefined || this.deletedNamespaces.has(namespace)) return;
    await this.createInNamespace(namespace, this.typeManifest(namespace, type));
    this.missingTypes.delete(`${namespace}/${name}`);
  }

  /**
   * Creates a namespaced object the harness restores or adds. Already there (two overlapping
   * faults: the first restore wins) and the namespace deleted meanwhile by another fault
   * (404, or 403 while it terminates) are fine.
   */
  private async createInNamespace(namespace: string, object: KubernetesObject): Promise<void> {
    await this.world.cluster.objects.create(object).catch((error: unknown) => {
      const status = apiStatus(error);
      if (status === 409 || (this.deletedNamespaces.has(namespace) && (status === 403 || status === 404))) return;
      throw error;
    });
  }

  async deleteType(namespace: string, name: string): Promise<void> {
    this.missingTypes.add(`${namespace}/${name}`);
    await this.world.cluster.custom.deleteNamespacedCustomObject({ ...GROUP_API, namespace, plural: 'oaattypes', name }).catch(() => undefined);
  }

  /** A type of the namespace other than `current` (a copy of it is made when there is none). */
  async otherType(namespace: string, current: string): Promise<string> {
    const other = [...this.types.entries()].find(([key, type]) => key.startsWith(`${namespace}/`) && type.name !== current && !this.missingTypes.has(key));
    if (other !== undefined) return other[1].name;
    const base = this.types.get(`${namespace}/${current}`);
    const copy: OaatTypePlan = { ...(base ?? { node: 'kwok', graceSeconds: 0, skewMs: 0 }), name: `${current}-alt` };
    if (!this.types.has(`${namespace}/${copy.name}`)) {
      this.types.set(`${namespace}/${copy.name}`, copy);
      await this.createInNamespace(namespace, this.typeManifest(namespace, copy));
    }
    return copy.name;
  }

  async createGroup(namespace: string, name: string): Promise<void> {
    const group = this.groups.get(`${namespace}/${name}`);
    if (group === undefined) return;
    await waitUntil(
      () => this.world.cluster.objects.create(this.groupManifest(namespace, group.spec)).then(() => true, (error: unknown) => apiStatus(error) !== 409),
      (created) => created,
      { what: `group ${namespace}/${name} to be created again`, timeoutMs: 30_000, intervalMs: 100 },
    );
  }

  async deleteGroup(namespace: string, name: string): Promise<void> {
    await this.world.cluster.custom.deleteNamespacedCustomObject({ ...GROUP_API, namespace, plural: 'oaatgroups', name }).catch(() => undefined);
  }

  async patchGroupSpec(namespace: string, name: string, spec: Record<string, unknown>): Promise<void> {
    await this.world.cluster.custom
      .patchNamespacedCustomObject({ ...GROUP_API, namespace, plural: 'oaatgroups', name, body: { spec }, fieldManager: TEST_FIELD_MANAGER }, MERGE_PATCH)
      .catch(() => undefined);
  }

  async setItems(namespace: string, name: string, items: string[]): Promise<void> {
    const group = this.groups.get(`${namespace}/${name}`);
    if (group !== undefined) group.spec.items = items;
    await this.patchGroupSpec(namespace, name, { oaatItems: items });
  }

  async readGroups(): Promise<GroupView[]> {
    const lists = await Promise.all(
      this.liveNamespaces().map((namespace) =>
        this.world.cluster.custom.listNamespacedCustomObject({ ...GROUP_API, namespace, plural: 'oaatgroups' }).then(
          (list) => (list as { items: GroupView[] }).items,
          () => [],
        ),
      ),
    );
    return lists.flat();
  }

  async runningItems(): Promise<{ namespace: string; group: string; item: string }[]> {
    return (await this.readGroups()).flatMap((group) => {
      const run = group.status?.currentRun;
      return run ? [{ namespace: group.metadata?.namespace ?? '', group: group.metadata?.name ?? '', item: run.item }] : [];
    });
  }

  async operatorPods(): Promise<V1Pod[]> {
    const lists = await Promise.all(
      this.liveNamespaces().map((namespace) =>
        this.world.cluster.core.listNamespacedPod({ namespace, labelSelector: 'oaat.kawaja.net/run-id' }).then(
          (list) => list.items,
          () => [],
        ),
      ),
    );
    return lists.flat();
  }

  async deletePod(pod: V1Pod, gracePeriodSeconds: number | undefined): Promise<void> {
    const namespace = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    this.checkers.get(namespace)?.expectDeletion(name);
    await this.world.cluster.core.deleteNamespacedPod({ name, namespace, ...(gracePeriodSeconds !== undefined && { gracePeriodSeconds }) }).catch(() => undefined);
  }

  async deleteNamespace(namespace: string): Promise<void> {
    this.deletedNamespaces.add(namespace);
    this.checkers.get(namespace)?.expectNamespaceDeletion();
    await this.world.cluster.core.deleteNamespace({ name: namespace }).catch(() => undefined);
  }

  async createForeignPod(namespace: string, group: string, item: string): Promise<string> {
    const name = `${group}-foreign-${String(Date.now() % 100_000)}`;
    const pod = podManifest({
      name,
      nodeName: this.world.info.node ?? '',
      labels: { app: 'oaat-operator', 'parent-name': group, 'oaat-name': item },
      annotations: { [FOREIGN_ANNOTATION]: 'true', [SIM.outcome]: 'succeed', [SIM.after]: '20s' },
    });
    await this.world.cluster.core.createNamespacedPod({ namespace, body: pod, fieldManager: TEST_FIELD_MANAGER }).catch(() => undefined);
    return name;
  }

  // --- the episode ---------------------------------------------------------------------------

  private async setUp(): Promise<void> {
    for (const namespace of this.namespaces) {
      await this.world.cluster.core.createNamespace({ body: { metadata: { name: namespace, labels: { 'chaos.oaat.test/seed': String(this.plan.seed) } } } });
      // Every run is closed before the checkers stop (the idle phase waits for it): a pod that
      // ended is recorded by then, or lost.
      this.checkers.set(namespace, await InvariantChecker.start(this.world.cluster.kubeConfig, { namespace, recordWithinMs: 2_000 }));
    }
    for (const [key, type] of this.types) await this.world.cluster.objects.create(this.typeManifest(key.split('/')[0] ?? '', type));
    for (const group of this.groups.values()) await this.world.cluster.objects.create(this.groupManifest(group.namespace, group.spec));
    await this.driver.start();
    for (let i = 0; i < this.plan.replicas; i++) {
      const name = `seed-${String(this.plan.seed)}-replica-${String(i)}`;
      this.replicas.push(
        await Replica.start(this.world, name, this.env, path.join(this.world.stateDir, `${name}.kubeconfig`), (replica, exit) => {
          this.onUnaskedExit(replica, exit);
        }),
      );
    }
  }

  /** Every fault at its moment; resolves once all are over (undone). */
  private async injectFaults(): Promise<void> {
    await Promise.all(
      this.plan.faults.map(async (fault, index) => {
        await sleep(Math.max(0, this.started + fault.atMs - Date.now()));
        const at = Date.now();
        const rng = seededRng(hashOf(`${String(this.plan.seed)}/fault/${String(index)}`));
        try {
          this.note(`${fault.kind}: ${await FAULTS[fault.kind](this, fault, rng)} (until +${((Date.now() - this.started) / 1000).toFixed(1)}s)`, at);
        } catch (error) {
          // The episode did not test what its schedule says: the harness is wrong.
          this.violations.push(`harness: fault ${fault.kind} at +${(fault.atMs / 1000).toFixed(1)}s could not be injected: ${String(error).split('\n')[0] ?? ''}`);
        }
        this.faultTimes.push({ fault: fault.kind, at });
      }),
    );
    await sleep(Math.max(0, this.started + this.profile.faultWindowMs - Date.now()));
    for (const [index, replica] of this.replicas.entries()) {
      replica.proxy.setRules([]);
      replica.proxy.heal();
      await this.restart(index);
    }
  }

  private readonly faultTimes: { fault: string; at: number }[] = [];

  private canRun(group: GroupView): boolean {
    const namespace = group.metadata?.namespace ?? '';
    const spec = group.spec as { paused?: boolean; oaatType?: string; oaatItems?: string[] } | undefined;
    return spec?.paused !== true && (spec?.oaatItems?.length ?? 0) > 0 && !this.missingTypes.has(`${namespace}/${spec?.oaatType ?? ''}`);
  }

  /** The longest a group may take to claim a run once the faults are over. */
  private livenessBoundMs(spec: GroupPlan | undefined): number {
    const p = this.profile;
    const perGroup = (Number.parseFloat(spec?.frequency ?? '0') + Number.parseFloat(spec?.failureCoolOff ?? '0')) * 1000;
    const base = 2 * p.requeueCapMs + p.createGraceMs + confirmationMs(p) + p.maxGraceSeconds * 1000 + p.podRunMs[1] + perGroup;
    return base * this.options.livenessFactor;
  }

  /** Liveness: every group able to run claims a run after the faults are over. */
  private async awaitProgress(quietSince: number): Promise<void> {
    const baseline = new Map((await this.readGroups()).map((g) => [g.metadata?.uid ?? '', g.status?.runSeq ?? 0]));
    const pending = new Set((await this.readGroups()).filter((g) => this.canRun(g)).map((g) => `${g.metadata?.namespace ?? ''}/${g.metadata?.name ?? ''}`));
    while (pending.size > 0) {
      for (const group of await this.readGroups()) {
        const key = `${group.metadata?.namespace ?? ''}/${group.metadata?.name ?? ''}`;
        const runSeq = group.status?.runSeq ?? 0;
        if (runSeq > (baseline.get(group.metadata?.uid ?? '') ?? 0) || !this.canRun(group)) pending.delete(key);
      }
      for (const key of pending) {
        const waited = Date.now() - quietSince;
        const bound = this.livenessBoundMs(this.groups.get(key)?.spec);
        if (waited > bound) {
          this.violations.push(`liveness: group ${key} claimed no run ${String(Math.round(waited / 1000))} s after the faults stopped (bound ${String(Math.round(bound / 1000))} s)`);
          pending.delete(key);
        }
      }
      if (pending.size > 0) await sleep(500);
    }
    this.note('every group made progress');
  }

  /** Pauses every group, waits for the runs in flight to close, then expects no write at all. */
  private async awaitIdle(audit: AuditLog): Promise<void> {
    for (const group of this.groups.values()) {
      if (!this.deletedNamespaces.has(group.namespace)) await this.patchGroupSpec(group.namespace, group.name, { paused: true });
    }
    const p = this.profile;
    const bound = (p.podRunMs[1] + p.maxGraceSeconds * 1000 + 2 * p.requeueCapMs + confirmationMs(p)) * this.options.livenessFactor;
    const quiet = await waitUntil(
      async () => {
        const open = (await this.readGroups()).filter((g) => g.status?.currentRun).map((g) => g.metadata?.name ?? '');
        const live = (await this.operatorPods()).filter((pod) => pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed').map((pod) => pod.metadata?.name ?? '');
        return { open, live };
      },
      ({ open, live }) => open.length === 0 && live.length === 0,
      { what: 'paused groups to close their runs', timeoutMs: bound, intervalMs: 500 },
    ).catch((error: unknown) => {
      this.violations.push(`liveness: ${String(error)}`);
      return undefined;
    });
    if (quiet === undefined) return;
    await sleep(3_000);
    const from = audit.offset();
    await sleep(p.idleWindowMs);
    // Groups of a namespace being deleted were not paused (they go with it): their writes are no idle writes.
    const live = new Set(this.liveNamespaces());
    const writes = protocolWrites(audit.since(from), OPERATOR_USER).filter((e) => live.has(e.objectRef?.namespace ?? ''));
    if (writes.length > 0) {
      const shown = writes.slice(0, 5).map((e) => `${e.verb} ${e.objectRef?.resource ?? ''}${e.objectRef?.subresource === undefined ? '' : `/${e.objectRef.subresource}`} ${e.objectRef?.namespace ?? ''}/${e.objectRef?.name ?? ''}`);
      this.violations.push(`idle: ${String(writes.length)} write(s) in ${String(p.idleWindowMs / 1000)} s with every group paused and idle: ${shown.join('; ')}`);
    }
  }

  /** Runs the episode to its end and returns what happened; never throws for a violation. */
  async run(): Promise<EpisodeResult> {
    const audit = new AuditLog(this.world.info.auditLog ?? '');
    const auditFrom = audit.offset();
    try {
      await this.setUp();
      this.note(`workload up: ${String(this.groups.size)} groups, ${String(this.plan.replicas)} replica(s); faults ${describeFaults(this.plan)}`);
      await this.injectFaults();
      const quietSince = Date.now();
      this.note('faults over');
      await this.awaitProgress(quietSince);
      await this.awaitIdle(audit);
    } catch (error) {
      this.violations.push(`harness: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
    for (const replica of this.replicas) await replica.stop();
    this.driver.stop();
    for (const [namespace, checker] of this.checkers) {
      for (const found of await checker.stop()) this.violations.push(`checker ${namespace}: ${found}`);
    }
    const events = audit.since(auditFrom);
    const created = podCreates(events, OPERATOR_USER, new Set(this.namespaces));
    for (const [pod, count] of created) if (count > 1) this.violations.push(`audit: pod ${pod} created ${String(count)} times`);
    const rate = peakRate(events, OPERATOR_USER, 10_000);
    if (rate > this.options.maxRequestRate) this.violations.push(`audit: the operator reached ${rate.toFixed(1)} requests/s over 10 s (bound ${String(this.options.maxRequestRate)})`);
    const result: EpisodeResult = {
      seed: this.plan.seed,
      profile: this.profile.name,
      replicas: this.plan.replicas,
      faults: describeFaults(this.plan),
      notes: this.notes,
      podsCreated: [...created.values()].reduce((a, b) => a + b, 0),
      violations: this.violations,
      durationMs: Date.now() - this.started,
      recoveries: this.recoveries(),
      peakRate: Math.round(rate * 10) / 10,
    };
    if (this.violations.length > 0) result.artifacts = this.keepArtifacts(events, result);
    await this.cleanUp();
    return result;
  }

  private recoveries(): Recovery[] {
    const created = [...this.driver.createdAt.values()].map((c) => c.time).sort((a, b) => a - b);
    const logged = this.replicas
      .flatMap((replica) => replica.program.output().split('\n'))
      .flatMap((line) => {
        if (!line.startsWith('{')) return [];
        try {
          const record = JSON.parse(line) as { timestamp?: string; message?: string };
          return [{ time: Date.parse(record.timestamp ?? ''), message: record.message ?? '' }];
        } catch {
          return []; // a line cut by a kill -9
        }
      })
      .sort((a, b) => a.time - b.time);
    const after = (at: number, accept: (message: string) => boolean): number | null => {
      const found = logged.find((line) => line.time >= at && accept(line.message));
      return found === undefined ? null : found.time - at;
    };
    return this.faultTimes
      .filter((f) => ['kill-leader', 'restart-apiserver', 'steal-lease', 'kill-during-create'].includes(f.fault))
      .map((f) => {
        const next = created.find((time) => time > f.at);
        return {
          fault: f.fault,
          replicas: this.plan.replicas,
          leaderMs: after(f.at, (message) => message === 'became leader'),
          firstWriteMs: after(f.at, (message) => RUN_WRITES.has(message)),
          nextPodMs: next === undefined ? null : next - f.at,
        };
      });
  }

  private keepArtifacts(events: readonly unknown[], result: EpisodeResult): string {
    const dir = path.join(this.options.artifactsDir, `seed-${String(this.plan.seed)}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'result.json'), `${JSON.stringify({ ...result, plan: this.plan }, null, 2)}\n`);
    writeFileSync(path.join(dir, 'audit.jsonl'), events.map((e) => JSON.stringify(e)).join('\n'));
    for (const replica of this.replicas) writeFileSync(path.join(dir, `${replica.name}.log`), replica.program.output());
    return dir;
  }

  /** Removes the episode's objects so the next one starts clean (pods first, at once). */
  private async cleanUp(): Promise<void> {
    for (const namespace of this.namespaces) {
      await this.world.cluster.core.deleteCollectionNamespacedPod({ namespace, gracePeriodSeconds: 0 }).catch(() => undefined);
      await this.world.cluster.core.deleteNamespace({ name: namespace }).catch(() => undefined);
    }
    await this.world.deleteLease();
    await waitUntil(
      () => Promise.all(this.namespaces.map((name) => this.world.cluster.core.readNamespace({ name }).then(() => name, () => undefined))),
      (left) => left.every((name) => name === undefined),
      { what: `namespaces of seed ${String(this.plan.seed)} to be gone`, timeoutMs: 120_000, intervalMs: 500 },
    ).catch(() => undefined);
  }
}
