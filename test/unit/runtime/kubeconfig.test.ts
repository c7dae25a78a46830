import path from 'node:path';
import { KubeConfigError, loadCredentialSource, loadKubeContext, parseKubeConfig, StaticCredentials, CREDENTIAL_FILE_REFRESH_MS } from '../../../src/runtime/kubeconfig.ts';

const b64 = (text: string): string => Buffer.from(text).toString('base64');

function kubeconfig(user: Record<string, unknown>, cluster: Record<string, unknown> = { server: 'https://127.0.0.1:6443', 'certificate-authority-data': b64('CA') }): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'ctx',
    contexts: [
      { name: 'other', context: { cluster: 'nowhere', user: 'nobody' } },
      { name: 'ctx', context: { cluster: 'c', user: 'u' } },
    ],
    clusters: [{ name: 'c', cluster }],
    users: [{ name: 'u', user }],
  };
}

/** A file system of named contents that counts its reads; a missing file throws like readFileSync. */
function files(contents: Record<string, string>) {
  const reads: string[] = [];
  return {
    reads,
    contents,
    readFile: (file: string): Buffer => {
      reads.push(file);
      const content = contents[file];
      if (content === undefined) throw Object.assign(new Error(`ENOENT: no such file, open '${file}'`), { code: 'ENOENT' });
      return Buffer.from(content);
    },
  };
}

describe('parseKubeConfig', () => {
  it('reads the current context: server, CA data, client certificate and key data', () => {
    const settings = parseKubeConfig(kubeconfig({ 'client-certificate-data': b64('CERT'), 'client-key-data': b64('KEY') }), '/home/me/.kube/config');
    expect(settings).toEqual({ server: 'https://127.0.0.1:6443', caData: Buffer.from('CA'), certData: Buffer.from('CERT'), keyData: Buffer.from('KEY') });
  });

  it('takes relative file paths from the kubeconfig directory, as kubectl does', () => {
    const settings = parseKubeConfig(
      kubeconfig({ 'client-certificate': 'pki/admin.crt', 'client-key': '/abs/admin.key', tokenFile: 'token' }, { server: 'https://h:1/', 'certificate-authority': 'pki/ca.crt', 'tls-server-name': 'kubernetes', 'insecure-skip-tls-verify': true, 'proxy-url': 'http://proxy:3128' }),
      '/etc/oaat/kubeconfig',
    );
    expect(settings).toEqual({
      server: 'https://h:1',
      proxyUrl: 'http://proxy:3128',
      caFile: '/etc/oaat/pki/ca.crt',
      insecureSkipTlsVerify: true,
      tlsServerName: 'kubernetes',
      certFile: '/etc/oaat/pki/admin.crt',
      keyFile: '/abs/admin.key',
      tokenFile: '/etc/oaat/token',
    });
  });

  it.each([
    ['an exec plugin', { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'aws' } }],
    ['an auth provider', { 'auth-provider': { name: 'oidc' } }],
    ['basic auth', { username: 'admin', password: 'secret' }],
    ['impersonation', { token: 't', as: 'someone' }],
  ])('leaves a user with %s to client-node', (_what, user) => {
    expect(parseKubeConfig(kubeconfig(user), '/k')).toBeUndefined();
  });

  it.each([
    ['no current-context', { clusters: [] }, /has no current-context/],
    ['a missing context', { 'current-context': 'x', contexts: [] }, /no context named x/],
    ['a cluster without server', kubeconfig({}, { 'certificate-authority-data': b64('CA') }), /cluster c has no server/],
  ])('says what is wrong with a kubeconfig that has %s', (_what, document, message) => {
    expect(() => parseKubeConfig(document, '/k')).toThrow(message);
  });
});

describe('StaticCredentials', () => {
  it('sends a bearer token and builds TLS from inline data', async () => {
    const source = new StaticCredentials({ server: 'https://h:6443', caData: Buffer.from('CA'), token: 'abc' }, files({}).readFile, () => 0);
    await expect(source.read()).resolves.toEqual({ tls: { ca: Buffer.from('CA') }, headers: { authorization: 'Bearer abc' } });
  });

  it('reads credential files again once a minute, not at every request', async () => {
    const fs = files({ '/sa/token': 'one\n', '/sa/ca.crt': 'CA1' });
    let now = 1_000_000;
    const source = new StaticCredentials({ server: 'https://h:6443', caFile: '/sa/ca.crt', tokenFile: '/sa/token' }, fs.readFile, () => now);
    await expect(source.read()).resolves.toEqual({ tls: { ca: Buffer.from('CA1') }, headers: { authorization: 'Bearer one' } });
    fs.contents['/sa/token'] = 'two';
    fs.contents['/sa/ca.crt'] = 'CA2';
    now += CREDENTIAL_FILE_REFRESH_MS - 1;
    for (let i = 0; i < 100; i++) await source.read();
    expect(fs.reads).toHaveLength(2);
    expect((await source.read()).headers.authorization).toBe('Bearer one');
    now += 1;
    await expect(source.read()).resolves.toEqual({ tls: { ca: Buffer.from('CA2') }, headers: { authorization: 'Bearer two' } });
  });

  it('keeps the last content of a file that disappears (a rotation in progress), fails if it never had one', async () => {
    const fs = files({ '/sa/token': 'one' });
    let now = 0;
    const source = new StaticCredentials({ server: 'https://h:6443', tokenFile: '/sa/token' }, fs.readFile, () => now);
    await source.read();
    delete fs.contents['/sa/token'];
    now += CREDENTIAL_FILE_REFRESH_MS;
    expect((await source.read()).headers.authorization).toBe('Bearer one');
    const never = new StaticCredentials({ server: 'https://h:6443', tokenFile: '/missing' }, fs.readFile, () => now);
    await expect(never.read()).rejects.toThrow(/cannot read \/missing/);
  });

  it('turns off certificate verification only for insecure-skip-tls-verify, and refuses plain HTTP without it', async () => {
    const insecure = new StaticCredentials({ server: 'http://h:8080', insecureSkipTlsVerify: true }, files({}).readFile, () => 0);
    await expect(insecure.read()).resolves.toEqual({ tls: { rejectUnauthorized: false }, headers: {} });
    expect(() => new StaticCredentials({ server: 'http://h:8080' }, files({}).readFile, () => 0)).toThrow(KubeConfigError);
    expect(() => new StaticCredentials({ server: 'h:8080' }, files({}).readFile, () => 0)).toThrow(/not an http\(s\) URL/);
  });
});

describe('loadKubeContext', () => {
  it('uses the context named by --context instead of the current one, with its namespace', async () => {
    const config = kubeconfig({ token: 't' });
    (config.contexts as { name: string; context: Record<string, unknown> }[])[0] = { name: 'other', context: { cluster: 'c2', user: 'u', namespace: 'team' } };
    (config.clusters as unknown[]).push({ name: 'c2', cluster: { server: 'https://10.1.1.1:6443' } });
    const fs = files({ '/k/config': JSON.stringify(config) });
    const current = await loadKubeContext({ env: { KUBECONFIG: '/k/config' }, readFile: fs.readFile });
    expect([current.source.server, current.namespace]).toEqual(['https://127.0.0.1:6443', undefined]);
    const other = await loadKubeContext({ env: { KUBECONFIG: '/k/config' }, readFile: fs.readFile, context: 'other' });
    expect([other.source.server, other.namespace]).toEqual(['https://10.1.1.1:6443', 'team']);
    await expect(loadKubeContext({ env: { KUBECONFIG: '/k/config' }, readFile: fs.readFile, context: 'missing' })).rejects.toThrow('/k/config: no context named missing');
  });
});

describe('loadCredentialSource', () => {
  it('uses $KUBECONFIG before ~/.kube/config and the service account', async () => {
    const fs = files({ '/k/config': JSON.stringify(kubeconfig({ token: 'from-env' })), '/home/me/.kube/config': JSON.stringify(kubeconfig({ token: 'from-home' })) });
    const source = await loadCredentialSource({ env: { KUBECONFIG: '/k/config', HOME: '/home/me', KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' }, readFile: fs.readFile });
    expect((await source.read()).headers.authorization).toBe('Bearer from-env');
    const home = await loadCredentialSource({ env: { HOME: '/home/me' }, readFile: fs.readFile });
    expect((await home.read()).headers.authorization).toBe('Bearer from-home');
  });

  it('says so when the kubeconfig is not YAML', async () => {
    await expect(loadCredentialSource({ env: { KUBECONFIG: '/k' }, readFile: files({ '/k': '{ current-context: [' }).readFile })).rejects.toThrow(/\/k is not valid YAML/);
  });

  it('says so when $KUBECONFIG names a file that cannot be read', async () => {
    await expect(loadCredentialSource({ env: { KUBECONFIG: '/nope' }, readFile: files({}).readFile })).rejects.toThrow(/cannot read \$KUBECONFIG \/nope/);
  });

  it('uses the in-cluster service account when there is no kubeconfig, IPv6 hosts in brackets', async () => {
    const fs = files({ '/sa/token': 'sa-token', '/sa/ca.crt': 'CA' });
    const source = await loadCredentialSource({ env: { HOME: '/home/none', KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, readFile: fs.readFile, serviceAccountDir: '/sa' });
    expect(source.server).toBe('https://[fd00::1]:443');
    await expect(source.read()).resolves.toEqual({ tls: { ca: Buffer.from('CA') }, headers: { authorization: 'Bearer sa-token' } });
  });

  it('says where it looked when there is neither a kubeconfig nor a cluster', async () => {
    await expect(loadCredentialSource({ env: { HOME: '/home/none' }, readFile: files({}).readFile })).rejects.toThrow(
      `no kubeconfig (${path.join('/home/none', '.kube', 'config')} does not exist, $KUBECONFIG is not set) and not in a cluster`,
    );
  });
});
