/**
 * The OaatGroup reconciler: the only writer of an OaatGroup's status. It reads the group, its
 * pods and its OaatType from the caches, asks the planner (services/group-planner.ts) what to
 * do, and performs the plan: the live reads that must hold first, one `/status` merge patch
 * guarded by the resourceVersion read (409: the state moved, the reconcile runs again), then
 * the pod creates and deletes, then the Events. What this process learns on the way (a create's
 * answer, a live read) goes to its {@link RunMemory} for the next plan.
 */
import type { V1ConfigMap, V1Pod } from '@kubernetes/client-node';
import { ANNOTATIONS } from '../api/v1/keys.ts';
import type { OaatGroup, OaatType } from '../api/v1/types.ts';
import { validateGroupSpec } from '../api/v1/validation.ts';
import { isAlreadyExists, isConflict, isNotFound, isTransient, NotSentError } from '../runtime/api-error.ts';
import type { ApiClient } from '../runtime/client.ts';
import type { EventRecorder } from '../runtime/events.ts';
import type { Cache } from '../runtime/informer.ts';
import type { Logger } from '../runtime/logger.ts';
import { OwnWrites } from '../runtime/own-writes.ts';
import type { ReconcileContext, Reconciler, Request, Result } from '../runtime/reconciler.ts';
import type { Clock } from '../services/clock.ts';
import { planGroup, type Action, type Check, type GroupPlan, type PlannerSettings } from '../services/group-planner.ts';
import { type ConfigMapLookup, sourcedItems, type SourcedItems } from '../services/item-sources.ts';
import { isOurs, podIndexKeysOf, POD_GROUP_INDEX, runIdOf } from '../services/ownership.ts';
import type { Rng } from '../services/rng.ts';
import { removeKopfFinalizer } from './finalizers.ts';
import { CONFIGMAPS, OAATGROUPS, PODS } from './resources.ts';
import type { RunMemory } from './run-memory.ts';
import type { RunMetrics } from './run-metrics.ts';

export interface GroupReconcilerDeps {
  groups: Cache<OaatGroup>;
  pods: Cache<V1Pod>;
  types: Cache<OaatType>;
  /** ConfigMaps labelled as item sources; absent: this operator reads no ConfigMaps (groups naming one are not Ready). */
  configMaps?: Cache<V1ConfigMap> | undefined;
  client: ApiClient;
  events: EventRecorder;
  memory: RunMemory;
  runs: RunMetrics;
  clock: Clock;
  rng: Rng;
  settings: PlannerSettings;
}

export class OaatGroupReconciler implements Reconciler {
  /** Group versions this reconciler's status writes replaced: a cache still showing one is behind. */
  private readonly ownWrites = new OwnWrites();

  constructor(private readonly deps: GroupReconcilerDeps) {}

  async reconcile(request: Request, { log }: ReconcileContext): Promise<Result> {
    const { groups, pods, types, client, memory, clock } = this.deps;
    const group = groups.get(request.namespace, request.name);
    // Planning on a version our own write replaced would redo its work and answer 409; its event is coming.
    if (this.ownWrites.isStale(`${request.namespace}/${request.name}`, group)) return {};
    if (group?.metadata?.uid === undefined) return {};
    // The original's finalizer goes first: with it a group would outlive the original operator forever.
    if (await removeKopfFinalizer(client, OAATGROUPS, group)) {
      log.info('removed the original operator\'s kopf finalizer');
      return {};
    }
    if (group.metadata.deletionTimestamp !== undefined) return {};
    const now = clock.now();
    const own = new Map<string, V1Pod>();
    for (const key of podIndexKeysOf(group)) for (const pod of pods.byIndex(POD_GROUP_INDEX, key)) own.set(pod.metadata?.uid ?? '', pod);
    const run = group.status?.currentRun ?? undefined;
    const cached = run && [...own.values()].find((pod) => pod.metadata?.name === run.podName && isOurs(pod, group));
    const plan = planGroup(
      {
        group,
        pods: [...own.values()],
        type: group.spec?.oaatType === undefined ? undefined : types.get(request.namespace, group.spec.oaatType),
        now,
        run: run && memory.knowledge(request.namespace, run, cached, now),
        probeRefusal: memory.probeRefusal(`${request.namespace}/${request.name}`),
        ...(group.spec?.oaatItemsFrom !== undefined && { sourcedItems: await this.sourcedItems(group) }),
      },
      this.deps.settings,
      this.deps.rng,
    );
    for (const check of plan.checks) {
      const retryAfter = await this.check(group, check, now);
      if (retryAfter !== undefined) return { requeueAfter: retryAfter };
    }
    if (plan.claim) memory.claimed(request.namespace, plan.claim, now);
    await this.write(group, plan, log);
    let requeueAfter = plan.requeueAfterMs;
    for (const action of plan.actions) requeueAfter = Math.min(requeueAfter, await this.perform(group, action, log));
    return { requeueAfter };
  }

  /**
   * The items of the group's ConfigMap sources. A ConfigMap missing from the cache is read live,
   * to tell one without the label (which the cache does not select) from one that does not exist.
   */
  private async sourcedItems(group: OaatGroup): Promise<SourcedItems> {
    const namespace = group.metadata?.namespace ?? '';
    const { configMaps, client } = this.deps;
    const lookups = new Map<string, ConfigMapLookup>();
    for (const { configMapKeyRef: { name } } of group.spec?.oaatItemsFrom ?? []) {
      if (configMaps === undefined || lookups.has(name)) continue;
      const cached = configMaps.get(namespace, name);
      if (cached !== undefined) lookups.set(name, { state: 'found', data: cached.data ?? {} });
      else {
        try {
          await client.get<V1ConfigMap>(CONFIGMAPS, namespace, name);
          lookups.set(name, { state: 'unlabelled' });
        } catch (error) {
          if (!isNotFound(error)) throw error;
          lookups.set(name, { state: 'missing' });
        }
      }
    }
    const listed = validateGroupSpec(group.spec).items;
    return sourcedItems(group.spec ?? {}, listed, (name) => lookups.get(name) ?? { state: 'missing' }, configMaps !== undefined);
  }

  /** Whether a check holds (undefined), else after how long to look again; what it learns goes to memory. */
  private async check(group: OaatGroup, check: Check, now: number): Promise<number | undefined> {
    const namespace = group.metadata?.namespace ?? '';
    if (check.kind === 'pod-gone') return (await this.readPod(namespace, check.name, now)) ? check.retryAfterMs : undefined;
    try {
      await this.deps.client.create(PODS, check.pod, { dryRun: true });
      return undefined;
    } catch (error) {
      // A webhook with side effects refuses every dry run: that says nothing about the real create.
      if (isTransient(error) || isConflict(error) || /does not support dry run/i.test((error as Error).message)) return isTransient(error) ? 1_000 : undefined;
      this.deps.memory.probeRefused(`${namespace}/${group.metadata?.name ?? ''}`, (error as Error).message);
      return 1;
    }
  }

  /** A live read of a run's pod; what it shows goes to memory. Returns whether the pod exists. */
  private async readPod(namespace: string, name: string, now: number): Promise<boolean> {
    try {
      this.deps.memory.polled(namespace, await this.deps.client.get<V1Pod>(PODS, namespace, name), now);
      return true;
    } catch (error) {
      if (!isNotFound(error)) throw error;
      this.deps.memory.gone(namespace, name, now);
      return false;
    }
  }

  /** Writes the plan's status (nothing when unchanged), then notes its closes and records its Events. */
  private async write(group: OaatGroup, plan: GroupPlan, log: Logger): Promise<void> {
    const patch = plan.draft.patch();
    const namespace = group.metadata?.namespace ?? '';
    const sentAt = this.deps.clock.now();
    if (patch !== undefined) {
      const read = group.metadata?.resourceVersion ?? '';
      const written = await this.deps.client.patch(OAATGROUPS, namespace, group.metadata?.name ?? '', { status: patch }, {
        subresource: 'status',
        resourceVersion: read,
        ...(plan.sendBy !== undefined && { sendBy: plan.sendBy }),
      });
      // A patch that changed nothing keeps the version, and no event follows it.
      if (written.metadata?.resourceVersion !== read) this.ownWrites.wrote(`${namespace}/${group.metadata?.name ?? ''}`, read);
    }
    this.deps.memory.probeRefusalWritten(`${namespace}/${group.metadata?.name ?? ''}`);
    for (const { run, record, lastRun } of plan.draft.closed) {
      const endedSeenAt = this.deps.memory.closed(namespace, run.podName);
      const facts = { namespace, group: group.metadata?.name ?? '', outcome: lastRun.outcome, runtimeMs: record.runtimeMs };
      this.deps.runs.closed(facts, endedSeenAt === undefined ? undefined : Math.max(0, sentAt - endedSeenAt));
      log.info('closed a run', { item: run.item, run: run.id, outcome: lastRun.outcome, exitCode: lastRun.exitCode, reason: lastRun.reason });
    }
    if (plan.claim) log.info('claimed a run', { item: plan.claim.item, run: plan.claim.id, pod: plan.claim.podName });
    for (const event of plan.events) {
      this.deps.events.record(group, event.type, event.reason, event.message);
      // What went wrong (bad input, refused creates, a stuck pod) is in the log too, with the group.
      if (event.type === 'Warning') log.warn(event.message, { reason: event.reason });
    }
  }

  /** Performs one action; returns when to reconcile again (ms). */
  private async perform(group: OaatGroup, action: Action, log: Logger): Promise<number> {
    const { client, events, memory, clock, settings } = this.deps;
    const namespace = group.metadata?.namespace ?? '';
    if (action.kind === 'read-pod') return (await this.readPod(namespace, action.name, clock.now())) ? settings.requeueCapMs : 1;
    const name = action.pod.metadata?.name ?? '';
    const uid = action.pod.metadata?.uid ?? '';
    try {
      if (action.kind === 'create') {
        memory.created(namespace, name, { state: 'in-flight' }, clock.now());
        const pod = await client.create(PODS, action.pod, { sendBy: action.sendBy });
        memory.created(namespace, name, { state: 'created', at: clock.now() }, clock.now(), pod);
        events.record(group, 'Normal', 'RunStarted', `started item ${action.pod.metadata?.annotations?.[ANNOTATIONS.item] ?? ''} in pod ${name}`);
        log.info('created the run pod', { pod: name });
      } else if (action.kind === 'delete-foreign') {
        await client.delete(PODS, namespace, name, { uid });
        events.record(group, 'Warning', 'ForeignPodDeleted', `deleted pod ${name}: it carries this group's labels but belongs to another owner`);
      } else if (action.kind === 'delete-rogue') {
        const fresh = await client.get<OaatGroup>(OAATGROUPS, namespace, group.metadata?.name ?? '');
        if (fresh.status?.currentRun?.podName === name) return settings.requeueCapMs;
        await client.delete(PODS, namespace, name, { uid });
        events.record(group, 'Warning', 'RogueDeleted', `deleted pod ${name}: only one item runs at a time`);
        log.warn('deleted a rogue pod', { pod: name });
      } else {
        await client.patch(PODS, namespace, name, { metadata: { annotations: { [ANNOTATIONS.stopReason]: action.reason } } });
        await client.delete(PODS, namespace, name, { uid });
        // A window's stop is the schedule working, not a problem.
        if (action.reason === 'WindowStopped') {
          events.record(group, 'Normal', action.reason, action.message);
          log.info(action.message);
        } else {
          events.record(group, 'Warning', action.reason, action.message);
          log.warn(action.message);
        }
      }
      return settings.requeueCapMs;
    } catch (error) {
      if (action.kind !== 'create') {
        if (isNotFound(error) || isConflict(error)) return settings.requeueCapMs;
        throw error;
      }
      return this.createFailed(group, action, error);
    }
  }

  /** Notes what a failed create means for its run; the next plan acts on it at once. */
  private async createFailed(group: OaatGroup, action: Extract<Action, { kind: 'create' }>, error: unknown): Promise<number> {
    const { client, memory, clock } = this.deps;
    const namespace = group.metadata?.namespace ?? '';
    const name = action.pod.metadata?.name ?? '';
    if (error instanceof NotSentError) {
      memory.created(namespace, name, { state: 'expired' }, clock.now());
    } else if (isAlreadyExists(error)) {
      const existing = await client.get<V1Pod>(PODS, namespace, name).catch(() => undefined);
      const mine = existing !== undefined && isOurs(existing, group) && runIdOf(existing) === action.runId;
      if (existing === undefined) memory.created(namespace, name, { state: 'unknown' }, clock.now());
      else if (mine) memory.created(namespace, name, { state: 'created', at: clock.now() }, clock.now(), existing);
      else memory.created(namespace, name, { state: 'refused', message: `pod ${name} exists but belongs to something else` }, clock.now());
    } else if (isTransient(error)) {
      memory.created(namespace, name, { state: 'unknown' }, clock.now());
    } else {
      memory.created(namespace, name, { state: 'refused', message: (error as Error).message }, clock.now());
    }
    return 1;
  }
}
