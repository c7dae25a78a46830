/**
 * End-to-end benchmark of the operator on a local T1 control plane (its own, with an audit log):
 * GROUPS groups of ITEMS items each; every item pod is told to succeed as soon as it runs.
 * Measures, as a watcher of the API sees it:
 * - hand-over latency: from a pod turning Succeeded to the next pod of its group appearing;
 * - API writes per run, from kube-apiserver's audit log (status patches, pod creates, deletes);
 * - writes while idle: the groups' frequency is then raised to 1h and, once the last runs have
 *   closed, kube-apiserver's audit log must show no write at all for IDLE_SECONDS;
 * - the operator's resident memory at the end.
 *
 * Run: npm run bench:operator (GROUPS, ITEMS, RUNS_PER_GROUP override the defaults).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Watch, type V1Pod } from '@kubernetes/client-node';
import { TestCluster } from '../../test/support/cluster.ts';
import { REPO_ROOT, startControlPlane, stopControlPlane } from '../../test/support/control-plane.ts';
import { installOaatCrds } from '../../test/support/oaat.ts';
import { simulateOutcome } from '../../test/support/pods.ts';

const GROUPS = Number(process.env.GROUPS ?? 50);
const ITEMS = Number(process.env.ITEMS ?? 3);
// One run per item: each hand-over then finds a never-run item eligible at once.
const RUNS_PER_GROUP = Number(process.env.RUNS_PER_GROUP ?? ITEMS);
const IDLE_SECONDS = Number(process.env.IDLE_SECONDS ?? 30);

interface AuditEvent {
  verb: string;
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  user: { username: string };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

const stateDir = mkdtempSync(path.join(os.tmpdir(), 'oaat-bench-'));
const info = startControlPlane({ stateDir, tier: 'T1', ownerPid: process.pid, audit: true });
const cluster = new TestCluster(info);
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

  operator = spawn(process.execPath, ['--experimental-transform-types', '--disable-warning=ExperimentalWarning', path.join(REPO_ROOT, 'src/main.ts')], {
    env: {
      ...process.env,
      KUBECONFIG: info.kubeconfig,
      OAAT_WATCH_NAMESPACES: namespace,
      OAAT_LEADER_ELECT: 'false',
      OAAT_HTTP_ADDRESS: '127.0.0.1:0',
      OAAT_LOG_LEVEL: 'warn',
      // Succeeded pods are kept (1 per group) as by default; items stay eligible immediately.
    },
    stdio: 'ignore',
  });
  const started = performance.now();
  const groups = Array.from({ length: GROUPS }, (_, g) => ({
    apiVersion: 'kawaja.net/v1',
    kind: 'OaatGroup',
    metadata: { name: `group-${String(g)}` },
    spec: { frequency: '1s', oaatType: 'runner', oaatItems: Array.from({ length: ITEMS }, (_, i) => `item-${String(i)}`) },
  }));
  await cluster.apply(groups, namespace);
  await Promise.race([finished, sleep(600_000).then(() => { throw new Error('benchmark did not finish in 10 minutes'); })]);
  const elapsed = (performance.now() - started) / 1000;
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${String(operator.pid)}/status`, 'utf8'))?.[1] ?? 0) / 1024;

  const readAudit = (): AuditEvent[] => readFileSync(info.auditLog ?? '', 'utf8').trim().split('\n').map((line) => JSON.parse(line) as AuditEvent);
  const audit = readAudit();
  const operatorWrites = audit.filter(
    (e) => e.objectRef?.namespace === namespace && e.user.username === 'admin' && ['create', 'patch', 'update', 'delete'].includes(e.verb) && (e.objectRef.resource === 'pods' || e.objectRef.subresource === 'status'),
  );
  // The bench itself patches each pod once (its outcome annotation) as the same admin user.
  const totalRuns = GROUPS * RUNS_PER_GROUP;
  const statusPatches = operatorWrites.filter((e) => e.objectRef?.subresource === 'status' && e.objectRef.resource === 'oaatgroups').length;
  const podCreates = operatorWrites.filter((e) => e.objectRef?.resource === 'pods' && e.verb === 'create').length;
  const podDeletes = operatorWrites.filter((e) => e.objectRef?.resource === 'pods' && e.verb === 'delete').length;

  // Idle: nothing is eligible for an hour; after the runs in flight closed, nothing may be written.
  await cluster.apply(groups.map((group) => ({ ...group, spec: { ...group.spec, frequency: '1h' } })), namespace);
  await sleep(10_000);
  const idleFrom = readAudit().length;
  await sleep(IDLE_SECONDS * 1000);
  const idleWrites = readAudit()
    .slice(idleFrom)
    .filter((e) => e.objectRef?.namespace === namespace && ['create', 'patch', 'update', 'delete'].includes(e.verb))
    .map((e) => `${e.verb} ${e.objectRef?.resource ?? ''}${e.objectRef?.subresource === undefined ? '' : `/${e.objectRef.subresource}`} ${e.objectRef?.name ?? ''}`);

  console.log(JSON.stringify({
    groups: GROUPS,
    itemsPerGroup: ITEMS,
    runs: totalRuns,
    elapsedSeconds: Number(elapsed.toFixed(1)),
    handOverMs: { p50: Math.round(percentile(latencies, 0.5)), p90: Math.round(percentile(latencies, 0.9)), p99: Math.round(percentile(latencies, 0.99)), max: Math.round(Math.max(...latencies)), samples: latencies.length },
    writesPerRun: { statusPatches: Number((statusPatches / totalRuns).toFixed(2)), podCreates: Number((podCreates / totalRuns).toFixed(2)), podDeletes: Number((podDeletes / totalRuns).toFixed(2)) },
    operatorRssMiB: Math.round(rss),
    idle: { seconds: IDLE_SECONDS, writes: idleWrites.length, ...(idleWrites.length > 0 && { examples: idleWrites.slice(0, 5) }) },
  }, null, 2));
} finally {
  operator?.kill('SIGKILL');
  stopControlPlane(stateDir);
}
