import type { Dispatcher } from 'undici';
import { PooledClusterAccess, sameTls, type Credentials, type CredentialSource } from '../../../src/runtime/cluster-access.ts';

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

const closed = (dispatcher: Dispatcher): boolean => (dispatcher as Dispatcher & { closed: boolean }).closed;

describe('PooledClusterAccess', () => {
  it('gives every request the same pool while the TLS material is the same, and watches another', async () => {
    const source = new ScriptedSource();
    const access = new PooledClusterAccess(source);
    const first = await access.prepare('request');
    const again = await access.prepare('request');
    const watch = await access.prepare('watch');
    expect(again.dispatcher).toBe(first.dispatcher);
    expect(watch.dispatcher).not.toBe(first.dispatcher);
    expect((await access.prepare('watch')).dispatcher).toBe(watch.dispatcher);
    expect(source.reads).toBe(4);
    await access.close();
  });

  it('sends a refreshed token on the same pool', async () => {
    const source = new ScriptedSource();
    const access = new PooledClusterAccess(source);
    const before = await access.prepare('request');
    source.token = 'two';
    const after = await access.prepare('request');
    expect(after.headers).toEqual({ authorization: 'Bearer two' });
    expect(after.dispatcher).toBe(before.dispatcher);
    await access.close();
  });

  it('builds new pools when the CA changes and closes the old ones', async () => {
    const source = new ScriptedSource();
    const access = new PooledClusterAccess(source);
    const before = await access.prepare('request');
    const watchBefore = await access.prepare('watch');
    source.ca = 'CA2';
    const after = await access.prepare('request');
    expect(after.dispatcher).not.toBe(before.dispatcher);
    expect((await access.prepare('watch')).dispatcher).not.toBe(watchBefore.dispatcher);
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed(before.dispatcher)).toBe(true);
    expect(closed(watchBefore.dispatcher)).toBe(true);
    expect(closed(after.dispatcher)).toBe(false);
    await access.close();
    expect(closed(after.dispatcher)).toBe(true);
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
