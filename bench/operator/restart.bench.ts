/**
 * The built operator restarted over a large installation, on a local T1 control plane of its
 * own with an audit log: BENCH_GROUPS groups of BENCH_ITEMS items, each item with a history
 * (last success in the last 12 hours, frequency 24h, runtime statistics with a full sample), and
 * one finished pod per group on a KWOK node.
 *
 * 1. Seed: the groups are created and their status written with that history, except that one
 *    item per group last succeeded 25 hours ago. A first operator runs that item of every group
 *    (the benchmark tells each pod to succeed), so every group has a status and a pod as the
 *    operator itself writes them; once its work queues stay empty it is stopped (SIGTERM).
 * 2. Restart: a second operator starts. Measured: the time from its start until every group
 *    was reconciled (the group queue received every group and is empty, no worker busy), its
 *    API requests during that time (audit log; a restart should only list and watch), its peak
 *    RSS and CPU seconds.
 * 3. Idle (BENCH_IDLE_SECONDS): RSS and heap used, and any request sent. With
 *    BENCH_HEAP_SNAPSHOT=1, then a heap snapshot of the operator, summarized (heap-summary.ts).
 *
 * Run: npm run bench:restart (BENCH_GROUPS, BENCH_ITEMS, BENCH_IDLE_SECONDS override 1000, 20
 * and 30). Extra OAAT_* settings and NODE_OPTIONS pass through to the operator.
 */
import { mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Pod } from '@kubernetes/client-node';
import type { ItemStatus, OaatGroup, RuntimeStatus } from '../../src/api/v1/types.ts';
import { OAATGROUPS, PODS } from '../../src/controllers/resources.ts';
import { TestCluster } from '../../test/support/cluster.ts';
import { startControlPlane, stopControlPlane } from '../../test/support/control-plane.ts';
import { auditMark, benchClient, BenchOperator, benchNamespace, inParallel, mib, operatorRequests, readAudit, tellToSucceed } from './harness.ts';
import { summarizeHeap } from './heap-summary.ts';

const GROUPS = Number(process.env.BENCH_GROUPS ?? 1000);
const ITEMS = Number(process.env.BENCH_ITEMS ?? 20);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 30);
const HEAP_SNAPSHOT = process.env.BENCH_HEAP_SNAPSHOT === '1';
const HOUR = 3_600_000;

/** Runtime statistics of `count` runs of about a minute, with a full sample of 32. */
function runtimeOf(count: number): RuntimeStatus {
  const sample = Array.from({ length: 32 }, () => Math.round(30 + Math.random() * 60)).sort((a, b) => a - b);
  const mean = sample.reduce((sum, value) => sum + value, 0) / sample.length;
  return { count, total: mean * count, sumSquares: mean * mean * count * 1.1, min: sample[0] ?? 0, max: sample.at(-1) ?? 0, sample };
}

/**
 * An item's history: last success within the last 12 hours (with the groups' frequency of 24h,
 * nothing else falls due while the benchmark runs), item 0's 25 hours ago (due now).
 */
function itemHistory(index: number, now: number): ItemStatus {
  const finishedAt = now - (index === 0 ? 25 * HOUR : Math.random() * 12 * HOUR);
  const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    last_success: iso(finishedAt),
    last_started: iso(finishedAt - 60_000),
    failure_count: 0,
    podphase: 'Succeeded',
    last_run: { id: `seed${String(index)}`, outcome: 'Succeeded', reason: 'Completed', exitCode: 0, finishedAt: iso(finishedAt) },
    runtime: runtimeOf(100 + index),
  };
}

/** Polls until `condition` has held for `forMs`; returns when it first held in that streak. */
async function holds(condition: () => Promise<boolean>, forMs: number, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  let since: number | undefined;
  while (performance.now() < deadline) {
    const ok = await condition().catch(() => false);
    const now = performance.now();
    if (!ok) since = undefined;
    else if (since === undefined) since = now;
    else if (now - since >= forMs) return since;
    await sleep(100);
  }
  throw new Error(`condition did not hold for ${String(forMs)} ms within ${String(timeoutMs)} ms`);
}

/** Asks the operator for a heap snapshot (SIGUSR2) and returns its file once written. */
async function heapSnapshot(operator: BenchOperator, directory: string): Promise<string> {
  operator.process.kill('SIGUSR2');
  let sizeBefore = -1;
  for (;;) {
    await sleep(1_000);
    const file = readdirSync(directory).find((name) => name.endsWith('.heapsnapshot'));
    if (file === undefined) continue;
    const size = statSync(path.join(directory, file)).size;
    if (size > 0 && size === sizeBefore) return path.join(directory, file);
    sizeBefore = size;
  }
}

/** The group queue got every group, is empty, and no worker is busy. */
async function everyGroupReconciled(operator: BenchOperator): Promise<boolean> {
  const [adds, depth, active] = await Promise.all([
    operator.metric('workqueue_adds_total', ['name="oaatgroup"']),
    operator.metric('workqueue_depth', ['name="oaatgroup"']),
    operator.metric('controller_runtime_active_workers', ['controller="oaatgroup"']),
  ]);
  return adds >= GROUPS && depth === 0 && active === 0;
}

const stateDir = mkdtempSync(path.join(os.tmpdir(), 'oaat-bench-restart-'));
const info = startControlPlane({ stateDir, tier: 'T1', ownerPid: process.pid, audit: true });
const cluster = new TestCluster(info);
const client = benchClient(cluster);
const operators: BenchOperator[] = [];
const watching = new AbortController();
try {
  const namespace = await benchNamespace(cluster);

  // 1. Seed.
  const seedStarted = performance.now();
  const names = Array.from({ length: GROUPS }, (_, g) => `group-${String(g)}`);
  const items = Array.from({ length: ITEMS }, (_, i) => `item-${String(i)}`);
  await inParallel(names, async (name) => {
    const group: OaatGroup = { apiVersion: 'kawaja.net/v1', kind: 'OaatGroup', metadata: { name, namespace }, spec: { frequency: '24h', oaatType: 'runner', oaatItems: items } };
    await client.create(OAATGROUPS, group);
    const now = Date.now();
    await client.patch(OAATGROUPS, namespace, name, { status: { items: Object.fromEntries(items.map((item, i) => [item, itemHistory(i, now)])) } }, { subresource: 'status' });
  });
  let succeeded = 0;
  const told = new Set<string>();
  const saw = (pod: V1Pod): void => {
    const name = pod.metadata?.name ?? '';
    if (pod.status?.phase === 'Running' && !told.has(name)) {
      told.add(name);
      void tellToSucceed(client, namespace, name);
    }
    if (pod.status?.phase === 'Succeeded' && !told.has(`${name}/done`)) {
      told.add(`${name}/done`);
      succeeded++;
    }
  };
  // List, then watch; again whenever the watch ends: kube-apiserver ends a watch that falls
  // behind (5,000 pods created within a minute, each updated by KWOK), and a pod missed there
  // would never be told to succeed.
  void (async () => {
    while (!watching.signal.aborted) {
      try {
        const pods = await client.list<V1Pod>(PODS, { namespace });
        for (const pod of pods.items) saw(pod);
        const events = client.watch<V1Pod>(PODS, { namespace, resourceVersion: pods.metadata.resourceVersion ?? '', timeoutSeconds: 3600 }, watching.signal);
        for await (const { object: pod } of events) saw(pod);
      } catch (error) {
        // The watch ends quietly when aborted; a failure is the server's or the connection's.
        console.error(`benchmark: pod watch failed, listing again: ${String(error)}`);
        await sleep(1_000);
      }
    }
  })();
  const seeder = await BenchOperator.start(info.kubeconfig, namespace);
  operators.push(seeder);
  while (succeeded < GROUPS) await sleep(500);
  await holds(async () => (await everyGroupReconciled(seeder)) && (await seeder.metric('workqueue_depth', ['name="pod"'])) === 0, 5_000, 600_000);
  await seeder.stop();
  watching.abort();
  const seedSeconds = (performance.now() - seedStarted) / 1000;

  // 2. Restart.
  const auditLog = info.auditLog ?? '';
  const auditFrom = auditMark(auditLog);
  const started = performance.now();
  const snapshots = path.join(stateDir, 'heap');
  mkdirSync(snapshots);
  const operator = await BenchOperator.start(
    info.kubeconfig,
    namespace,
    HEAP_SNAPSHOT ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${snapshots}` } : {},
  );
  operators.push(operator);
  const reconciledAt = await holds(() => everyGroupReconciled(operator), 1_000, 600_000);
  const restart = {
    everyGroupReconciledSeconds: Number(((reconciledAt - started) / 1000).toFixed(1)),
    cpuSeconds: await operator.metric('process_cpu_seconds_total'),
    requests: Object.fromEntries(operatorRequests(readAudit(auditLog, auditFrom))),
  };

  // 3. Idle.
  const idleFrom = auditMark(auditLog);
  await sleep(IDLE_SECONDS * 1000);
  const memoryMiB = {
    rssPeak: mib(operator.peakRss()),
    rssIdle: mib(await operator.metric('process_resident_memory_bytes')),
    heapUsedIdle: mib(await operator.metric('nodejs_heap_size_used_bytes')),
    heapTotalIdle: mib(await operator.metric('nodejs_heap_size_total_bytes')),
  };
  const idle = { seconds: IDLE_SECONDS, requests: Object.fromEntries(operatorRequests(readAudit(auditLog, idleFrom))) };
  console.log(JSON.stringify({
    groups: GROUPS,
    itemsPerGroup: ITEMS,
    seedSeconds: Math.round(seedSeconds),
    restart,
    memoryMiB,
    idle,
    ...(HEAP_SNAPSHOT && { heap: summarizeHeap(await heapSnapshot(operator, snapshots)) }),
  }, null, 2));
} finally {
  watching.abort();
  for (const operator of operators) operator.process.kill('SIGKILL');
  stopControlPlane(stateDir);
}
process.exit(0);
