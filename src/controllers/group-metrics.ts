/**
 * The domain gauges, computed when Prometheus scrapes from the OaatGroup cache
 * (services/group-metrics.ts): `oaat_group_items{namespace,group,state}`,
 * `oaat_group_running`, `oaat_group_paused`, `oaat_group_frequency_seconds`,
 * `oaat_group_last_success_timestamp_seconds` (each `{namespace,group}`), and per item (when enabled)
 * `oaat_item_last_success_timestamp_seconds` and `oaat_item_overdue`, plus
 * `oaat_item_metrics_enabled`. Never a requeue or a write: a scrape only reads the cache.
 * Every gauge is reset at each scrape, so the series of deleted groups and removed items go.
 */
import type { V1ConfigMap } from '@kubernetes/client-node';
import { Gauge, type Registry } from 'prom-client';
import type { OaatGroup } from '../api/v1/types.ts';
import type { Cache } from '../runtime/informer.ts';
import type { Clock } from '../services/clock.ts';
import { sourcedItems } from '../services/item-sources.ts';
import { groupMetrics, ITEM_STATES, type GroupMetricsSettings, type GroupMetricsSnapshot, type GroupSample, type ItemSample } from '../services/group-metrics.ts';

/** A snapshot serves every gauge of one scrape: it is computed again only when older than this. */
const SNAPSHOT_REUSE_MS = 1_000;

export interface GroupMetricsOptions {
  groups: Cache<OaatGroup>;
  /** The ConfigMaps groups take items from; absent: this operator reads none (OAAT_CONFIGMAP_ITEMS off). */
  configMaps?: Cache<V1ConfigMap> | undefined;
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
    /** A gauge with a series per sample of `samples` whose `value` is defined, labelled by `labels`. */
    const gaugeOf = <S, L extends string>(name: string, help: string, labelNames: readonly L[], samples: () => readonly S[], labels: (sample: S) => Record<L, string>, value: (sample: S) => number | undefined): void => {
      new Gauge<L>({
        name,
        help,
        labelNames,
        registers,
        collect() {
          this.reset();
          for (const sample of samples()) {
            const measured = value(sample);
            if (measured !== undefined) this.set(labels(sample), measured);
          }
        },
      });
    };
    const groups = (): readonly GroupSample[] => current().groups;
    const groupLabels = ({ namespace, group }: GroupSample) => ({ namespace, group });
    const perGroup = (name: string, help: string, value: (sample: GroupSample) => number | undefined): void => {
      gaugeOf(name, help, ['namespace', 'group'], groups, groupLabels, value);
    };
    const perItem = (name: string, help: string, value: (sample: ItemSample) => number | undefined): void => {
      gaugeOf(name, help, ['namespace', 'group', 'item'], () => current().items ?? [], ({ namespace, group, item }) => ({ namespace, group, item }), value);
    };
    const bit = (on: boolean): number => (on ? 1 : 0);

    gaugeOf(
      'oaat_group_items',
      'Items of a group by state: eligible, waiting (for its frequency), coolingOff (after a failure), running; done EachOnce items in none.',
      ['namespace', 'group', 'state'],
      () => groups().flatMap((sample) => (sample.items === undefined ? [] : ITEM_STATES.map((state) => ({ ...groupLabels(sample), state, count: sample.items?.[state] ?? 0 })))),
      ({ namespace, group, state }) => ({ namespace, group, state }),
      ({ count }) => count,
    );
    perGroup('oaat_group_running', 'Whether the group has a run in progress (1) or not (0).', ({ running }) => bit(running));
    perGroup('oaat_group_paused', 'Whether new runs of the group are paused (1: spec.paused or the pause annotation) or not (0).', ({ paused }) => bit(paused));
    perGroup('oaat_group_frequency_seconds', 'The group\'s spec.frequency: how often each item should succeed; no series while the spec has errors.', ({ frequencySeconds }) => frequencySeconds);
    perGroup(
      'oaat_group_last_success_timestamp_seconds',
      'The newest success of any listed item of the group (Unix seconds); no series before the first.',
      ({ lastSuccessSeconds }) => lastSuccessSeconds,
    );
    gaugeOf(
      'oaat_item_metrics_enabled',
      'Whether the per-item series (oaat_item_*) are exported (1) or not (0): OAAT_ITEM_METRICS, and with auto the total item count.',
      [],
      () => [current()],
      () => ({}),
      ({ items }) => bit(items !== undefined),
    );
    perItem(
      'oaat_item_last_success_timestamp_seconds',
      'When the item last succeeded (Unix seconds); no series for an item that never succeeded.',
      ({ lastSuccessSeconds }) => lastSuccessSeconds,
    );
    perItem(
      'oaat_item_overdue',
      'Whether the item\'s last success (never: the group\'s creation) is older than its frequency plus max(10% of it, 5m); 0 for done EachOnce items, paused groups and inside a window.',
      ({ overdue }) => bit(overdue),
    );
  }

  /**
   * The items of a group's ConfigMap sources, from the cache only (a scrape sends no request): a
   * ConfigMap not cached counts as missing, so the group is unjudged as its reconcile would make it.
   */
  private sourced(group: OaatGroup, listed: readonly string[]) {
    const { configMaps } = this.options;
    if (group.spec?.oaatItemsFrom === undefined) return undefined;
    const namespace = group.metadata?.namespace ?? '';
    return sourcedItems(
      group.spec,
      listed,
      (name) => {
        const cached = configMaps?.get(namespace, name);
        return cached === undefined ? { state: 'missing' } : { state: 'found', data: cached.data ?? {} };
      },
      configMaps !== undefined,
    );
  }

  /** The snapshot of this scrape: the cache's groups at the clock's now. */
  private current(): GroupMetricsSnapshot {
    const now = this.options.clock.now();
    if (this.snapshot === undefined || !(now - this.snapshot.at < SNAPSHOT_REUSE_MS && now >= this.snapshot.at)) {
      this.snapshot = { at: now, value: groupMetrics(this.options.groups.list(), now, this.options.settings, (group, listed) => this.sourced(group, listed)) };
    }
    return this.snapshot.value;
  }
}
