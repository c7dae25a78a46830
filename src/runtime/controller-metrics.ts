/**
 * Reconcile metrics under controller-runtime's names, so dashboards and alerts written for Go
 * operators work unchanged. Registered once per registry; each controller gets labelled
 * children (label `controller`).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** How one reconcile ended, as controller-runtime labels it. */
export type ReconcileResult = 'success' | 'error' | 'requeue' | 'requeue_after';

/** The metrics of one controller. */
export interface ControllerMetrics {
  reconciled(result: ReconcileResult, seconds: number): void;
  /** An error that will be retried, or a terminal one (then `terminal` is true). */
  failed(terminal: boolean): void;
  /** Something that is not an Error was thrown: a programming fault. */
  panicked(): void;
  workerStarted(): void;
  workerStopped(): void;
}

const RESULTS: readonly ReconcileResult[] = ['success', 'error', 'requeue', 'requeue_after'];

export class PrometheusControllerMetrics {
  private readonly total: Counter<'controller' | 'result'>;
  private readonly errors: Counter<'controller'>;
  private readonly terminalErrors: Counter<'controller'>;
  private readonly panics: Counter<'controller'>;
  private readonly time: Histogram<'controller'>;
  private readonly maxConcurrent: Gauge<'controller'>;
  private readonly activeWorkers: Gauge<'controller'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.total = new Counter({
      name: 'controller_runtime_reconcile_total',
      help: 'Total number of reconciliations per controller',
      labelNames: ['controller', 'result'],
      registers,
    });
    this.errors = new Counter({
      name: 'controller_runtime_reconcile_errors_total',
      help: 'Total number of reconciliation errors per controller',
      labelNames: ['controller'],
      registers,
    });
    this.terminalErrors = new Counter({
      name: 'controller_runtime_terminal_reconcile_errors_total',
      help: 'Total number of terminal reconciliation errors per controller',
      labelNames: ['controller'],
      registers,
    });
    this.panics = new Counter({
      name: 'controller_runtime_reconcile_panics_total',
      help: 'Total number of reconciliation panics per controller',
      labelNames: ['controller'],
      registers,
    });
    this.time = new Histogram({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Length of time per reconciliation per controller',
      labelNames: ['controller'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60],
      registers,
    });
    this.maxConcurrent = new Gauge({
      name: 'controller_runtime_max_concurrent_reconciles',
      help: 'Maximum number of concurrent reconciles per controller',
      labelNames: ['controller'],
      registers,
    });
    this.activeWorkers = new Gauge({
      name: 'controller_runtime_active_workers',
      help: 'Number of currently used workers per controller',
      labelNames: ['controller'],
      registers,
    });
  }

  forController(controller: string, workers: number): ControllerMetrics {
    for (const result of RESULTS) this.total.inc({ controller, result }, 0);
    this.errors.inc({ controller }, 0);
    this.terminalErrors.inc({ controller }, 0);
    this.panics.inc({ controller }, 0);
    this.maxConcurrent.set({ controller }, workers);
    this.activeWorkers.set({ controller }, 0);
    return {
      reconciled: (result, seconds) => {
        this.total.inc({ controller, result });
        this.time.observe({ controller }, seconds);
      },
      failed: (terminal) => {
        this.errors.inc({ controller });
        if (terminal) this.terminalErrors.inc({ controller });
      },
      panicked: () => {
        this.panics.inc({ controller });
      },
      workerStarted: () => {
        this.activeWorkers.inc({ controller });
      },
      workerStopped: () => {
        this.activeWorkers.dec({ controller });
      },
    };
  }
}
