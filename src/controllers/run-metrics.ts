/**
 * What the group reconciler tells about runs, for dashboards and alerts: every run it closed
 * (recorded in a group's status), by outcome, and how long after this process saw the run's
 * pod end it sent the close. Counted once the status write succeeded.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { RunOutcome } from '../api/v1/types.ts';

export interface RunMetrics {
  /**
   * A run was closed with `outcome`; `reactionMs`: from the watch event that showed this process
   * the run's pod ended to the closing status write sent, when it saw the pod end (not for runs
   * closed without a pod seen ended, e.g. `Lost` or `CreateFailed`).
   */
  closed(outcome: RunOutcome, reactionMs?: number): void;
}

/** `oaat_runs_closed_total{outcome}` and `oaat_run_close_delay_seconds`. */
export class PrometheusRunMetrics implements RunMetrics {
  private readonly runsClosed: Counter<'outcome'>;
  private readonly closeDelay: Histogram;

  constructor(registry: Registry) {
    this.runsClosed = new Counter({
      name: 'oaat_runs_closed_total',
      help: 'Runs closed (their result recorded in the group status), by outcome: Succeeded, Failed, CreateFailed, Deleted, TimedOut, Lost, WindowStopped.',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.closeDelay = new Histogram({
      name: 'oaat_run_close_delay_seconds',
      help: 'From the watch event showing a run\'s pod ended to the status write closing the run sent (the operator\'s share of a hand-over).',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    });
  }

  closed(outcome: RunOutcome, reactionMs?: number): void {
    this.runsClosed.inc({ outcome });
    if (reactionMs !== undefined) this.closeDelay.observe(reactionMs / 1000);
  }
}
