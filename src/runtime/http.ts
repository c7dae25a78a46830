/**
 * The operator's HTTP endpoints: `/healthz` (the process serves requests), `/readyz` (every
 * readiness check passes; the failing ones are named in the body) and `/metrics` (Prometheus
 * text format of a prom-client registry).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** A named readiness condition; returns true when ready. */
export interface ReadinessCheck {
  name: string;
  check(): boolean;
}

export interface ProbeServerOptions {
  /** `host:port` (`[::1]:port` for an IPv6 host; `:port`: every address); port 0 picks a free one (see {@link ProbeServer.address}). */
  address: string;
  registry: Registry;
  readiness: readonly ReadinessCheck[];
}

export class ProbeServer {
  private readonly server: Server;

  constructor(private readonly options: ProbeServerOptions) {
    this.server = createServer((request, response) => {
      const path = (request.url ?? '/').split('?')[0];
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405).end();
        return;
      }
      if (path === '/healthz' || path === '/livez') {
        response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      } else if (path === '/readyz') {
        const failing = this.options.readiness.filter((readiness) => !readiness.check()).map((readiness) => readiness.name);
        response
          .writeHead(failing.length === 0 ? 200 : 503, { 'content-type': 'text/plain' })
          .end(failing.length === 0 ? 'ok\n' : `not ready: ${failing.join(', ')}\n`);
      } else if (path === '/metrics') {
        this.options.registry.metrics().then(
          (text) => response.writeHead(200, { 'content-type': this.options.registry.contentType }).end(text),
          (error: unknown) => response.writeHead(500).end(String(error)),
        );
      } else {
        response.writeHead(404).end();
      }
    });
  }

  /** Starts listening; resolves once bound. */
  async listen(): Promise<void> {
    const separator = this.options.address.lastIndexOf(':');
    const host = this.options.address.slice(0, separator).replace(/^\[|\]$/g, '');
    const port = Number(this.options.address.slice(separator + 1));
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      // No host: Node listens on `::`, which takes IPv4 too, where IPv6 is available, else on 0.0.0.0.
      this.server.listen({ port, ...(host !== '' && { host }) }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /** The bound address (after {@link listen}). */
  get address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => { resolve(); }));
  }
}
