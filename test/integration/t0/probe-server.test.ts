/**
 * The probe and metrics server's address: `:port` listens on every address, IPv6 too where the
 * host has it (a Pod on a dual-stack or IPv6-only cluster is probed on its IPv6 address).
 */
import { networkInterfaces } from 'node:os';
import { Registry } from 'prom-client';
import { ProbeServer } from '../../../src/runtime/http.ts';

const hasIpv6Loopback = Object.values(networkInterfaces()).some((addresses) => addresses?.some((a) => a.family === 'IPv6' && a.internal));

it('with no host, answers on IPv4 and, where the host has IPv6, on IPv6', async () => {
  const server = new ProbeServer({ address: ':0', registry: new Registry(), readiness: [] });
  await server.listen();
  try {
    const { port } = server.address;
    expect((await fetch(`http://127.0.0.1:${String(port)}/healthz`)).status).toBe(200);
    if (hasIpv6Loopback) expect((await fetch(`http://[::1]:${String(port)}/healthz`)).status).toBe(200);
    else expect(server.address.family).toBe('IPv4');
  } finally {
    await server.close();
  }
});

it('with a host, answers there only', async () => {
  const server = new ProbeServer({ address: '127.0.0.1:0', registry: new Registry(), readiness: [] });
  await server.listen();
  try {
    expect(server.address).toMatchObject({ address: '127.0.0.1', family: 'IPv4' });
    expect((await fetch(`http://127.0.0.1:${String(server.address.port)}/readyz`)).status).toBe(200);
  } finally {
    await server.close();
  }
});
