/**
 * A TCP pass-through that counts the connections it accepted: put in front of kube-apiserver
 * (TLS goes through untouched), it shows how many connections a client opens.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';

/** Forwards TCP to `target` and counts the connections it accepted. */
export class CountingPassThrough {
  accepted = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {}

  static async start(target: URL): Promise<CountingPassThrough> {
    const server = createServer();
    const counter = new CountingPassThrough(server);
    server.on('connection', (client) => {
      counter.accepted++;
      const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
      for (const socket of [client, upstream]) {
        counter.sockets.add(socket);
        socket.on('close', () => counter.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return counter;
  }

  /**
   * Starts a pass-through in front of the server of a kubeconfig file (one cluster, as the
   * control plane writes it) and writes a copy of that kubeconfig that goes through it.
   */
  static async inFrontOf(kubeconfigFile: string): Promise<{ counter: CountingPassThrough; kubeconfig: string }> {
    const text = readFileSync(kubeconfigFile, 'utf8');
    const config = parse(text) as { clusters: { cluster: { server: string } }[] };
    const server = new URL(config.clusters[0]?.cluster.server ?? '');
    const counter = await CountingPassThrough.start(server);
    const kubeconfig = path.join(mkdtempSync(path.join(os.tmpdir(), 'oaat-pass-through-')), 'kubeconfig');
    writeFileSync(kubeconfig, text.replace(server.origin, `https://127.0.0.1:${String(counter.port)}`), { mode: 0o600 });
    return { counter, kubeconfig };
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
