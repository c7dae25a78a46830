import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ConnectionPool, PooledClusterAccess, sameTls, type Credentials, type CredentialSource } from '../../../src/runtime/cluster-access.ts';

/** A credential source whose next answer the test sets; each read returns fresh Buffer objects. */
class ScriptedSource implements CredentialSource {
  readonly server = 'https://127.0.0.1:6443';
  ca = 'CA1';
  token = 'one';
  reads = 0;

  read(): Promise<Credentials> {
    this.reads++;
    return Promise.resolve({ tls: { ca: Buffer.from(this.ca) }, headers: { authorization: `Bearer ${this.token}` } });
  }
}

describe('PooledClusterAccess', () => {
  it('gives every request the same pool while the TLS material is the same, and watches another', async () => {
    const source = new ScriptedSource();
    const access = new PooledClusterAccess(source);
    const first = await access.prepare('request');
    const again = await access.prepare('request');
    const watch = await access.prepare('watch');
    expect(again.pool).toBe(first.pool);
    expect(watch.pool).not.toBe(first.pool);
    expect((await access.prepare('watch')).pool).toBe(watch.pool);
    expect(source.reads).toBe(4);
    access.close();
  });

  it('sends a refreshed token on the same pool', async () => {
    const source = new ScriptedSource();
    const access = new PooledClusterAccess(source);
    const before = await access.prepare('request');
    source.token = 'two';
    const after = await access.prepare('request');
    expect(after.headers).toEqual({ authorization: 'Bearer two' });
    expect(after.pool).toBe(before.pool);
    access.close();
  });

  it('builds new pools when the CA changes and closes the old ones', async () => {
    const source = new ScriptedSource();
    const access = new PooledClusterAccess(source);
    const before = await access.prepare('request');
    const watchBefore = await access.prepare('watch');
    source.ca = 'CA2';
    const after = await access.prepare('request');
    expect(after.pool).not.toBe(before.pool);
    expect((await access.prepare('watch')).pool).not.toBe(watchBefore.pool);
    expect(before.pool.closed).toBe(true);
    expect(watchBefore.pool.closed).toBe(true);
    expect(after.pool.closed).toBe(false);
    access.close();
    expect(after.pool.closed).toBe(true);
  });
});

/** A local HTTP server that answers after `delayMs` and records its connections and how each ended. */
class CountingServer {
  readonly sockets: Socket[] = [];
  delayMs = 0;
  private readonly server: Server = createServer((request, response) => {
    setTimeout(() => response.end(`{"path":"${request.url ?? ''}"}`), this.delayMs);
  });

  async start(): Promise<string> {
    this.server.on('connection', (socket: Socket) => this.sockets.push(socket));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${String((this.server.address() as AddressInfo).port)}`;
  }

  open(): number {
    return this.sockets.filter((socket) => !socket.closed).length;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

async function text(response: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of response) body += String(chunk);
  return body;
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50));

describe('ConnectionPool', () => {
  let server: CountingServer;
  let url: string;
  beforeEach(async () => {
    server = new CountingServer();
    url = await server.start();
  });
  afterEach(() => server.stop());

  it('sends requests one after another on one kept-alive connection', async () => {
    const pool = new ConnectionPool(url, {}, { connections: 4 });
    for (let i = 0; i < 20; i++) {
      expect(await text(await pool.send(`${url}/${String(i)}`, { method: 'GET', headers: {} }))).toBe(`{"path":"/${String(i)}"}`);
    }
    expect(server.sockets).toHaveLength(1);
    expect(server.open()).toBe(1);
    pool.close();
    await settle();
    expect(server.open()).toBe(0);
  });

  it('opens at most its bound of connections, however many requests wait', async () => {
    server.delayMs = 20;
    const pool = new ConnectionPool(url, {}, { connections: 3 });
    const answers = await Promise.all(Array.from({ length: 30 }, async () => text(await pool.send(url, { method: 'GET', headers: {} }))));
    expect(answers).toHaveLength(30);
    expect(server.sockets).toHaveLength(3);
    pool.close();
  });

  it('lets a request in flight finish when closed, then closes its connection instead of pooling it', async () => {
    server.delayMs = 100;
    const pool = new ConnectionPool(url, {}, { connections: 2 });
    const answer = pool.send(url, { method: 'GET', headers: {} });
    await new Promise((resolve) => setTimeout(resolve, 30));
    pool.close();
    expect(await text(await answer)).toBe('{"path":"/"}');
    await settle();
    expect(server.sockets).toHaveLength(1);
    expect(server.open()).toBe(0);
  });

  it('fails a request whose response headers do not come in time, and one aborted by its signal', async () => {
    server.delayMs = 1_000;
    const pool = new ConnectionPool(url, {});
    await expect(pool.send(url, { method: 'GET', headers: {}, headersTimeoutMs: 50 })).rejects.toThrow('no response headers after 50 ms');
    await expect(pool.send(url, { method: 'GET', headers: {}, signal: AbortSignal.timeout(50) })).rejects.toThrow(/abort/i);
    pool.close();
  });
});

describe('sameTls', () => {
  it('compares certificate bytes, not Buffer identity, and every setting', () => {
    expect(sameTls({ ca: Buffer.from('A'), cert: Buffer.from('C') }, { ca: Buffer.from('A'), cert: Buffer.from('C') })).toBe(true);
    expect(sameTls({}, {})).toBe(true);
    expect(sameTls({ ca: Buffer.from('A') }, { ca: Buffer.from('B') })).toBe(false);
    expect(sameTls({ ca: Buffer.from('A') }, {})).toBe(false);
    expect(sameTls({ key: Buffer.from('K') }, { key: Buffer.from('K2') })).toBe(false);
    expect(sameTls({ rejectUnauthorized: false }, {})).toBe(false);
    expect(sameTls({ servername: 'a' }, { servername: 'b' })).toBe(false);
  });
});
