/**
 * What the group reconciler tells about runs, for dashboards and alerts: every run it closed
 * (recorded in a group's status), by outcome and by group, how long successful runs took, and
 * how long after this process saw the run's pod end it sent the close. Counted once the status
 * write succeeded, by the process that wrote it: summed over replicas, each close counts once.
 *
 * The per-group counters of a deleted group are kept until the process restarts (a counter
 * that vanished and came back would read as a reset): their rate falls to zero. Their number
 * is bounded by the groups this process closed runs of since it started.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { RunOutcome } from '../api/v1/types.ts';

/** One run closed: its group, its outcome, and how long its container ran (successes). */
export interface ClosedRunFacts {
  readonly namespace: string;
  readonly group: string;
  readonly outcome: RunOutcome;
  /** How long the container ran, when known; only successes are observed in the duration histogram. */
  readonly runtimeMs?: number | undefined;
}

export interface RunMetrics {
  /**
   * A run was closed; `reactionMs`: from the watch event that showed this process the run's pod
   * ended to the closing status write sent, when it saw the pod end (not for runs closed without
   * a pod seen ended, e.g. `Lost` or `CreateFailed`).
   */
  closed(run: ClosedRunFacts, reactionMs?: number): void;
}

/**
 * `oaat_runs_closed_total{outcome}`, `oaat_runs_total{namespace,group,outcome}`,
 * `oaat_run_duration_seconds{namespace,group}` (successes) and `oaat_run_close_delay_seconds`.
 */
export class PrometheusRunMetrics implements RunMetrics {
  private readonly runsClosed: Counter<'outcome'>;
  private readonly runs: Counter<'namespace' | 'group' | 'outcome'>;
  private readonly duration: Histogram<'namespace' | 'group'>;
  private readonly closeDelay: Histogram;

  constructor(registry: Registry) {
    this.runsClosed = new Counter({
      name: 'oaat_runs_closed_total',
      help: 'Runs closed (their result recorded in the group status), by outcome: Succeeded, Failed, CreateFailed, Deleted, TimedOut, Lost, WindowStopped.',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.runs = new Counter({
      name: 'oaat_runs_total',
      help: 'Runs closed by this process, by group and outcome (the outcomes of oaat_runs_closed_total); kept for deleted groups until restart.',
      labelNames: ['namespace', 'group', 'outcome'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'oaat_run_duration_seconds',
      help: 'How long successful runs\' containers ran, by group (the kubelet\'s start and finish times).',
      labelNames: ['namespace', 'group'],
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1_200, 1_800, 3_600, 7_200, 14_400, 28_800, 86_400],
      registers: [registry],
    });
    this.closeDelay = new Histogram({
      name: 'oaat_run_close_delay_seconds',
      help: 'From the watch event showing a run\'s pod ended to the status write closing the run sent (the operator\'s share of a hand-over).',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    });
  }

  closed(run: ClosedRunFacts, reactionMs?: number): void {
    const { namespace, group, outcome } = run;
    this.runsClosed.inc({ outcome });
    this.runs.inc({ namespace, group, outcome });
    if (outcome === 'Succeeded' && run.runtimeMs !== undefined) this.duration.observe({ namespace, group }, run.runtimeMs / 1000);
    if (reactionMs !== undefined) this.closeDelay.observe(reactionMs / 1000);
  }
}
