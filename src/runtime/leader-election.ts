/**
 * Leader election on a coordination.k8s.io/v1 Lease, after client-go's leaderelection.
 *
 * Guarantees: at most one elector believes it leads while clocks advance at similar rates
 * (expiry is judged by the local time at which the record was last seen to change, never by
 * timestamps another replica wrote); a leader that cannot renew within `renewDeadlineMs`
 * reports the loss (it must stop working: leadership is not a safety mechanism here, only a
 * way to avoid wasted work); a leader that releases clears the holder so a standby takes over
 * at its next retry, without waiting for expiry.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubernetesObject } from '@kubernetes/client-node';
import { Gauge, type Registry } from 'prom-client';
import { isAlreadyExists, isConflict, isNotFound } from './api-error.ts';
import type { KubeClient, ResourceType } from './client.ts';
import { errorMeta, type Logger } from './logger.ts';

export const LEASES: ResourceType = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', plural: 'leases', namespaced: true };

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease extends KubernetesObject {
  spec?: LeaseSpec;
}

export interface LeaderElectionOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  /** Unique per replica; default `<hostname>_<uuid>`. */
  identity?: string;
  /** How long a lease stays valid without renewal. */
  leaseDurationMs: number;
  /** A leader that cannot renew for this long gives up. Shorter than the lease duration. */
  renewDeadlineMs: number;
  /** Time between attempts to acquire or renew. */
  retryPeriodMs: number;
  logger: Logger;
  /** Registers `leader_election_master_status{name}` (1 while leading) here. */
  registry?: Registry;
}

/** Lease times are whole seconds on the wire. */
function leaseSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** RFC 3339 with microseconds, as MicroTime fields are written. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  readonly identity: string;
  private readonly log: Logger;
  private readonly status?: Gauge<'name'>;
  private leading = false;
  private observedRecord = '';
  private observedAt = 0;
  private stopRenewing = new AbortController();
  private renewing: Promise<void> | undefined;
  private resolveLost: () => void = () => undefined;
  /** Resolves when leadership, once acquired, is lost (not when it is released). */
  readonly lost: Promise<void>;

  constructor(private readonly options: LeaderElectionOptions) {
    this.identity = options.identity ?? `${hostname()}_${randomUUID()}`;
    this.log = options.logger.child({ lease: `${options.namespace}/${options.name}`, identity: this.identity });
    this.lost = new Promise((resolve) => (this.resolveLost = resolve));
    if (options.registry) {
      this.status = new Gauge({
        name: 'leader_election_master_status',
        help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master.',
        labelNames: ['name'],
        registers: [options.registry],
      });
      this.status.set({ name: options.name }, 0);
    }
  }

  isLeader(): boolean {
    return this.leading;
  }

  /**
   * Resolves once this replica holds the lease, then keeps renewing it in the background until
   * {@link release} or the loss of the lease. Rejects when `signal` aborts first.
   */
  async acquire(signal: AbortSignal): Promise<void> {
    this.log.info('waiting for leadership');
    while (!(await this.tryAcquireOrRenew())) {
      await sleep(this.jittered(), undefined, { signal });
    }
    this.setLeading(true);
    this.log.info('became leader');
    this.renewing = this.renewLoop(this.stopRenewing.signal);
  }

  /** Stops renewing and, if leading, hands the lease back so another replica takes over at once. */
  async release(): Promise<void> {
    this.stopRenewing.abort();
    await this.renewing;
    if (!this.leading) return;
    this.setLeading(false);
    try {
      const lease = await this.options.client.get<Lease>(LEASES, this.options.namespace, this.options.name);
      if (lease.spec?.holderIdentity !== this.identity) return;
      const now = Date.now();
      await this.options.client.update<Lease>(LEASES, {
        ...lease,
        spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(now), acquireTime: microTime(now) },
      });
      this.log.info('released leadership');
    } catch (error) {
      this.log.warn('could not release the lease; it will expire', errorMeta(error));
    }
  }

  private async renewLoop(signal: AbortSignal): Promise<void> {
    let lastRenew = Date.now();
    while (!signal.aborted) {
      try {
        await sleep(this.options.retryPeriodMs, undefined, { signal });
      } catch {
        return;
      }
      if (await this.tryAcquireOrRenew()) {
        lastRenew = Date.now();
      } else if (Date.now() - lastRenew > this.options.renewDeadlineMs) {
        this.setLeading(false);
        this.log.error('lost leadership: could not renew the lease in time', { renewDeadlineMs: this.options.renewDeadlineMs });
        this.resolveLost();
        return;
      }
    }
  }

  /** One attempt; true when this replica holds the lease afterwards. Never throws. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { client, namespace, name } = this.options;
    const now = Date.now();
    const desired = (current: LeaseSpec | undefined): LeaseSpec => {
      const mine = current?.holderIdentity === this.identity;
      return {
        holderIdentity: this.identity,
        leaseDurationSeconds: leaseSeconds(this.options.leaseDurationMs),
        acquireTime: mine && current.acquireTime !== undefined ? current.acquireTime : microTime(now),
        renewTime: microTime(now),
        leaseTransitions: (current?.leaseTransitions ?? 0) + (mine ? 0 : 1),
      };
    };
    try {
      let lease: Lease;
      try {
        lease = await client.get<Lease>(LEASES, namespace, name);
      } catch (error) {
        if (!isNotFound(error)) throw error;
        await client.create<Lease>(LEASES, {
          apiVersion: LEASES.apiVersion,
          kind: LEASES.kind,
          metadata: { namespace, name },
          spec: { ...desired(undefined), leaseTransitions: 0 },
        });
        return true;
      }
      const record = JSON.stringify(lease.spec ?? {});
      if (record !== this.observedRecord) {
        this.observedRecord = record;
        this.observedAt = now;
      }
      const holder = lease.spec?.holderIdentity ?? '';
      const validForMs = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
      if (holder !== '' && holder !== this.identity && this.observedAt + validForMs > now) return false;
      await client.update<Lease>(LEASES, { ...lease, spec: desired(lease.spec) });
      return true;
    } catch (error) {
      if (!isConflict(error) && !isAlreadyExists(error)) this.log.warn('lease request failed', errorMeta(error));
      return false;
    }
  }

  private setLeading(leading: boolean): void {
    this.leading = leading;
    this.status?.set({ name: this.options.name }, leading ? 1 : 0);
  }

  /**
   * The retry period less up to 10 % jitter, so replicas do not move in lockstep. Never more
   * than the period: a standby then takes over within leaseDuration + 2 x retryPeriod of the
   * leader's last renewal.
   */
  private jittered(): number {
    return this.options.retryPeriodMs * (0.9 + Math.random() * 0.1);
  }
}
