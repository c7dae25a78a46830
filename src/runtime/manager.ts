/**
 * The manager runs an operator's parts in the right order and stops them in the right order.
 *
 * Start: probe server; informers, until every cache has synced (all replicas keep warm caches,
 * so a standby takes over quickly); leadership, when an elector is given; controllers.
 * Stop, on the `stop` signal (SIGTERM): controllers stop taking work and the reconciles in
 * flight finish; then the lease is released, so a standby takes over at once; then the
 * informers and the probe server stop. All of it within `shutdownTimeoutMs`.
 * Losing the lease stops the controllers at once and ends the run: the process must exit, as
 * controller-runtime's managers do, rather than keep working without the lease.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Controller } from './controller.ts';
import type { ProbeServer } from './http.ts';
import type { Informer } from './informer.ts';
import type { LeaderElector } from './leader-election.ts';
import { errorMeta, type Logger } from './logger.ts';

export interface ManagerOptions {
  informers: readonly Informer<KubernetesObject>[];
  controllers: readonly Controller[];
  /** Without one, controllers start as soon as the caches have synced. */
  leaderElector?: LeaderElector;
  probes: ProbeServer;
  logger: Logger;
  /** How long the caches may take to sync at start; default 2 minutes. */
  cacheSyncTimeoutMs?: number;
  /** Budget for the whole shutdown; default 30 s (the Pod's default grace period). */
  shutdownTimeoutMs?: number;
}

/** Why {@link Manager.run} ended; only `stopped` is a clean exit. */
export type RunOutcome = 'stopped' | 'lost-leadership' | 'cache-sync-failed';

export class Manager {
  constructor(private readonly options: ManagerOptions) {}

  /** Runs until `stop` aborts or leadership is lost; see the file comment for the order. */
  async run(stop: AbortSignal): Promise<RunOutcome> {
    const { informers, controllers, leaderElector, probes, logger } = this.options;
    await probes.listen();
    logger.info('serving probes and metrics', { port: probes.address.port });
    for (const informer of informers) informer.start();
    let outcome: RunOutcome = 'stopped';
    try {
      await Promise.all(informers.map((informer) => informer.waitForSync(this.options.cacheSyncTimeoutMs ?? 120_000, stop)));
      logger.info('caches synced', { informers: informers.map((informer) => informer.kind) });
      if (leaderElector) await leaderElector.acquire(stop);
      if (!stop.aborted) {
        for (const controller of controllers) controller.start();
        outcome = await this.untilStopped(stop);
      }
    } catch (error) {
      if (!stop.aborted) {
        logger.error('start-up failed', errorMeta(error));
        outcome = 'cache-sync-failed';
      }
    }
    await this.shutDown(outcome);
    return outcome;
  }

  private async untilStopped(stop: AbortSignal): Promise<RunOutcome> {
    const stopped = new Promise<RunOutcome>((resolve) => {
      if (stop.aborted) resolve('stopped');
      stop.addEventListener('abort', () => { resolve('stopped'); }, { once: true });
    });
    const lost = this.options.leaderElector?.lost.then((): RunOutcome => 'lost-leadership');
    return Promise.race(lost ? [stopped, lost] : [stopped]);
  }

  private async shutDown(outcome: RunOutcome): Promise<void> {
    const { informers, controllers, leaderElector, probes, logger } = this.options;
    const budget = this.options.shutdownTimeoutMs ?? 30_000;
    const deadline = Date.now() + budget;
    logger.info('shutting down', { reason: outcome });
    // Leaving reconciles running past the budget is better than hanging: the next leader
    // re-reads the state anyway.
    const drained = await Promise.race([
      Promise.all(controllers.map((controller) => controller.stop())).then(() => true),
      sleep(Math.max(0, budget - 5_000), false, { ref: false }),
    ]);
    if (!drained) logger.warn('reconciles still running at the shutdown deadline; leaving them');
    if (outcome === 'stopped' && leaderElector) await leaderElector.release();
    await Promise.all(informers.map((informer) => informer.stop()));
    await probes.close();
    logger.info('shut down', { ms: budget - (deadline - Date.now()) });
  }
}
