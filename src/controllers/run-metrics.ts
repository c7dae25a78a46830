/**
 * What the group reconciler tells about runs, for dashboards and alerts: every run it closed
 * (recorded in a group's status), by outcome. Counted once the status write succeeded.
 */
import { Counter, type Registry } from 'prom-client';
import type { RunOutcome } from '../api/v1/types.ts';

export interface RunMetrics {
  closed(outcome: RunOutcome): void;
}

/** `oaat_runs_closed_total{outcome}`. */
export class PrometheusRunMetrics implements RunMetrics {
  private readonly runsClosed: Counter<'outcome'>;

  constructor(registry: Registry) {
    this.runsClosed = new Counter({
      name: 'oaat_runs_closed_total',
      help: 'Runs closed (their result recorded in the group status), by outcome: Succeeded, Failed, CreateFailed, Deleted, TimedOut, Lost.',
      labelNames: ['outcome'],
      registers: [registry],
    });
  }

  closed(outcome: RunOutcome): void {
    this.runsClosed.inc({ outcome });
  }
}
