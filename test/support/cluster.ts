/**
 * API access to the run's control plane for tests: typed clients, fresh namespaces, manifest
 * application. Each test works in a namespace of its own that no other test (or later run on
 * the same control plane) ever reuses.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  ApiException,
  ApiextensionsV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  loadYaml,
  PatchStrategy,
  RbacAuthorizationV1Api,
  type KubernetesObject,
  type V1PolicyRule,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { PooledClusterAccess, type ClusterAccess } from '../../src/runtime/cluster-access.ts';
import { clientNodeSource } from '../../src/runtime/kubeconfig.ts';
import { requireControlPlane, type ControlPlaneInfo, type Tier } from './control-plane.ts';
import { waitUntil } from './wait.ts';

/**
 * Access for an operator client ({@link KubeClient}) in a test: the credentials of a client-node
 * KubeConfig (the operator's path for kubeconfigs it does not read itself), pooled as in the operator.
 */
export function clusterAccess(kubeConfig: KubeConfig): ClusterAccess {
  return new PooledClusterAccess(clientNodeSource(kubeConfig));
}

/** The field manager of every write the test harness makes. */
export const TEST_FIELD_MANAGER = 'oaat-test';

/** Namespace labels under which Pod Security admission rejects every pod that is not `restricted`. */
export const POD_SECURITY_RESTRICTED: Readonly<Record<string, string>> = { 'pod-security.kubernetes.io/enforce': 'restricted' };

export class TestCluster {
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  readonly apiextensions: ApiextensionsV1Api;
  readonly rbac: RbacAuthorizationV1Api;
  readonly objects: KubernetesObjectApi;

  constructor(readonly info: ControlPlaneInfo) {
    this.kubeConfig = new KubeConfig();
    this.kubeConfig.loadFromFile(info.kubeconfig);
    this.core = this.kubeConfig.makeApiClient(CoreV1Api);
    this.custom = this.kubeConfig.makeApiClient(CustomObjectsApi);
    this.apiextensions = this.kubeConfig.makeApiClient(ApiextensionsV1Api);
    this.rbac = this.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    this.objects = KubernetesObjectApi.makeApiClient(this.kubeConfig);
  }

  /**
   * Creates a namespace with a unique name (`<prefix>-<random>`) and returns its name. Names are
   * never reused: without a controller-manager (T0, T1) a deleted namespace never goes away.
   * `labels` are added to the namespace's (e.g. {@link POD_SECURITY_RESTRICTED}).
   */
  async createNamespace(prefix = 'test', labels: Record<string, string> = {}): Promise<string> {
    const name = `${prefix.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 40)}-${randomBytes(4).toString('hex')}`;
    await this.core.createNamespace({ body: { metadata: { name, labels: { ...labels, 'oaat.test/namespace': 'true' } } } });
    return name;
  }

  /**
   * Server-side applies every document (objects without a namespace get `namespace` when
   * given) and returns what the server stored, in order.
   *
   * Plain objects (parsed YAML or literals) go through client-node's model classes first
   * (`loadYaml`): its serializer otherwise drops the keys whose wire names differ from the
   * model's (all the `x-kubernetes-*` keys of a CRD schema) from plain objects of built-in
   * kinds. Model instances (from `loadAllYaml`) are used as they are.
   */
  async apply(documents: KubernetesObject[], namespace?: string): Promise<KubernetesObject[]> {
    const stored: KubernetesObject[] = [];
    for (const document of documents) {
      const plain = Object.getPrototypeOf(document) === Object.prototype;
      const object = plain ? loadYaml<KubernetesObject>(JSON.stringify(document)) : document;
      if (namespace !== undefined && object.metadata !== undefined && object.metadata.namespace === undefined) {
        object.metadata.namespace = namespace;
      }
      stored.push(
        await this.objects.patch(object, undefined, undefined, TEST_FIELD_MANAGER, true, PatchStrategy.ServerSideApply),
      );
    }
    return stored;
  }

  /**
   * Creates ServiceAccount `name` in `namespace` and returns a kubeconfig that authenticates as
   * it with a short-lived bearer token (TokenRequest API). It holds only what RBAC grants it.
   */
  async serviceAccountKubeConfig(namespace: string, name: string): Promise<KubeConfig> {
    await this.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
    const request = await this.core.createNamespacedServiceAccountToken({
      name,
      namespace,
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const token = request.status?.token;
    if (token === undefined) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
    return this.kubeConfigWithToken(token);
  }

  /**
   * A ServiceAccount holding exactly `rules` in `namespace` (a Role and its binding), once RBAC
   * lets it use them; returns its bearer token and a kubeconfig that authenticates with it.
   */
  async serviceAccountWithRole(namespace: string, name: string, rules: V1PolicyRule[]): Promise<{ token: string; kubeConfig: KubeConfig }> {
    const kubeConfig = await this.serviceAccountKubeConfig(namespace, name);
    const token = kubeConfig.getCurrentUser()?.token;
    if (token === undefined) throw new Error('the ServiceAccount kubeconfig has no token');
    await this.rbac.createNamespacedRole({ namespace, body: { metadata: { name }, rules } });
    await this.rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
        subjects: [{ kind: 'ServiceAccount', name, namespace }],
      },
    });
    const probe = rules[0];
    const authorization = this.kubeConfig.makeApiClient(AuthorizationV1Api);
    await waitUntil(
      () =>
        authorization.createSubjectAccessReview({
          body: {
            spec: {
              user: `system:serviceaccount:${namespace}:${name}`,
              groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
              resourceAttributes: { namespace, verb: probe?.verbs[0] ?? 'get', group: probe?.apiGroups?.[0] ?? '', resource: probe?.resources?.[0] ?? '' },
            },
          },
        }),
      (review) => review.status?.allowed === true,
      { what: `RBAC to grant ServiceAccount ${namespace}/${name} its Role`, timeoutMs: 10_000 },
    );
    return { token, kubeConfig };
  }

  /** A kubeconfig for this control plane that authenticates with `token`. */
  kubeConfigWithToken(token: string): KubeConfig {
    const kubeConfig = new KubeConfig();
    const cluster = this.kubeConfig.getCurrentCluster();
    if (cluster === null) throw new Error('the test kubeconfig has no current cluster');
    kubeConfig.loadFromOptions({
      clusters: [cluster],
      users: [{ name: 'token-user', token }],
      contexts: [{ name: 'token', cluster: cluster.name, user: 'token-user' }],
      currentContext: 'token',
    });
    return kubeConfig;
  }

  /** Applies a CustomResourceDefinition and waits until the API server serves it. */
  async installCrd(crd: KubernetesObject): Promise<void> {
    await this.apply([crd]);
    const name = crd.metadata?.name ?? '';
    await waitUntil(
      () => this.apiextensions.readCustomResourceDefinition({ name }),
      (stored) => stored.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false,
      { what: `CRD ${name} to be Established`, timeoutMs: 30_000 },
    );
  }
}

/** Connects to the run's control plane, which must be of `tier` or higher (else throws). */
export function connectCluster(tier: Tier): TestCluster {
  return new TestCluster(requireControlPlane(tier));
}

/** Parses a (multi-document) YAML file or string into Kubernetes objects; empty documents are dropped. */
export function loadManifests(source: { file: string } | { text: string }): KubernetesObject[] {
  const text = 'file' in source ? readFileSync(source.file, 'utf8') : source.text;
  return parseAllDocuments(text)
    .map((document) => {
      if (document.errors.length > 0) throw new Error(`invalid YAML: ${document.errors.map((e) => e.message).join('; ')}`);
      return document.toJS() as KubernetesObject | null;
    })
    .filter((object): object is KubernetesObject => object !== null);
}

/** The HTTP status of a failed API call, or undefined when the error is not an API answer. */
export function apiStatus(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}
