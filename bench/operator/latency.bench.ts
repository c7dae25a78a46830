/**
 * End-to-end benchmark of the built operator (`dist/`) on a local T1 control plane of its own,
 * with an audit log: BENCH_GROUPS groups of BENCH_ITEMS items each; every item pod is told to
 * succeed as soon as it runs, and every group runs BENCH_RUNS_PER_GROUP times, all at once.
 * Measures, as a watcher of the API sees it:
 * - hand-over latency: from a pod turning Succeeded to the next pod of its group appearing;
 * - the operator's API requests per run, by verb, resource and answer, from kube-apiserver's
 *   audit log (the operator's user agent), and the TCP connections it opened (through a
 *   counting pass-through in front of kube-apiserver);
 * - idle: the groups' frequency is then raised to 1h and, once the last runs have closed, the
 *   operator's requests and connections in BENCH_IDLE_SECONDS (only Lease renewals, and none
 *   here: leader election is off, should remain);
 * - memory from the operator's own metrics: RSS peak while running and at idle, heap used.
 *
 * Run: npm run bench:operator (BENCH_GROUPS, BENCH_ITEMS, BENCH_RUNS_PER_GROUP,
 * BENCH_IDLE_SECONDS override 50, 3, BENCH_ITEMS and 30). Extra OAAT_* settings pass through.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Watch, type V1Pod } from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../../src/container.ts';
import { TestCluster } from '../../test/support/cluster.ts';
import { REPO_ROOT, startControlPlane, stopControlPlane } from '../../test/support/control-plane.ts';
import { CountingPassThrough } from '../../test/support/counting-pass-through.ts';
import { installOaatCrds } from '../../test/support/oaat.ts';
import { simulateOutcome } from '../../test/support/pods.ts';

const GROUPS = Number(process.env.BENCH_GROUPS ?? 50);
const ITEMS = Number(process.env.BENCH_ITEMS ?? 3);
// One run per item: each hand-over then finds a never-run item eligible at once.
const RUNS_PER_GROUP = Number(process.env.BENCH_RUNS_PER_GROUP ?? ITEMS);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 30);

interface AuditEvent {
  auditID: string;
  stage: string;
  verb: string;
  userAgent?: string;
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The operator's requests among `events`, one per audit ID, counted by `verb resource[/sub] code`. */
function operatorRequests(events: AuditEvent[]): Map<string, number> {
  const last = new Map<string, AuditEvent>();
  for (const event of events) if (event.userAgent?.startsWith(FIELD_MANAGER) === true) last.set(event.auditID, event);
  const counts = new Map<string, number>();
  for (const event of last.values()) {
    const resource = `${event.objectRef?.resource ?? ''}${event.objectRef?.subresource === undefined ? '' : `/${event.objectRef.subresource}`}`;
    const key = `${event.verb} ${resource} ${String(event.responseStatus?.code ?? (event.stage === 'ResponseStarted' ? 'open' : '?'))}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return new Map([...counts].sort(([a], [b]) => a.localeCompare(b)));
}

const stateDir = mkdtempSync(path.join(os.tmpdir(), 'oaat-bench-'));
const info = startControlPlane({ stateDir, tier: 'T1', ownerPid: process.pid, audit: true });
const cluster = new TestCluster(info);
const { counter, kubeconfig } = await CountingPassThrough.inFrontOf(info.kubeconfig);
let operator: ReturnType<typeof spawn> | undefined;
try {
  await installOaatCrds(cluster);
  const namespace = await cluster.createNamespace('bench');
  await cluster.apply(
    [
      {
        apiVersion: 'kawaja.net/v1',
        kind: 'OaatType',
        metadata: { name: 'runner' },
        spec: { type: 'pod', podspec: { nodeName: info.node, container: { name: 'main', image: 'oaat.invalid/bench' } } },
      } as never,
    ],
    namespace,
  );

  const succeededAt = new Map<string, number>(); // group -> time its last pod was seen Succeeded
  const latencies: number[] = [];
  const runs = new Map<string, number>();
  const told = new Set<string>();
  let done = 0;
  const finished = new Promise<void>((resolve) => {
    void new Watch(cluster.kubeConfig).watch(
      `/api/v1/namespaces/${namespace}/pods`,
      {},
      (type: string, pod: V1Pod) => {
        const group = pod.metadata?.labels?.['parent-name'] ?? '';
        const name = pod.metadata?.name ?? '';
        const now = performance.now();
        if (type === 'ADDED') {
          const previous = succeededAt.get(group);
          if (previous !== undefined) latencies.push(now - previous);
          succeededAt.delete(group);
        }
        if (pod.status?.phase === 'Running' && !told.has(name)) {
          told.add(name);
          void simulateOutcome(cluster.core, namespace, name, { outcome: 'succeed' });
        }
        if (pod.status?.phase === 'Succeeded' && !succeededAt.has(group) && told.has(name) && !told.has(`${name}/done`)) {
          told.add(`${name}/done`);
          succeededAt.set(group, now);
          const count = (runs.get(group) ?? 0) + 1;
          runs.set(group, count);
          if (count === RUNS_PER_GROUP && ++done === GROUPS) resolve();
        }
      },
      () => undefined,
    );
  });

  const metricsPort = await freePort();
  operator = spawn(process.execPath, [path.join(REPO_ROOT, 'dist/main.js')], {
    env: {
      ...process.env,
      KUBECONFIG: kubeconfig,
      OAAT_WATCH_NAMESPACES: namespace,
      OAAT_LEADER_ELECT: 'false',
      OAAT_HTTP_ADDRESS: `127.0.0.1:${String(metricsPort)}`,
      OAAT_LOG_LEVEL: 'warn',
      // Succeeded pods are kept (1 per group) as by default; items stay eligible immediately.
    },
    stdio: 'ignore',
  });
  const metric = async (name: string): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${String(metricsPort)}/metrics`)).text();
    return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  };
  let peakRss = 0;
  const sampler = setInterval(() => {
    void metric('process_resident_memory_bytes').then((rss) => { if (rss > peakRss) peakRss = rss; }, () => undefined);
  }, 500);

  const readAudit = (): AuditEvent[] => readFileSync(info.auditLog ?? '', 'utf8').trim().split('\n').map((line) => JSON.parse(line) as AuditEvent);
  const started = performance.now();
  const connectionsBefore = counter.accepted;
  const groups = Array.from({ length: GROUPS }, (_, g) => ({
    apiVersion: 'kawaja.net/v1',
    kind: 'OaatGroup',
    metadata: { name: `group-${String(g)}` },
    spec: { frequency: '1s', oaatType: 'runner', oaatItems: Array.from({ length: ITEMS }, (_, i) => `item-${String(i)}`) },
  }));
  await cluster.apply(groups, namespace);
  await Promise.race([finished, sleep(1_800_000).then(() => { throw new Error('benchmark did not finish in 30 minutes'); })]);
  const elapsed = (performance.now() - started) / 1000;
  const runConnections = counter.accepted - connectionsBefore;
  const totalRuns = GROUPS * RUNS_PER_GROUP;
  const runRequests = operatorRequests(readAudit());

  // Idle: nothing is eligible for an hour; after the runs in flight closed, count what is still sent.
  await cluster.apply(groups.map((group) => ({ ...group, spec: { ...group.spec, frequency: '1h' } })), namespace);
  await sleep(10_000);
  const idleFrom = readAudit().length;
  const idleConnectionsFrom = counter.accepted;
  await sleep(IDLE_SECONDS * 1000);
  const idleRequests = operatorRequests(readAudit().slice(idleFrom));
  clearInterval(sampler);
  const mib = (bytes: number): number => Math.round(bytes / 1048576);

  console.log(JSON.stringify({
    groups: GROUPS,
    itemsPerGroup: ITEMS,
    runs: totalRuns,
    elapsedSeconds: Number(elapsed.toFixed(1)),
    handOverMs: { p50: Math.round(percentile(latencies, 0.5)), p90: Math.round(percentile(latencies, 0.9)), p99: Math.round(percentile(latencies, 0.99)), max: Math.round(Math.max(...latencies)), samples: latencies.length },
    requestsPerRun: Object.fromEntries([...runRequests].map(([key, count]) => [key, Number((count / totalRuns).toFixed(2))])),
    connectionsOpened: runConnections,
    idle: {
      seconds: IDLE_SECONDS,
      requests: Object.fromEntries(idleRequests),
      connectionsOpened: counter.accepted - idleConnectionsFrom,
    },
    memoryMiB: { rssPeak: mib(peakRss), rssIdle: mib(await metric('process_resident_memory_bytes')), heapUsedIdle: mib(await metric('nodejs_heap_size_used_bytes')) },
    eventsDropped: await metric('oaat_events_dropped_total'),
  }, null, 2));
} finally {
  operator?.kill('SIGKILL');
  await counter.stop();
  stopControlPlane(stateDir);
}
// The benchmark's own watch would keep the process waiting for a server that is gone.
process.exit(0);
