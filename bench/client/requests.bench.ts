/**
 * The REST client's cost per request against a real kube-apiserver (a T0 control plane of its
 * own), for two ways of reaching it:
 * - a new connection per request (and TLS handshake), as the client had through client-node's
 *   applySecurityAuthentication until 2026-11-30;
 * - the operator's pools: HTTP/1.1 keep-alive, at most DEFAULT_REQUEST_CONNECTIONS connections.
 * (HTTP/2 was measured slower here with undici; see bench/REPORT.md.)
 * Each does BENCH_SEQUENTIAL GETs one after another, then BENCH_CONCURRENT GETs 16 at a time,
 * of one ConfigMap. Reported: requests/s, latency p50/p99, the client's CPU per request and the
 * TCP connections opened (a counting pass-through in front of kube-apiserver).
 *
 * Run: npm run bench:client. The client and kube-apiserver share the machine's cores.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KubeClient } from '../../src/runtime/client.ts';
import { ConnectionPool, PooledClusterAccess, type ClusterAccess, type CredentialSource, type PreparedRequest } from '../../src/runtime/cluster-access.ts';
import { loadCredentialSource } from '../../src/runtime/kubeconfig.ts';
import { TestCluster } from '../../test/support/cluster.ts';
import { startControlPlane, stopControlPlane } from '../../test/support/control-plane.ts';
import { CountingPassThrough } from '../../test/support/counting-pass-through.ts';
import { CONFIGMAPS } from '../../test/support/resource-types.ts';

const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 500);
const CONCURRENT = Number(process.env.BENCH_CONCURRENT ?? 2000);

/** An access that opens a connection for every request: a pool of its own, closed once the request is done. */
class ConnectionPerRequest implements ClusterAccess {
  readonly server: string;

  constructor(private readonly source: CredentialSource) {
    this.server = source.server;
  }

  async prepare(): Promise<PreparedRequest> {
    const { tls, headers } = await this.source.read();
    const pool = new ConnectionPool(this.server, tls);
    pool.close();
    return { headers, pool };
  }

  close(): void {
    // nothing pooled
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

const stateDir = mkdtempSync(path.join(os.tmpdir(), 'oaat-bench-client-'));
const info = startControlPlane({ stateDir, tier: 'T0', ownerPid: process.pid });
const { counter, kubeconfig } = await CountingPassThrough.inFrontOf(info.kubeconfig);
try {
  const namespace = await new TestCluster(info).createNamespace('bench');
  const source = await loadCredentialSource({ env: { KUBECONFIG: kubeconfig } });
  const variants: [string, ClusterAccess][] = [
    ['new connection per request', new ConnectionPerRequest(source)],
    ['pooled HTTP/1.1 (the operator)', new PooledClusterAccess(source)],
  ];
  const setup = new KubeClient({ access: variants[1]?.[1] ?? new PooledClusterAccess(source) });
  await setup.create(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'target', namespace }, data: { a: 'b' } } as never);

  const rows: Record<string, unknown>[] = [];
  for (const [name, access] of variants) {
    const client = new KubeClient({ access });
    for (let i = 0; i < 50; i++) await client.get(CONFIGMAPS, namespace, 'target'); // warm-up
    for (const [workload, total, parallel] of [['sequential', SEQUENTIAL, 1], ['16 at a time', CONCURRENT, 16]] as const) {
      const latencies: number[] = [];
      const connectionsBefore = counter.accepted;
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: parallel }, async () => {
          while (next++ < total) {
            const sent = performance.now();
            await client.get(CONFIGMAPS, namespace, 'target');
            latencies.push(performance.now() - sent);
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      const cpu = process.cpuUsage(cpuBefore);
      rows.push({
        access: name,
        workload,
        requests: total,
        perSecond: Math.round(total / seconds),
        p50Ms: Number(percentile(latencies, 0.5).toFixed(2)),
        p99Ms: Number(percentile(latencies, 0.99).toFixed(2)),
        cpuMsPerRequest: Number(((cpu.user + cpu.system) / 1000 / total).toFixed(3)),
        connectionsOpened: counter.accepted - connectionsBefore,
      });
    }
    access.close();
  }
  console.log(JSON.stringify({ node: process.version, cores: os.cpus().length, rows }, null, 2));
} finally {
  await counter.stop();
  stopControlPlane(stateDir);
}
