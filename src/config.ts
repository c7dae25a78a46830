/**
 * Operator settings: one typed object read from the environment, with defaults fit for
 * production. Every time constant the run protocol depends on is here, so tests can shrink
 * them instead of sleeping.
 *
 * Durations use Go's notation (`500ms`, `15s`, `1m30s`), like controller-runtime's flags.
 */
import { MAX_STATUS_ITEMS } from './api/v1/schema.ts';
import type { LogLevel } from './runtime/logger.ts';
import { POD_RESTRICTIONS, type PodRestriction } from './services/pod-restrictions.ts';

export interface LeaderElectionConfig {
  /** Off for local runs; the run protocol stays safe without it (architecture.md §3). */
  enabled: boolean;
  /** Namespace and name of the coordination.k8s.io/v1 Lease. */
  namespace: string;
  name: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export interface OperatorConfig {
  /** Namespaces to watch; empty means all. */
  namespaces: string[];
  /** Reconciles running at once per controller (one key is never reconciled concurrently). */
  workers: number;
  /** Longest wait before an idle group is reconciled again (a safety net, not the scheduler). */
  requeueCapMs: number;
  /** A failed item is not retried sooner than this, even without a failure cool-off. */
  retryFloorMs: number;
  /** A claimed run whose pod was never observed may still create it within this time. */
  createGraceMs: number;
  /** A run's pod still present this long after its deletion was due is reported as Stuck. */
  stuckAfterMs: number;
  /** Finished pods kept per group: the newest succeeded and failed ones, none older than the retention period. */
  successfulPodsHistoryLimit: number;
  failedPodsHistoryLimit: number;
  podRetentionMs: number;
  /** The CRD's bound on `status.items` keys (MAX_STATUS_ITEMS); only tests lower it. */
  statusItemsLimit: number;
  /** Whether groups may read items from ConfigMaps (spec.oaatItemsFrom): a cache of the labelled ones, and get/list/watch on configmaps. */
  configMapItems: boolean;
  /** Pod features refused in OaatTypes (services/pod-restrictions.ts); empty: none, the default. */
  podRestrictions: ReadonlySet<PodRestriction>;
  /** Per-key retry backoff after reconcile errors: first delay and cap. */
  backoffBaseMs: number;
  backoffCapMs: number;
  leaderElection: LeaderElectionConfig;
  /** The API client's timeout of one request (watches excluded); must be shorter than the create grace. */
  requestTimeoutMs: number;
  /**
   * kube-apiserver's `--request-timeout` (60 s unless the cluster sets it): how long after it
   * arrived a request the client gave up on can still take effect.
   */
  serverRequestTimeoutMs: number;
  /**
   * Client-side limit of run-critical requests (claims, creates, closes, reads; watches
   * excluded): sustained rate and burst; 0 means none, the default. Their concurrency is bounded
   * by the workers, and the API server's Priority and Fairness queues them (429s are retried
   * after the server's Retry-After); a limit is for servers without it.
   */
  clientQps: number;
  clientBurst: number;
  /** Client-side limit of retention deletes (which no run waits for): sustained rate and burst. */
  backgroundQps: number;
  backgroundBurst: number;
  /** Events written at most: sustained rate and burst; Events beyond them are dropped (and counted). */
  eventQps: number;
  eventBurst: number;
  /**
   * After SIGTERM, the process exits by itself this long later if stopping has not finished:
   * shorter than the pod's termination grace period, so it exits before the kubelet kills it.
   */
  shutdownTimeoutMs: number;
  /** host:port of the /healthz, /readyz and /metrics server; no host: every address, IPv6 too where available. */
  httpAddress: string;
  logLevel: LogLevel;
  /** `json` in a cluster, `text` for people; `auto` picks text on a TTY. */
  logFormat: 'json' | 'text' | 'auto';
  /**
   * Per-item metrics (`oaat_item_*`): `auto` exports them while the cached groups list at most
   * ITEM_METRICS_AUTO_LIMIT items in all (services/group-metrics.ts), `on` and `off` force them.
   */
  itemMetrics: 'auto' | 'on' | 'off';
}

/** The environment variable for each setting. */
export const CONFIG_ENV = {
  namespaces: 'OAAT_WATCH_NAMESPACES',
  workers: 'OAAT_WORKERS',
  requeueCap: 'OAAT_REQUEUE_CAP',
  retryFloor: 'OAAT_RETRY_FLOOR',
  createGrace: 'OAAT_CREATE_GRACE',
  stuckAfter: 'OAAT_STUCK_AFTER',
  successfulPodsHistoryLimit: 'OAAT_SUCCESSFUL_PODS_HISTORY_LIMIT',
  failedPodsHistoryLimit: 'OAAT_FAILED_PODS_HISTORY_LIMIT',
  podRetention: 'OAAT_POD_RETENTION',
  podRestrictions: 'OAAT_POD_RESTRICTIONS',
  configMapItems: 'OAAT_CONFIGMAP_ITEMS',
  backoffBase: 'OAAT_BACKOFF_BASE',
  backoffCap: 'OAAT_BACKOFF_CAP',
  leaderElect: 'OAAT_LEADER_ELECT',
  leaseNamespace: 'OAAT_LEASE_NAMESPACE',
  leaseName: 'OAAT_LEASE_NAME',
  leaseDuration: 'OAAT_LEASE_DURATION',
  renewDeadline: 'OAAT_RENEW_DEADLINE',
  retryPeriod: 'OAAT_RETRY_PERIOD',
  requestTimeout: 'OAAT_REQUEST_TIMEOUT',
  serverRequestTimeout: 'OAAT_SERVER_REQUEST_TIMEOUT',
  clientQps: 'OAAT_CLIENT_QPS',
  clientBurst: 'OAAT_CLIENT_BURST',
  backgroundQps: 'OAAT_BACKGROUND_QPS',
  backgroundBurst: 'OAAT_BACKGROUND_BURST',
  eventQps: 'OAAT_EVENT_QPS',
  eventBurst: 'OAAT_EVENT_BURST',
  shutdownTimeout: 'OAAT_SHUTDOWN_TIMEOUT',
  httpAddress: 'OAAT_HTTP_ADDRESS',
  logLevel: 'OAAT_LOG_LEVEL',
  logFormat: 'OAAT_LOG_FORMAT',
  itemMetrics: 'OAAT_ITEM_METRICS',
} as const;

/** A setting that cannot be used; the message names the variable and quotes the value. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Parses a Go-style duration (`250ms`, `15s`, `1h30m`; no sign, no bare numbers) to milliseconds. */
export function parseGoDuration(text: string): number {
  const trimmed = text.trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(trimmed)) {
    throw new Error(`"${text}" is not a duration (examples: 500ms, 15s, 1m30s)`);
  }
  let total = 0;
  for (const [, amount, , unit] of trimmed.matchAll(/(\d+(\.\d+)?)(ms|s|m|h)/g)) {
    total += Number(amount) * (UNIT_MS[unit ?? ''] ?? Number.NaN);
  }
  return Math.round(total);
}

/** One line of `--help` for each setting. */
export const CONFIG_HELP: Record<keyof typeof CONFIG_ENV, string> = {
  namespaces: 'namespaces to watch, comma-separated; none: all',
  workers: 'reconciles at once, per controller',
  requeueCap: 'longest wait before an idle group is looked at again',
  retryFloor: 'a failed item is not retried sooner than this',
  createGrace: 'a claimed run whose pod was never seen may still create it within this',
  stuckAfter: 'a run\'s pod still there this long after its deletion was due is reported Stuck',
  successfulPodsHistoryLimit: 'succeeded pods kept per group (a group\'s spec may say otherwise)',
  failedPodsHistoryLimit: 'failed pods kept per group (a group\'s spec may say otherwise)',
  podRetention: 'finished pods older than this are deleted whatever the limits',
  configMapItems: 'read items from ConfigMaps labelled oaat.kawaja.net/items=true (spec.oaatItemsFrom); needs get, list, watch on configmaps',
  podRestrictions: `pod features refused in OaatTypes, comma-separated: ${POD_RESTRICTIONS.join(', ')} or all; none: nothing refused`,
  backoffBase: 'first retry delay after a reconcile error',
  backoffCap: 'longest retry delay after reconcile errors',
  leaderElect: 'take a Lease before acting (true for more than one replica)',
  leaseNamespace: 'namespace of the Lease',
  leaseName: 'name of the Lease',
  leaseDuration: 'how long a Lease holds without renewal',
  renewDeadline: 'the leader gives up when it could not renew for this long',
  retryPeriod: 'how often the Lease is tried and renewed',
  requestTimeout: 'timeout of one API request (watches excluded); below the create grace',
  serverRequestTimeout: 'kube-apiserver\'s --request-timeout',
  clientQps: 'client-side limit of run-critical requests a second; 0: none (the API server\'s Priority and Fairness governs)',
  clientBurst: 'burst of that limit',
  backgroundQps: 'retention deletes a second at most',
  backgroundBurst: 'burst of retention deletes',
  eventQps: 'Events a second at most; beyond the budget they are dropped and counted',
  eventBurst: 'burst of Events',
  shutdownTimeout: 'after SIGTERM, exit by this time even if stopping has not finished; below the pod\'s grace period',
  httpAddress: 'host:port of /healthz, /readyz and /metrics; no host: every address, IPv6 too',
  logLevel: 'error, warn, info or debug',
  logFormat: 'json, text, or auto (text on a terminal)',
  itemMetrics: 'per-item metrics: on, off, or auto (on while all groups list at most 2,000 items)',
};

/** The command-line flag of the setting read from the environment variable `name`: OAAT_WORKERS → `--workers`. */
export function flagOf(name: string): string {
  return `--${name.replace(/^OAAT_/, '').toLowerCase().replace(/_/g, '-')}`;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads the settings from `env` and from `flags` (values by environment variable name; a flag
 * wins), applying defaults; throws ConfigError on any unusable value, naming it as it was given.
 */
export function loadConfig(env: Env, flags: Env = {}): OperatorConfig {
  return readConfig(new EnvReader(env, flags));
}

/** Every setting with its flag, environment variable, default (as it would be written) and help line. */
export function describeSettings(): { flag: string; env: string; fallback: string; help: string }[] {
  const read = new EnvReader({}, {});
  readConfig(read);
  return (Object.keys(CONFIG_ENV) as (keyof typeof CONFIG_ENV)[]).map((key) => {
    const env = CONFIG_ENV[key];
    return { flag: flagOf(env), env, fallback: read.fallbacks.get(env) ?? '', help: CONFIG_HELP[key] };
  });
}

function readConfig(read: EnvReader): OperatorConfig {
  const config: OperatorConfig = {
    namespaces: read.list(CONFIG_ENV.namespaces),
    // Reconciles wait on the API server, not on the CPU: with fewer workers a burst of hand-overs
    // queues in the operator behind requests in flight, rather than in the API server's Priority
    // and Fairness (bench/REPORT.md: 16 workers held a close 10 s at p99 in a burst of 1,000; 256, 5 ms).
    workers: read.integer(CONFIG_ENV.workers, 256, 1),
    requeueCapMs: read.duration(CONFIG_ENV.requeueCap, 60_000),
    retryFloorMs: read.duration(CONFIG_ENV.retryFloor, 60_000),
    createGraceMs: read.duration(CONFIG_ENV.createGrace, 60_000),
    stuckAfterMs: read.duration(CONFIG_ENV.stuckAfter, 5 * 60_000),
    successfulPodsHistoryLimit: read.integer(CONFIG_ENV.successfulPodsHistoryLimit, 1, 0),
    failedPodsHistoryLimit: read.integer(CONFIG_ENV.failedPodsHistoryLimit, 3, 0),
    podRetentionMs: read.duration(CONFIG_ENV.podRetention, 12 * 3_600_000),
    statusItemsLimit: MAX_STATUS_ITEMS,
    podRestrictions: read.subset(CONFIG_ENV.podRestrictions, POD_RESTRICTIONS),
    configMapItems: read.boolean(CONFIG_ENV.configMapItems, true),
    backoffBaseMs: read.duration(CONFIG_ENV.backoffBase, 5),
    backoffCapMs: read.duration(CONFIG_ENV.backoffCap, 60_000),
    leaderElection: {
      enabled: read.boolean(CONFIG_ENV.leaderElect, true),
      namespace: read.string(CONFIG_ENV.leaseNamespace, 'default'),
      name: read.string(CONFIG_ENV.leaseName, 'oaat-operator'),
      leaseDurationMs: read.duration(CONFIG_ENV.leaseDuration, 15_000),
      renewDeadlineMs: read.duration(CONFIG_ENV.renewDeadline, 10_000),
      retryPeriodMs: read.duration(CONFIG_ENV.retryPeriod, 2_000),
    },
    requestTimeoutMs: read.duration(CONFIG_ENV.requestTimeout, 30_000),
    serverRequestTimeoutMs: read.duration(CONFIG_ENV.serverRequestTimeout, 60_000),
    // No client-side limit on the run lane (as controller-runtime since #3119, on SIG API
    // Machinery's advice): a limit of 100/s made a burst of 1,000 hand-overs drain at it (20 s)
    // while the API server took 1,100 writes a second (bench/REPORT.md, at scale).
    clientQps: read.integer(CONFIG_ENV.clientQps, 0, 0),
    clientBurst: read.integer(CONFIG_ENV.clientBurst, 200, 1),
    // One retention delete a run: 1,000 groups at 20 runs a second need 20 a second.
    backgroundQps: read.integer(CONFIG_ENV.backgroundQps, 100, 1),
    backgroundBurst: read.integer(CONFIG_ENV.backgroundBurst, 200, 1),
    eventQps: read.integer(CONFIG_ENV.eventQps, 50, 1),
    eventBurst: read.integer(CONFIG_ENV.eventBurst, 200, 1),
    shutdownTimeoutMs: read.duration(CONFIG_ENV.shutdownTimeout, 25_000),
    httpAddress: read.string(CONFIG_ENV.httpAddress, ':8080'),
    logLevel: read.choice(CONFIG_ENV.logLevel, ['error', 'warn', 'info', 'debug'] as const, 'info'),
    logFormat: read.choice(CONFIG_ENV.logFormat, ['json', 'text', 'auto'] as const, 'auto'),
    itemMetrics: read.choice(CONFIG_ENV.itemMetrics, ['auto', 'on', 'off'] as const, 'auto'),
  };
  const le = config.leaderElection;
  const label = (name: string): string => read.label(name);
  if (le.enabled && !(le.leaseDurationMs > le.renewDeadlineMs && le.renewDeadlineMs > le.retryPeriodMs)) {
    throw new ConfigError(
      `leader election needs ${label(CONFIG_ENV.leaseDuration)} > ${label(CONFIG_ENV.renewDeadline)} > ${label(CONFIG_ENV.retryPeriod)} ` +
        `(got ${String(le.leaseDurationMs)} ms, ${String(le.renewDeadlineMs)} ms, ${String(le.retryPeriodMs)} ms)`,
    );
  }
  if (config.requestTimeoutMs >= config.createGraceMs) {
    throw new ConfigError(
      `${label(CONFIG_ENV.requestTimeout)} must be shorter than ${label(CONFIG_ENV.createGrace)}: a run's pod is created only while a request sent then still ends within the grace ` +
        `(got ${String(config.requestTimeoutMs)} ms and ${String(config.createGraceMs)} ms)`,
    );
  }
  if (config.backoffBaseMs > config.backoffCapMs) {
    throw new ConfigError(`${label(CONFIG_ENV.backoffBase)} must not exceed ${label(CONFIG_ENV.backoffCap)}`);
  }
  return config;
}

/** Writes milliseconds in Go's duration notation, largest units first: 90000 → `1m30s`, 5 → `5ms`. */
export function formatGoDuration(ms: number): string {
  let rest = ms;
  let text = '';
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1_000], ['ms', 1]] as const) {
    const count = Math.floor(rest / size);
    if (count > 0) text += `${String(count)}${unit}`;
    rest -= count * size;
  }
  return text === '' ? '0s' : text;
}

/** Reads settings by environment variable name from flags, else the environment; remembers each default. */
class EnvReader {
  /** The default of each setting read, as it would be written. */
  readonly fallbacks = new Map<string, string>();

  constructor(
    private readonly env: Env,
    private readonly flags: Env,
  ) {}

  /** How the user gave the setting: its flag, or its environment variable. */
  label(name: string): string {
    return this.flags[name] !== undefined ? flagOf(name) : name;
  }

  private raw(name: string, fallback: string): string | undefined {
    this.fallbacks.set(name, fallback);
    const value = (this.flags[name] ?? this.env[name])?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  string(name: string, fallback: string): string {
    return this.raw(name, fallback) ?? fallback;
  }

  list(name: string): string[] {
    return (this.raw(name, '') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  }

  integer(name: string, fallback: number, min: number): number {
    const value = this.raw(name, String(fallback));
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min) {
      throw new ConfigError(`${this.label(name)}="${value}": expected an integer >= ${String(min)}`);
    }
    return parsed;
  }

  duration(name: string, fallbackMs: number): number {
    const value = this.raw(name, formatGoDuration(fallbackMs));
    if (value === undefined) return fallbackMs;
    let ms: number;
    try {
      ms = parseGoDuration(value);
    } catch (error) {
      throw new ConfigError(`${this.label(name)}: ${(error as Error).message}`);
    }
    if (ms <= 0) throw new ConfigError(`${this.label(name)}="${value}": must be longer than zero`);
    return ms;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.raw(name, String(fallback))?.toLowerCase();
    if (value === undefined) return fallback;
    if (['true', '1', 'yes'].includes(value)) return true;
    if (['false', '0', 'no'].includes(value)) return false;
    throw new ConfigError(`${this.label(name)}="${value}": expected true or false`);
  }

  /** A comma-separated subset of `allowed` (`all`: every one); none by default. */
  subset<T extends string>(name: string, allowed: readonly T[]): ReadonlySet<T> {
    const values = this.list(name);
    if (values.length === 1 && values[0] === 'all') return new Set(allowed);
    const unknown = values.filter((value) => !(allowed as readonly string[]).includes(value));
    if (unknown.length > 0) {
      throw new ConfigError(`${this.label(name)}="${values.join(',')}": ${unknown.map((u) => JSON.stringify(u)).join(', ')} not one of ${allowed.join(', ')} (or all alone)`);
    }
    return new Set(values as T[]);
  }

  choice<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name, fallback);
    if (value === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      throw new ConfigError(`${this.label(name)}="${value}": expected one of ${allowed.join(', ')}`);
    }
    return value as T;
  }
}
