/**
 * The domain gauges, computed when Prometheus scrapes from the OaatGroup cache
 * (services/group-metrics.ts): `oaat_group_items{namespace,group,state}`,
 * `oaat_group_running`, `oaat_group_paused`, `oaat_group_frequency_seconds`,
 * `oaat_group_last_success_timestamp_seconds` (each `{namespace,group}`), and per item (when enabled)
 * `oaat_item_last_success_timestamp_seconds` and `oaat_item_overdue`, plus
 * `oaat_item_metrics_enabled`. Never a requeue or a write: a scrape only reads the cache.
 * Every gauge is reset at each scrape, so the series of deleted groups and removed items go.
 */
import { Gauge, type Registry } from 'prom-client';
import type { OaatGroup } from '../api/v1/types.ts';
import type { Cache } from '../runtime/informer.ts';
import type { Clock } from '../services/clock.ts';
import { groupMetrics, ITEM_STATES, type GroupMetricsSettings, type GroupMetricsSnapshot } from '../services/group-metrics.ts';

/** A snapshot serves every gauge of one scrape: it is computed again only when older than this. */
const SNAPSHOT_REUSE_MS = 1_000;

export interface GroupMetricsOptions {
  groups: Cache<OaatGroup>;
  registry: Registry;
  clock: Clock;
  settings: GroupMetricsSettings;
}

/** Registers the gauges on construction; nothing to start or stop. */
export class GroupMetricsCollector {
  private snapshot: { at: number; value: GroupMetricsSnapshot } | undefined;

  constructor(private readonly options: GroupMetricsOptions) {
    const registers = [options.registry];
    const current = (): GroupMetricsSnapshot => this.current();
    new Gauge({
      name: 'oaat_group_items',
      help: 'Items of a group by state: eligible, waiting (for its frequency), coolingOff (after a failure), running; done EachOnce items in none.',
      labelNames: ['namespace', 'group', 'state'],
      registers,
      collect() {
        this.reset();
        for (const { namespace, group, items } of current().groups) {
          if (items !== undefined) for (const state of ITEM_STATES) this.set({ namespace, group, state }, items[state]);
        }
      },
    });
    new Gauge({
      name: 'oaat_group_running',
      help: 'Whether the group has a run in progress (1) or not (0).',
      labelNames: ['namespace', 'group'],
      registers,
      collect() {
        this.reset();
        for (const { namespace, group, running } of current().groups) this.set({ namespace, group }, running ? 1 : 0);
      },
    });
    new Gauge({
      name: 'oaat_group_paused',
      help: 'Whether new runs of the group are paused (1: spec.paused or the pause annotation) or not (0).',
      labelNames: ['namespace', 'group'],
      registers,
      collect() {
        this.reset();
        for (const { namespace, group, paused } of current().groups) this.set({ namespace, group }, paused ? 1 : 0);
      },
    });
    new Gauge({
      name: 'oaat_group_frequency_seconds',
      help: 'The group\'s spec.frequency: how often each item should succeed; no series while the spec has errors.',
      labelNames: ['namespace', 'group'],
      registers,
      collect() {
        this.reset();
        for (const { namespace, group, frequencySeconds } of current().groups) {
          if (frequencySeconds !== undefined) this.set({ namespace, group }, frequencySeconds);
        }
      },
    });
    new Gauge({
      name: 'oaat_group_last_success_timestamp_seconds',
      help: 'The newest success of any listed item of the group (Unix seconds); no series before the first.',
      labelNames: ['namespace', 'group'],
      registers,
      collect() {
        this.reset();
        for (const { namespace, group, lastSuccessSeconds } of current().groups) {
          if (lastSuccessSeconds !== undefined) this.set({ namespace, group }, lastSuccessSeconds);
        }
      },
    });
    new Gauge({
      name: 'oaat_item_metrics_enabled',
      help: 'Whether the per-item series (oaat_item_*) are exported (1) or not (0): OAAT_ITEM_METRICS, and with auto the total item count.',
      registers,
      collect() {
        this.set(current().items === undefined ? 0 : 1);
      },
    });
    new Gauge({
      name: 'oaat_item_last_success_timestamp_seconds',
      help: 'When the item last succeeded (Unix seconds); no series for an item that never succeeded.',
      labelNames: ['namespace', 'group', 'item'],
      registers,
      collect() {
        this.reset();
        for (const { namespace, group, item, lastSuccessSeconds } of current().items ?? []) {
          if (lastSuccessSeconds !== undefined) this.set({ namespace, group, item }, lastSuccessSeconds);
        }
      },
    });
    new Gauge({
      name: 'oaat_item_overdue',
      help: 'Whether the item\'s last success (never: the group\'s creation) is older than its frequency plus max(10% of it, 5m); 0 for done EachOnce items, paused groups and inside a window.',
      labelNames: ['namespace', 'group', 'item'],
      registers,
      collect() {
        this.reset();
        for (const { namespace, group, item, overdue } of current().items ?? []) this.set({ namespace, group, item }, overdue ? 1 : 0);
      },
    });
  }

  /** The snapshot of this scrape: the cache's groups at the clock's now. */
  private current(): GroupMetricsSnapshot {
    const now = this.options.clock.now();
    if (this.snapshot === undefined || !(now - this.snapshot.at < SNAPSHOT_REUSE_MS && now >= this.snapshot.at)) {
      this.snapshot = { at: now, value: groupMetrics(this.options.groups.list(), now, this.options.settings) };
    }
    return this.snapshot.value;
  }
}
