/**
 * Finds the cluster and the credentials the way kubectl does: the file in `$KUBECONFIG`, else
 * `~/.kube/config`, else the in-cluster service account.
 *
 * The common cases are read here, without loading `@kubernetes/client-node` (whose import alone
 * costs about 50 MiB of resident memory, architecture.md §6): the in-cluster service account,
 * and kubeconfig files whose user has a client certificate, a token or a token file. Everything
 * else (exec plugins, auth providers, basic auth, impersonation, several files in
 * `$KUBECONFIG`) goes through client-node's `KubeConfig`, imported only then.
 *
 * Files the credentials live in (a token, a CA or a client certificate that may be rotated) are
 * read again at most once a minute, as client-go does for service-account tokens.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Credentials, CredentialSource, TlsMaterial } from './cluster-access.ts';

/** Where a pod's service account credentials are mounted. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** How long a credential file's content is used before it is read again. */
export const CREDENTIAL_FILE_REFRESH_MS = 60_000;

/** Reads a file's bytes; tests give a fake. */
export type ReadFile = (file: string) => Buffer;

export interface LoadOptions {
  env: NodeJS.ProcessEnv;
  readFile?: ReadFile;
  /** Epoch ms; tests give a fake clock for the refresh of credential files. */
  now?: () => number;
  /** Where in-cluster credentials are mounted; default {@link SERVICE_ACCOUNT_DIR}. */
  serviceAccountDir?: string;
  /** The kubeconfig's context to use (kubectl's `--context`); default its current-context. */
  context?: string | undefined;
}

/** A credential source and the namespace its kubeconfig context names (kubectl's default namespace), if any. */
export interface KubeContext {
  source: CredentialSource;
  namespace: string | undefined;
}

/** The kubeconfig could not be used; the message says why and where. */
export class KubeConfigError extends Error {}

/**
 * The credential source for this process: $KUBECONFIG, ~/.kube/config or the in-cluster
 * service account, in that order, read by {@link StaticCredentials} when it covers the
 * kubeconfig's user, else by client-node.
 */
export async function loadCredentialSource(options: LoadOptions): Promise<CredentialSource> {
  return (await loadKubeContext(options)).source;
}

/** {@link loadCredentialSource}, with the namespace of the kubeconfig's context (undefined in a pod). */
export async function loadKubeContext(options: LoadOptions): Promise<KubeContext> {
  const readFile = options.readFile ?? ((file: string) => readFileSync(file));
  const files = (options.env.KUBECONFIG ?? '').split(path.delimiter).filter((file) => file !== '');
  if (files.length > 1) return clientNodeContext(await defaultKubeConfig(options.context));
  const file = files[0] ?? path.join(options.env.HOME ?? homedir(), '.kube', 'config');
  let text: string | undefined;
  try {
    text = readFile(file).toString('utf8');
  } catch (error) {
    if (files.length > 0) throw new KubeConfigError(`cannot read $KUBECONFIG ${file}: ${(error as Error).message}`);
  }
  if (text !== undefined) {
    // Imported here: a pod's service account needs no YAML (13 MiB of RSS, bench/REPORT.md).
    const { parse } = await import('yaml');
    let document: unknown;
    try {
      document = parse(text);
    } catch (error) {
      throw new KubeConfigError(`${file} is not valid YAML: ${(error as Error).message}`);
    }
    const settings = parseKubeConfig(document, file, options.context);
    if (settings === undefined) return clientNodeContext(await defaultKubeConfig(options.context));
    return { source: new StaticCredentials(settings, readFile, options.now ?? Date.now), namespace: contextNamespace(document, file, options.context) };
  }
  const host = options.env.KUBERNETES_SERVICE_HOST;
  const port = options.env.KUBERNETES_SERVICE_PORT;
  if (host === undefined || host === '' || port === undefined || port === '') {
    throw new KubeConfigError(`no kubeconfig (${file} does not exist, $KUBECONFIG is not set) and not in a cluster ($KUBERNETES_SERVICE_HOST is not set)`);
  }
  const dir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const source = new StaticCredentials(
    { server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`, caFile: path.join(dir, 'ca.crt'), tokenFile: path.join(dir, 'token') },
    readFile,
    options.now ?? Date.now,
  );
  return { source, namespace: undefined };
}

/** The cluster and user of a kubeconfig's current context, as far as {@link StaticCredentials} reads them. */
export interface ConnectionSettings {
  server: string;
  proxyUrl?: string;
  caData?: Buffer;
  caFile?: string;
  insecureSkipTlsVerify?: boolean;
  tlsServerName?: string;
  certData?: Buffer;
  certFile?: string;
  keyData?: Buffer;
  keyFile?: string;
  token?: string;
  tokenFile?: string;
}

/** What a user entry may hold that {@link StaticCredentials} handles; any other key goes to client-node. */
const COVERED_USER_KEYS = new Set(['client-certificate', 'client-certificate-data', 'client-key', 'client-key-data', 'token', 'tokenFile']);

/**
 * The current context's cluster and user of a kubeconfig (`document`: the parsed YAML of
 * `file`), or undefined when the user needs client-node (exec, auth-provider, basic auth,
 * impersonation). Relative file paths are taken from the kubeconfig's directory, as kubectl does.
 * `contextName` picks another context than the current one.
 */
export function parseKubeConfig(document: unknown, file: string, contextName?: string): ConnectionSettings | undefined {
  const config = asRecord(document);
  const { name, context } = selectedContext(config, file, contextName);
  const clusterName = asString(context.cluster);
  if (clusterName === undefined) throw new KubeConfigError(`${file}: context ${name} names no cluster`);
  const cluster = asRecord(named(config.clusters, clusterName, 'cluster', file).cluster);
  const userName = asString(context.user);
  const user = userName === undefined ? {} : asRecord(named(config.users, userName, 'user', file).user);
  if (Object.keys(user).some((key) => !COVERED_USER_KEYS.has(key))) return undefined;

  const server = asString(cluster.server);
  if (server === undefined) throw new KubeConfigError(`${file}: cluster ${clusterName} has no server`);
  const dir = path.dirname(path.resolve(file));
  const filePath = (value: unknown): string | undefined => {
    const name = asString(value);
    return name === undefined ? undefined : path.resolve(dir, name);
  };
  const data = (value: unknown): Buffer | undefined => {
    const encoded = asString(value);
    return encoded === undefined ? undefined : Buffer.from(encoded, 'base64');
  };
  return dropUndefined({
    server: server.replace(/\/+$/, ''),
    proxyUrl: asString(cluster['proxy-url']),
    caData: data(cluster['certificate-authority-data']),
    caFile: filePath(cluster['certificate-authority']),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true ? true : undefined,
    tlsServerName: asString(cluster['tls-server-name']),
    certData: data(user['client-certificate-data']),
    certFile: filePath(user['client-certificate']),
    keyData: data(user['client-key-data']),
    keyFile: filePath(user['client-key']),
    token: asString(user.token),
    tokenFile: filePath(user.tokenFile),
  });
}

/**
 * Credentials from {@link ConnectionSettings}: inline data as given, files read again at most
 * every {@link CREDENTIAL_FILE_REFRESH_MS}. A file that cannot be read again keeps its last
 * content (a rotation in progress), and fails the request only if it was never read.
 */
export class StaticCredentials implements CredentialSource {
  readonly server: string;
  readonly proxyUrl?: string;
  private readonly cache = new Map<string, { content: Buffer; readAt: number }>();

  constructor(
    private readonly settings: ConnectionSettings,
    private readonly readFile: ReadFile,
    private readonly now: () => number,
  ) {
    if (!/^https?:\/\//.test(settings.server)) throw new KubeConfigError(`the server ${settings.server} is not an http(s) URL`);
    if (settings.server.startsWith('http:') && settings.insecureSkipTlsVerify !== true) {
      throw new KubeConfigError(`the server ${settings.server} is plain HTTP; that needs insecure-skip-tls-verify`);
    }
    this.server = settings.server.replace(/\/+$/, '');
    if (settings.proxyUrl !== undefined) this.proxyUrl = settings.proxyUrl;
  }

  read(): Promise<Credentials> {
    // An unreadable file rejects the promise (the executor's throw), it does not throw.
    return new Promise((resolve) => {
      resolve(this.current());
    });
  }

  private current(): Credentials {
    const s = this.settings;
    const tls: TlsMaterial = dropUndefined({
      ca: s.caData ?? this.file(s.caFile),
      cert: s.certData ?? this.file(s.certFile),
      key: s.keyData ?? this.file(s.keyFile),
      rejectUnauthorized: s.insecureSkipTlsVerify === true ? false : undefined,
      servername: s.tlsServerName,
    });
    const token = s.token ?? this.file(s.tokenFile)?.toString('utf8').trim();
    return { tls, headers: token === undefined || token === '' ? {} : { authorization: `Bearer ${token}` } };
  }

  private file(file: string | undefined): Buffer | undefined {
    if (file === undefined) return undefined;
    const now = this.now();
    const cached = this.cache.get(file);
    if (cached !== undefined && now - cached.readAt < CREDENTIAL_FILE_REFRESH_MS) return cached.content;
    try {
      const content = this.readFile(file);
      this.cache.set(file, { content, readAt: now });
      return content;
    } catch (error) {
      if (cached === undefined) throw new KubeConfigError(`cannot read ${file}: ${(error as Error).message}`);
      cached.readAt = now;
      return cached.content;
    }
  }
}

/** Credentials from a client-node `KubeConfig`: every way of authenticating that kubectl knows. */
export function clientNodeSource(kubeConfig: KubeConfig): CredentialSource {
  const cluster = kubeConfig.getCurrentCluster();
  if (cluster === null) throw new KubeConfigError('the kubeconfig has no current cluster');
  return {
    server: cluster.server.replace(/\/+$/, ''),
    ...(cluster.proxyUrl !== undefined && { proxyUrl: cluster.proxyUrl }),
    async read(): Promise<Credentials> {
      const options: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean; servername?: string; headers?: Record<string, unknown> } = {};
      await kubeConfig.applyToHTTPSOptions(options);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = String(value);
      const user = kubeConfig.getCurrentUser();
      if (user?.username !== undefined && user.username !== '') {
        headers.authorization = `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`;
      }
      return {
        tls: dropUndefined({ ca: options.ca, cert: options.cert, key: options.key, rejectUnauthorized: options.rejectUnauthorized, servername: options.servername }),
        headers,
      };
    },
  };
}

/** The context `contextName` (default: the current one) of a parsed kubeconfig, and its name. */
function selectedContext(config: Record<string, unknown>, file: string, contextName: string | undefined): { name: string; context: Record<string, unknown> } {
  const name = contextName ?? asString(config['current-context']);
  if (name === undefined) throw new KubeConfigError(`${file} has no current-context`);
  return { name, context: asRecord(named(config.contexts, name, 'context', file).context) };
}

/** The namespace the context `contextName` (default: the current one) of a parsed kubeconfig names, if any. */
function contextNamespace(document: unknown, file: string, contextName: string | undefined): string | undefined {
  return asString(selectedContext(asRecord(document), file, contextName).context.namespace);
}

function clientNodeContext(kubeConfig: KubeConfig): KubeContext {
  const namespace = kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace;
  return { source: clientNodeSource(kubeConfig), namespace: namespace === '' ? undefined : namespace };
}

async function defaultKubeConfig(context: string | undefined): Promise<KubeConfig> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  if (context !== undefined) {
    if (kubeConfig.getContextObject(context) === null) throw new KubeConfigError(`the kubeconfig has no context named ${context}`);
    kubeConfig.setCurrentContext(context);
  }
  return kubeConfig;
}

function named(list: unknown, name: string, what: string, file: string): Record<string, unknown> {
  const entry = (Array.isArray(list) ? list : []).map(asRecord).find((item) => item.name === name);
  if (entry === undefined) throw new KubeConfigError(`${file}: no ${what} named ${name}`);
  return entry;
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function asString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** `T` with its possibly-undefined properties optional instead (for exactOptionalPropertyTypes). */
type WithoutUndefined<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & {
  [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>;
};

function dropUndefined<T extends object>(value: T): WithoutUndefined<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as WithoutUndefined<T>;
}
