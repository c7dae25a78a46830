/**
 * Kubernetes Events about objects, as `kubectl describe` shows them, written so that a
 * reconcile loop cannot flood the cluster: repeats of the same event (same object, type,
 * reason and message) within the aggregation window update one Event's `count` and
 * `lastTimestamp` instead of creating new Events (client-go's EventCorrelator does the same),
 * and Events beyond a rate budget, or beyond a bound of writes not yet answered (an API server
 * too busy to take them at the budget's rate), are dropped, counted in
 * `oaat_events_dropped_total` by reason, rather than queued without bound.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { KubernetesObject } from '@kubernetes/client-node';
import { Counter, type Registry } from 'prom-client';
import { isNotFound } from './api-error.ts';
import type { KubeClient, ResourceType } from './client.ts';
import { errorMeta, type Logger } from './logger.ts';

export const EVENTS: ResourceType = { apiVersion: 'v1', kind: 'Event', plural: 'events', namespaced: true };

export type EventType = 'Normal' | 'Warning';

/** Records Events. Never throws and never makes the caller wait: writes happen in the background. */
export interface EventRecorder {
  record(object: KubernetesObject, type: EventType, reason: string, message: string): void;
}

export interface ApiEventRecorderOptions {
  client: KubeClient;
  /** `source.component` / `reportingComponent`, e.g. `oaat-operator`. */
  component: string;
  logger: Logger;
  /** Repeats within this window are aggregated; default 10 minutes. */
  windowMs?: number;
  /** Aggregation entries kept (least recently used dropped first); default 4096. */
  maxEntries?: number;
  /** Says whether one more Event may be written now (a token bucket); none: every Event is written. */
  budget?: { allow(): boolean };
  /**
   * Event writes sent or waiting for a connection, not answered yet, at most; beyond, new Events
   * are dropped. Default {@link DEFAULT_MAX_PENDING_EVENTS}.
   */
  maxPending?: number;
  /** Registers `oaat_events_dropped_total` here. */
  registry?: Registry;
}

/** Enough for a second of the default budget (50/s) waiting on a slow server; a busier one drops. */
export const DEFAULT_MAX_PENDING_EVENTS = 64;

/** Why an Event was not written: over the rate budget, or too many writes not answered yet. */
export type EventDropReason = 'budget' | 'backlog';

interface Aggregate {
  namespace: string;
  name: string;
  count: number;
  firstTimestamp: string;
  lastSeenMs: number;
}

export class ApiEventRecorder implements EventRecorder {
  private readonly aggregates = new Map<string, Aggregate>();
  /** Writes for one aggregation key run one after another, so a repeat never races its create. */
  private readonly pending = new Map<string, Promise<void>>();
  private readonly instance = hostname();
  private readonly dropped?: Counter<'reason'>;
  /** Writes recorded and not finished (answered or failed). */
  private writes = 0;

  constructor(private readonly options: ApiEventRecorderOptions) {
    if (options.registry !== undefined) {
      this.dropped = new Counter({
        name: 'oaat_events_dropped_total',
        help: 'Events not written, by reason: budget (over OAAT_EVENT_QPS / OAAT_EVENT_BURST) or backlog (too many Event writes not answered yet: the API server is slow).',
        labelNames: ['reason'],
        registers: [options.registry],
      });
    }
  }

  record(object: KubernetesObject, type: EventType, reason: string, message: string): void {
    // The backlog first: an Event it drops must not spend a token of the budget.
    if (this.writes >= (this.options.maxPending ?? DEFAULT_MAX_PENDING_EVENTS)) {
      this.drop('backlog', reason);
      return;
    }
    if (this.options.budget?.allow() === false) {
      this.drop('budget', reason);
      return;
    }
    this.writes++;
    const uid = object.metadata?.uid ?? `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
    const key = [uid, type, reason, message].join('\u0000');
    const previous = this.pending.get(key) ?? Promise.resolve();
    const next = previous
      .then(() => this.write(key, object, type, reason, message))
      .catch((error: unknown) => {
        this.options.logger.warn('could not write Event', { reason, ...errorMeta(error) });
      })
      .finally(() => {
        this.writes--;
        if (this.pending.get(key) === next) this.pending.delete(key);
      });
    this.pending.set(key, next);
  }

  private drop(why: EventDropReason, reason: string): void {
    this.dropped?.inc({ reason: why });
    this.options.logger.debug(why === 'budget' ? 'dropped an Event: over the Event budget' : 'dropped an Event: too many Event writes not answered yet', { reason });
  }

  /** Resolves once every Event recorded so far has been written (or failed). */
  async flush(): Promise<void> {
    await Promise.all(this.pending.values());
  }

  private async write(key: string, object: KubernetesObject, type: EventType, reason: string, message: string): Promise<void> {
    const now = Date.now();
    const windowMs = this.options.windowMs ?? 600_000;
    const aggregate = this.aggregates.get(key);
    if (aggregate !== undefined && now - aggregate.lastSeenMs <= windowMs) {
      aggregate.count++;
      aggregate.lastSeenMs = now;
      this.touch(key, aggregate);
      try {
        await this.options.client.patch(EVENTS, aggregate.namespace, aggregate.name, {
          count: aggregate.count,
          lastTimestamp: new Date(now).toISOString(),
        });
        return;
      } catch (error) {
        if (!isNotFound(error)) throw error;
        // The Event expired (Events live one hour by default): start a new one.
      }
    }
    const namespace = object.metadata?.namespace ?? 'default';
    const timestamp = new Date(now).toISOString();
    const name = `${object.metadata?.name ?? 'object'}.${now.toString(16)}${randomBytes(2).toString('hex')}`;
    await this.options.client.create(EVENTS, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { namespace, name },
      involvedObject: {
        apiVersion: object.apiVersion,
        kind: object.kind,
        namespace: object.metadata?.namespace,
        name: object.metadata?.name,
        uid: object.metadata?.uid,
        resourceVersion: object.metadata?.resourceVersion,
      },
      type,
      reason,
      message,
      source: { component: this.options.component, host: this.instance },
      reportingComponent: this.options.component,
      reportingInstance: this.instance,
      firstTimestamp: timestamp,
      lastTimestamp: timestamp,
      count: 1,
    } as KubernetesObject);
    this.touch(key, { namespace, name, count: 1, firstTimestamp: timestamp, lastSeenMs: now });
  }

  private touch(key: string, aggregate: Aggregate): void {
    this.aggregates.delete(key);
    this.aggregates.set(key, aggregate);
    const max = this.options.maxEntries ?? 4096;
    while (this.aggregates.size > max) {
      const oldest = this.aggregates.keys().next().value;
      if (oldest === undefined) break;
      this.aggregates.delete(oldest);
    }
  }
}
