/**
 * What the end-to-end operator benchmarks share: the built operator (`dist/main.js`) run as a
 * child process with its metrics on a free loopback port, its metrics read, and its API
 * requests counted from kube-apiserver's audit log.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import { FIELD_MANAGER } from '../../src/container.ts';
import { PODS } from '../../src/controllers/resources.ts';
import { KubeClient, type ApiClient } from '../../src/runtime/client.ts';
import { clusterAccess, type TestCluster } from '../../test/support/cluster.ts';
import { REPO_ROOT } from '../../test/support/control-plane.ts';
import { installOaatCrds } from '../../test/support/oaat.ts';
import { SIM } from '../../test/support/pods.ts';

export interface AuditEvent {
  auditID: string;
  stage: string;
  verb: string;
  userAgent?: string;
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number };
  /** RFC 3339 with microseconds, the API server's clock. */
  requestReceivedTimestamp?: string;
  stageTimestamp?: string;
}

/** Whether the operator sent the request (its user agent). */
export function isOperator(event: AuditEvent): boolean {
  return event.userAgent?.startsWith(FIELD_MANAGER) === true;
}

/** Runs `work` for every value, at most `concurrency` at a time. */
export async function inParallel<T>(values: readonly T[], work: (value: T) => Promise<unknown>, concurrency = 16): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < values.length) await work(values[next++] as T);
  }));
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

/** p50, p90, p99 and max of `values` (ms), rounded, and how many there were. */
export function latencySummary(values: readonly number[]): Record<string, number> {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number): number => Math.round(percentile(sorted, p));
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1), samples: sorted.length };
}

/** A Prometheus histogram at one moment: cumulative counts by upper bound (seconds). */
export type HistogramCounts = readonly { le: number; count: number }[];

/**
 * p50/p90/p99 in ms of what a histogram observed between two readings, interpolated within
 * buckets as Prometheus' `histogram_quantile` does, and the share of observations within
 * `withinMs` (exact when `withinMs` is a bucket bound).
 */
export function histogramSummary(from: HistogramCounts, to: HistogramCounts, withinMs: number): Record<string, number> {
  const buckets = to.map(({ le, count }, i) => ({ le, count: count - (from[i]?.count ?? 0) }));
  const total = buckets.at(-1)?.count ?? 0;
  const quantile = (q: number): number => {
    const rank = q * total;
    const index = buckets.findIndex(({ count }) => count >= rank);
    const bucket = buckets[index];
    if (bucket === undefined) return Number.NaN;
    const lower = index === 0 ? { le: 0, count: 0 } : (buckets[index - 1] ?? { le: 0, count: 0 });
    if (!Number.isFinite(bucket.le)) return Math.round(lower.le * 1000);
    const inBucket = bucket.count - lower.count;
    return Math.round((lower.le + (bucket.le - lower.le) * (inBucket === 0 ? 1 : (rank - lower.count) / inBucket)) * 1000);
  };
  const within = buckets.find(({ le }) => le * 1000 >= withinMs)?.count ?? total;
  return { p50: quantile(0.5), p90: quantile(0.9), p99: quantile(0.99), [`within${String(withinMs)}ms`]: Number((within / Math.max(1, total)).toFixed(4)), samples: total };
}

export const mib = (bytes: number): number => Math.round(bytes / 1048576);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Installs the CRDs and creates a namespace for the benchmark with the OaatType `runner`: pods
 * on the control plane's KWOK node.
 */
export async function benchNamespace(cluster: TestCluster): Promise<string> {
  await installOaatCrds(cluster);
  const namespace = await cluster.createNamespace('bench');
  const runner = {
    apiVersion: 'kawaja.net/v1',
    kind: 'OaatType',
    metadata: { name: 'runner' },
    spec: { type: 'pod', podspec: { nodeName: cluster.info.node, container: { name: 'main', image: 'oaat.invalid/bench' } } },
  };
  await cluster.apply([runner], namespace);
  return namespace;
}

/** The benchmark's own client: pooled connections, no rate limit, user agent `oaat-bench`. */
export function benchClient(cluster: TestCluster): KubeClient {
  return new KubeClient({ access: clusterAccess(cluster.kubeConfig), fieldManager: 'oaat-bench', userAgent: 'oaat-bench' });
}

/**
 * Tells KWOK to end the pod with success at `at` (epoch ms; KWOK takes RFC 3339 with a
 * fraction), or at once. Through `client` (pooled connections: a thousand at once must not open
 * a thousand), tried again after a failure, up to 5 times.
 */
export async function tellToSucceed(client: ApiClient, namespace: string, name: string, at?: number): Promise<void> {
  const annotations = { [SIM.outcome]: 'succeed', ...(at !== undefined && { [SIM.after]: new Date(at).toISOString() }) };
  for (let attempt = 1; ; attempt++) {
    try {
      await client.patch(PODS, namespace, name, { metadata: { annotations } });
      return;
    } catch (error) {
      if (attempt === 5) throw error;
      await sleep(1_000);
    }
  }
}

/** How far the audit log at `file` is written now (a mark for {@link readAudit}). */
export function auditMark(file: string): number {
  return statSync(file).size;
}

/**
 * The audit events written to `file` between two marks (byte offsets; default: from the start,
 * to the end). An event a mark cuts is lost: at most one at each end.
 */
export function readAudit(file: string, fromBytes = 0, toBytes?: number): AuditEvent[] {
  return readFileSync(file).subarray(fromBytes, toBytes).toString('utf8').split('\n').flatMap((line) => {
    try {
      return [JSON.parse(line) as AuditEvent];
    } catch {
      return [];
    }
  });
}

/** The operator's requests among `events`, one per audit ID, counted by `verb resource[/sub] code`. */
export function operatorRequests(events: readonly AuditEvent[]): Map<string, number> {
  const last = new Map<string, AuditEvent>();
  for (const event of events) if (isOperator(event)) last.set(event.auditID, event);
  const counts = new Map<string, number>();
  for (const event of last.values()) {
    const resource = `${event.objectRef?.resource ?? ''}${event.objectRef?.subresource === undefined ? '' : `/${event.objectRef.subresource}`}`;
    const key = `${event.verb} ${resource} ${String(event.responseStatus?.code ?? (event.stage === 'ResponseStarted' ? 'open' : '?'))}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return new Map([...counts].sort(([a], [b]) => a.localeCompare(b)));
}

/** The node flags the chart's default values put on the operator's command (templates/deployment.yaml). */
export function chartNodeFlags(): string[] {
  const values = parse(readFileSync(path.join(REPO_ROOT, 'charts/oaat-operator/values.yaml'), 'utf8')) as {
    node: { optimizeForSize: boolean; maxSemiSpaceMiB: number; maxOldSpaceMiB: number };
  };
  const { optimizeForSize, maxSemiSpaceMiB, maxOldSpaceMiB } = values.node;
  return [
    ...(optimizeForSize ? ['--optimize-for-size'] : []),
    `--max-semi-space-size=${String(maxSemiSpaceMiB)}`,
    ...(maxOldSpaceMiB > 0 ? [`--max-old-space-size=${String(maxOldSpaceMiB)}`] : []),
  ];
}

/**
 * CPU time of named processes (the operator, kube-apiserver, etcd, KWOK, this benchmark),
 * sampled from /proc every `everyMs`, so that what each used over a span known only afterwards
 * (e.g. a wave found in the audit log) can be told: who had the cores.
 */
export class ProcessCpu {
  private readonly samples: { at: number; ms: Map<string, number> }[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly tickMs = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

  constructor(private readonly pids: ReadonlyMap<string, number>, everyMs = 250) {
    this.sample();
    this.timer = setInterval(() => { this.sample(); }, everyMs);
  }

  /** The processes of a control plane whose state directory is `stateDir` (the `*.pid` files hack/control-plane.sh writes: "pid starttime"). */
  static controlPlanePids(stateDir: string): Map<string, number> {
    return new Map(['kube-apiserver', 'etcd', 'kwok'].map((name) => [name, Number(readFileSync(path.join(stateDir, `${name}.pid`), 'utf8').split(' ')[0])]));
  }

  /** Cores each process used on average between `from` and `to` (epoch ms), from the samples nearest inside the span. */
  coresBetween(from: number, to: number): Record<string, number> {
    const inside = this.samples.filter((sample) => sample.at >= from && sample.at <= to);
    const first = inside[0];
    const last = inside.at(-1);
    if (first === undefined || last === undefined || last.at === first.at) return {};
    return Object.fromEntries(
      [...this.pids.keys()].map((name) => [name, Number((((last.ms.get(name) ?? 0) - (first.ms.get(name) ?? 0)) / (last.at - first.at)).toFixed(2))]),
    );
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sample(): void {
    const ms = new Map<string, number>();
    for (const [name, pid] of this.pids) {
      try {
        // utime and stime: fields 14 and 15, counted after the command name's closing parenthesis.
        const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        ms.set(name, (Number(fields[11]) + Number(fields[12])) * this.tickMs);
      } catch {
        // gone: no sample
      }
    }
    this.samples.push({ at: Date.now(), ms });
  }
}

/** The built operator as a child process, watching `namespace`, leader election off. */
export class BenchOperator {
  private constructor(
    readonly process: ChildProcess,
    private readonly metricsPort: number,
  ) {}

  /**
   * Starts `dist/main.js` with `env` over the benchmark's environment (OAAT_* settings pass
   * through), with the node flags of the chart's container (see {@link chartNodeFlags}), or of
   * BENCH_NODE_FLAGS when set (space-separated; empty: none), then `extraFlags`.
   */
  static async start(kubeconfig: string, namespace: string, env: Record<string, string> = {}, extraFlags: readonly string[] = []): Promise<BenchOperator> {
    const metricsPort = await freePort();
    const flags = process.env.BENCH_NODE_FLAGS === undefined ? chartNodeFlags() : process.env.BENCH_NODE_FLAGS.split(' ').filter((flag) => flag !== '');
    const child = spawn(process.execPath, [...flags, ...extraFlags, path.join(REPO_ROOT, 'dist/main.js')], {
      env: {
        ...process.env,
        KUBECONFIG: kubeconfig,
        OAAT_WATCH_NAMESPACES: namespace,
        OAAT_LEADER_ELECT: 'false',
        OAAT_HTTP_ADDRESS: `127.0.0.1:${String(metricsPort)}`,
        OAAT_LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: 'ignore',
    });
    const operator = new BenchOperator(child, metricsPort);
    // Up once its HTTP server answers (before that, its metrics cannot be read).
    for (let tries = 0; ; tries++) {
      try {
        await operator.metrics();
        return operator;
      } catch (error) {
        if (tries === 300) throw error;
        await sleep(100);
      }
    }
  }

  /** The operator's metrics in the text format; rejects while its HTTP server is not up. */
  async metrics(): Promise<string> {
    return (await fetch(`http://127.0.0.1:${String(this.metricsPort)}/metrics`)).text();
  }

  /** The sum of a metric's samples whose labels contain every `label="value"` in `labels`. */
  async metric(name: string, labels: readonly string[] = []): Promise<number> {
    const text = await this.metrics();
    let sum = Number.NaN;
    for (const match of text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))) {
      if (!labels.every((label) => (match[1] ?? '').includes(label))) continue;
      sum = (Number.isNaN(sum) ? 0 : sum) + Number(match[2]);
    }
    return sum;
  }

  /** A histogram's cumulative bucket counts (by upper bound in seconds, `+Inf` last). */
  async histogram(name: string): Promise<HistogramCounts> {
    const text = await this.metrics();
    return [...text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)$`, 'gm'))].map((match) => ({ le: Number(match[1]), count: Number(match[2]) }));
  }

  /**
   * The process's peak RSS so far (bytes), as the kernel keeps it (`VmHWM`): exact, and read
   * without a scrape (a scrape every few hundred ms costs the operator CPU at scale: every
   * domain gauge is computed at each one).
   */
  peakRss(): number {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${String(this.process.pid)}/status`, 'utf8'));
    if (match === null) throw new Error(`no VmHWM for process ${String(this.process.pid)}`);
    return Number(match[1]) * 1024;
  }

  /** SIGTERM, and SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const exited = new Promise((resolve) => this.process.once('exit', resolve));
    this.process.kill('SIGTERM');
    await Promise.race([exited, sleep(graceMs)]);
    this.process.kill('SIGKILL');
  }
}
