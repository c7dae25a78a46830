/**
 * The Helm chart, offline: `helm lint` is clean for every supported shape of values, `helm
 * template` renders least-privilege RBAC for the cluster-wide and namespaced modes, a hardened
 * Deployment, the CRDs of config/crd/ unless another release owns them, the PodDisruptionBudget
 * and anti-affinity only with two replicas, the ServiceMonitor only when enabled;
 * values.schema.json rejects bad values with a message naming them; and the plain manifests in config/ are what hack/gen-manifests.ts renders now.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { V1Deployment, V1PolicyRule } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { CHART_DIR, helmTemplate, plainManifests, REPO_ROOT } from '../../hack/gen-manifests.ts';

const CHART = path.join(REPO_ROOT, CHART_DIR);
/** The operator's version: package.json's, which the chart and the image follow. */
const VERSION = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const RELEASE_NS = 'oaat-system';

function helmPath(): string {
  const helm = process.env.HELM;
  if (helm === undefined || helm === '') throw new Error('HELM is not set: the chart project global setup resolves it (run `npm run test:chart`)');
  return helm;
}

function helm(...args: string[]): { status: number | null; out: string } {
  const result = spawnSync(helmPath(), args, { encoding: 'utf8' });
  if (result.error) throw result.error;
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

type Obj = ReturnType<typeof helmTemplate>[number];
const render = (...args: string[]): Obj[] => helmTemplate(helmPath(), args);
const kinds = (objects: Obj[]) => objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort();
const one = (objects: Obj[], kind: string, namespace?: string): Obj => {
  const found = objects.filter((o) => o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace));
  const [first] = found;
  if (first === undefined || found.length !== 1) throw new Error(`expected one ${kind}${namespace === undefined ? '' : ` in ${namespace}`}, found ${String(found.length)}`);
  return first;
};
const deployment = (objects: Obj[]) => one(objects, 'Deployment') as unknown as V1Deployment;
const container = (objects: Obj[]) => {
  const c = deployment(objects).spec?.template.spec?.containers[0];
  if (c === undefined) throw new Error('no container');
  return c;
};
const env = (objects: Obj[]) => Object.fromEntries((container(objects).env ?? []).map((e) => [e.name, e.value]));

/**
 * Exactly what the operator does with the API in a watched namespace (see src/controllers,
 * src/runtime/events.ts): `patch` of groups and pods removes the original's kopf finalizer and
 * sets a pod's stop-reason annotation before deleting it.
 */
const OPERATOR_RULES: V1PolicyRule[] = [
  { apiGroups: ['kawaja.net'], resources: ['oaatgroups'], verbs: ['get', 'list', 'watch', 'patch'] },
  { apiGroups: ['kawaja.net'], resources: ['oaatgroups/status'], verbs: ['patch'] },
  // Item pods block their group's deletion (ownerReferences.blockOwnerDeletion).
  { apiGroups: ['kawaja.net'], resources: ['oaatgroups/finalizers'], verbs: ['update'] },
  { apiGroups: ['kawaja.net'], resources: ['oaattypes'], verbs: ['list', 'watch'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'delete', 'patch'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
  { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] },
];

/** The start-up CRD check (src/controllers/crd-check.ts): a read of the two CRDs by name, in both modes. */
const CRD_CHECK_RULES: V1PolicyRule[] = [
  { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], resourceNames: ['oaatgroups.kawaja.net', 'oaattypes.kawaja.net'], verbs: ['get'] },
];

const LEASE_RULES = (name: string): V1PolicyRule[] => [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: [name], verbs: ['get', 'update'] },
];

describe('helm lint', () => {
  it.each([
    ['defaults', []],
    ['namespaced', ['--set', 'watchNamespaces={a,b}']],
    ['CRDs owned by another release', ['--set', 'crds.enabled=false']],
    ['CRDs deleted on uninstall', ['--set', 'crds.keep=false']],
    ['two replicas', ['--set', 'replicaCount=2']],
    ['ServiceMonitor, everything set', ['--set', 'replicaCount=2', '--set', 'watchNamespaces={a}', '--set', 'metrics.serviceMonitor.enabled=true', '--set', 'priorityClassName=high', '--set', 'nodeSelector.pool=ops']],
    ['alerts and dashboard', ['--set', 'metrics.prometheusRule.enabled=true', '--set', 'metrics.dashboard.enabled=true', '--set', 'metrics.prometheusRule.alertLabels.team=ops']],
  ])('is clean: %s', (_name, args) => {
    const result = helm('lint', '--strict', CHART, ...args);
    expect(result.out).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(result.out).not.toMatch(/\[(WARNING|ERROR)\]/);
    expect(result.status).toBe(0);
  });
});

describe('Chart.yaml', () => {
  it('has package.json\'s version as its version and appVersion (one version for operator, chart and image)', () => {
    const chart = parse(readFileSync(path.join(CHART, 'Chart.yaml'), 'utf8')) as { version: string; appVersion: string };
    expect({ version: chart.version, appVersion: chart.appVersion }).toEqual({ version: VERSION, appVersion: VERSION });
  });
});

describe('helm template', () => {
  it('cluster-wide mode (default): the CRDs, a ClusterRole with exactly the operator rules, the Lease Role in the release namespace, no PDB or ServiceMonitor', () => {
    const objects = render();
    expect(kinds(objects)).toEqual([
      'ClusterRole//oaat-operator',
      'ClusterRole//oaat-operator-crd-check',
      'ClusterRole//oaat-operator-edit',
      'ClusterRole//oaat-operator-view',
      'ClusterRoleBinding//oaat-operator',
      'ClusterRoleBinding//oaat-operator-crd-check',
      'CustomResourceDefinition//oaatgroups.kawaja.net',
      'CustomResourceDefinition//oaattypes.kawaja.net',
      `Deployment/${RELEASE_NS}/oaat-operator`,
      `Role/${RELEASE_NS}/oaat-operator-leader-election`,
      `RoleBinding/${RELEASE_NS}/oaat-operator-leader-election`,
      `Service/${RELEASE_NS}/oaat-operator-metrics`,
      `ServiceAccount/${RELEASE_NS}/oaat-operator`,
    ]);
    const clusterRoles = objects.filter((o) => o.kind === 'ClusterRole');
    expect(clusterRoles.find((o) => o.metadata.name === 'oaat-operator')?.rules).toEqual(OPERATOR_RULES);
    expect(clusterRoles.find((o) => o.metadata.name === 'oaat-operator-crd-check')?.rules).toEqual(CRD_CHECK_RULES);
    expect(objects.find((o) => o.kind === 'ClusterRoleBinding' && o.metadata.name === 'oaat-operator')).toMatchObject({
      roleRef: { kind: 'ClusterRole', name: 'oaat-operator' },
      subjects: [{ kind: 'ServiceAccount', name: 'oaat-operator', namespace: RELEASE_NS }],
    });
    expect(one(objects, 'Role').rules).toEqual(LEASE_RULES('oaat-operator'));
    expect(one(objects, 'RoleBinding')).toMatchObject({ roleRef: { kind: 'Role', name: 'oaat-operator-leader-election' }, subjects: [{ name: 'oaat-operator', namespace: RELEASE_NS }] });
    expect(env(objects)).toMatchObject({ OAAT_WATCH_NAMESPACES: '', OAAT_LEADER_ELECT: 'true', OAAT_LEASE_NAMESPACE: RELEASE_NS, OAAT_LEASE_NAME: 'oaat-operator' });
  });

  it('namespaced mode: a Role and RoleBinding with the operator rules in each watched namespace; cluster-wide only the CRD check', () => {
    const objects = render('--set', 'watchNamespaces={team-a,team-b}', '--set', 'rbac.userRoles=false');
    expect(kinds(objects.filter((o) => o.kind.startsWith('Cluster')))).toEqual(['ClusterRole//oaat-operator-crd-check', 'ClusterRoleBinding//oaat-operator-crd-check']);
    expect(one(objects, 'ClusterRole').rules).toEqual(CRD_CHECK_RULES);
    for (const ns of ['team-a', 'team-b']) {
      expect(one(objects, 'Role', ns).rules).toEqual(OPERATOR_RULES);
      expect(one(objects, 'RoleBinding', ns)).toMatchObject({
        roleRef: { kind: 'Role', name: 'oaat-operator' },
        subjects: [{ kind: 'ServiceAccount', name: 'oaat-operator', namespace: RELEASE_NS }],
      });
    }
    expect(one(objects, 'Role', RELEASE_NS).rules).toEqual(LEASE_RULES('oaat-operator'));
    expect(env(objects)).toMatchObject({ OAAT_WATCH_NAMESPACES: 'team-a,team-b', OAAT_LEASE_NAMESPACE: RELEASE_NS });
  });

  it('names everything after the release, and the Lease Role follows leaderElection.leaseName', () => {
    const objects = helmTemplate(helmPath(), ['--set', 'leaderElection.leaseName=my-lease']).map((o) => o);
    expect(one(objects, 'Role').rules).toEqual(LEASE_RULES('my-lease'));
    expect(env(objects).OAAT_LEASE_NAME).toBe('my-lease');
    const other = spawnSync(helmPath(), ['template', 'blue', CHART, '-n', 'x'], { encoding: 'utf8' });
    expect(other.stdout).toContain('name: blue-oaat-operator\n');
    expect(other.stdout).not.toMatch(/^\s*name: oaat-operator$/m);
  });

  it('the Deployment: probes on 8080, hardened security context, resources, leader election, log settings and extra env', () => {
    const objects = render('--set', 'logLevel=debug', '--set', 'logFormat=text', '--set', 'metrics.itemMetrics=off', '--set-json', 'env=[{"name":"OAAT_WORKERS","value":"8"}]');
    const spec = deployment(objects).spec;
    const pod = spec?.template.spec;
    const main = container(objects);
    expect(spec?.replicas).toBe(1);
    expect(main.image).toBe(`oaat-operator:${VERSION}`);
    expect(main.command).toEqual(['/nodejs/bin/node', '--optimize-for-size', '--max-semi-space-size=2', '--max-old-space-size=256', '/app/dist/main.js']);
    expect(main.ports).toEqual([{ name: 'http-metrics', containerPort: 8080, protocol: 'TCP' }]);
    expect(main.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http-metrics' });
    expect(main.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http-metrics' });
    expect(main.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod?.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(main.resources?.requests).toBeDefined();
    expect(main.resources?.limits?.memory).toBeDefined();
    expect(pod?.serviceAccountName).toBe('oaat-operator');
    expect(env(objects)).toEqual({
      OAAT_WATCH_NAMESPACES: '',
      OAAT_LEADER_ELECT: 'true',
      OAAT_LEASE_NAMESPACE: RELEASE_NS,
      OAAT_LEASE_NAME: 'oaat-operator',
      OAAT_SHUTDOWN_TIMEOUT: '25s',
      OAAT_HTTP_ADDRESS: ':8080',
      OAAT_LOG_LEVEL: 'debug',
      OAAT_LOG_FORMAT: 'text',
      OAAT_ITEM_METRICS: 'off',
      OAAT_WORKERS: '8',
    });
    // Item pods carry app=oaat-operator; the operator's own pods must not, or it would see itself.
    expect(spec?.selector.matchLabels?.app).toBeUndefined();
    expect(deployment(objects).spec?.template.metadata?.labels?.app).toBeUndefined();
  });

  it('fixes no user id (OpenShift\'s restricted SCC assigns one); security contexts, flags, volumes, spread and history are values', () => {
    const defaults = deployment(render()).spec;
    expect(defaults?.template.spec?.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(defaults?.revisionHistoryLimit).toBe(3);
    expect(defaults?.template.spec?.topologySpreadConstraints).toBeUndefined();
    const objects = render(
      // Helm merges these maps into the defaults; null removes a key.
      '--set-json', 'podSecurityContext={"fsGroup":2000,"seccompProfile":null}',
      '--set', 'securityContext.readOnlyRootFilesystem=false',
      '--set-json', 'extraArgs=["--workers=32","--log-level=debug"]',
      '--set-json', 'extraVolumes=[{"name":"ca","configMap":{"name":"ca"}}]',
      '--set-json', 'extraVolumeMounts=[{"name":"ca","mountPath":"/etc/ca"}]',
      '--set-json', 'topologySpreadConstraints=[{"maxSkew":1,"topologyKey":"topology.kubernetes.io/zone","whenUnsatisfiable":"ScheduleAnyway"}]',
      '--set', 'revisionHistoryLimit=0',
    );
    const spec = deployment(objects).spec;
    expect(spec?.template.spec?.securityContext).toEqual({ runAsNonRoot: true, fsGroup: 2000 });
    expect(container(objects).securityContext).toMatchObject({ readOnlyRootFilesystem: false, allowPrivilegeEscalation: false, runAsNonRoot: true });
    expect(container(objects).command?.slice(-3)).toEqual(['/app/dist/main.js', '--workers=32', '--log-level=debug']);
    expect(spec?.template.spec?.volumes?.map((v) => v.name)).toEqual(['tmp', 'ca']);
    expect(container(objects).volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }, { name: 'ca', mountPath: '/etc/ca' }]);
    expect(spec?.template.spec?.topologySpreadConstraints).toEqual([{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' }]);
    expect(spec?.revisionHistoryLimit).toBe(0);
  });

  it('the operator exits by itself 5 s before the pod\'s grace period ends', () => {
    const objects = render('--set', 'terminationGracePeriodSeconds=60');
    expect(deployment(objects).spec?.template.spec?.terminationGracePeriodSeconds).toBe(60);
    expect(env(objects).OAAT_SHUTDOWN_TIMEOUT).toBe('55s');
    expect(deployment(render()).spec?.template.spec?.terminationGracePeriodSeconds).toBe(30);
  });

  it('itemsFromConfigMaps.enabled=false: no ConfigMap rights, and the operator told not to read them', () => {
    const objects = render('--set', 'itemsFromConfigMaps.enabled=false');
    const role = objects.find((o) => o.kind === 'ClusterRole' && o.metadata.name === 'oaat-operator');
    expect(role?.rules).toEqual(OPERATOR_RULES.filter((rule) => !rule.resources?.includes('configmaps')));
    expect(env(objects).OAAT_CONFIGMAP_ITEMS).toBe('false');
    expect(env(render()).OAAT_CONFIGMAP_ITEMS).toBeUndefined();
  });

  it('podRestrictions reach the operator as OAAT_POD_RESTRICTIONS, and nothing is refused by default', () => {
    expect(env(render('--set', 'podRestrictions={hostPath,serviceAccount}')).OAAT_POD_RESTRICTIONS).toBe('hostPath,serviceAccount');
    expect(env(render()).OAAT_POD_RESTRICTIONS).toBeUndefined();
  });

  it('the node values set the V8 flags of the command', () => {
    const objects = render('--set', 'node.optimizeForSize=false', '--set', 'node.maxSemiSpaceMiB=4', '--set', 'node.maxOldSpaceMiB=300');
    expect(container(objects).command).toEqual(['/nodejs/bin/node', '--max-semi-space-size=4', '--max-old-space-size=300', '/app/dist/main.js']);
  });

  it('a FlowSchema for the ServiceAccount only when enabled, at the priority level the values name', () => {
    expect(render().some((object) => object.kind === 'FlowSchema')).toBe(false);
    const objects = render('--set', 'flowSchema.enabled=true', '--set', 'flowSchema.priorityLevel=global-default');
    expect(one(objects, 'FlowSchema')).toMatchObject({ spec: {
      matchingPrecedence: 1000,
      priorityLevelConfiguration: { name: 'global-default' },
      rules: [{ subjects: [{ kind: 'ServiceAccount', serviceAccount: { name: 'oaat-operator', namespace: RELEASE_NS } }] }],
    } });
  });

  it('scheduling and image values reach the pod', () => {
    const objects = render(
      '--set', 'image.repository=registry.example/oaat', '--set', 'image.tag=1.2.3', '--set', 'image.pullPolicy=Always',
      '--set', 'imagePullSecrets[0].name=pull', '--set', 'nodeSelector.pool=ops', '--set', 'priorityClassName=high',
      '--set-json', 'tolerations=[{"key":"ops","operator":"Exists","effect":"NoSchedule"}]',
    );
    const pod = deployment(objects).spec?.template.spec;
    expect(container(objects)).toMatchObject({ image: 'registry.example/oaat:1.2.3', imagePullPolicy: 'Always' });
    expect(pod).toMatchObject({
      imagePullSecrets: [{ name: 'pull' }],
      nodeSelector: { pool: 'ops' },
      priorityClassName: 'high',
      tolerations: [{ key: 'ops', operator: 'Exists', effect: 'NoSchedule' }],
    });
    expect(pod?.affinity).toBeUndefined();
  });

  it('two replicas: a PodDisruptionBudget keeping one and pod anti-affinity across nodes; an explicit affinity replaces it', () => {
    const objects = render('--set', 'replicaCount=2');
    expect(deployment(objects).spec?.replicas).toBe(2);
    const pdb = one(objects, 'PodDisruptionBudget');
    expect(pdb.spec).toEqual({ minAvailable: 1, selector: { matchLabels: deployment(objects).spec?.selector.matchLabels } });
    const term = deployment(objects).spec?.template.spec?.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.[0];
    expect(term?.podAffinityTerm).toEqual({ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: deployment(objects).spec?.selector.matchLabels } });

    const custom = render('--set', 'replicaCount=2', '--set-json', 'affinity={"nodeAffinity":{"x":1}}');
    expect(deployment(custom).spec?.template.spec?.affinity).toEqual({ nodeAffinity: { x: 1 } });
    for (const replicas of ['0', '1']) {
      const single = render('--set', `replicaCount=${replicas}`);
      expect(single.filter((o) => o.kind === 'PodDisruptionBudget')).toEqual([]);
      expect(deployment(single).spec?.replicas).toBe(Number(replicas));
    }
  });

  it('the metrics Service always; a monitoring.coreos.com/v1 ServiceMonitor on it only when enabled', () => {
    const service = one(render(), 'Service');
    expect(service.spec).toMatchObject({ ports: [{ name: 'http-metrics', port: 8080, targetPort: 'http-metrics' }] });
    expect(render().filter((o) => o.kind === 'ServiceMonitor')).toEqual([]);
    const objects = render('--set', 'metrics.serviceMonitor.enabled=true', '--set', 'metrics.serviceMonitor.labels.release=prom');
    const monitor = one(objects, 'ServiceMonitor');
    expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(monitor.metadata.labels?.release).toBe('prom');
    expect(monitor.spec).toMatchObject({
      selector: { matchLabels: (one(objects, 'Service').spec as { selector: unknown }).selector },
      // The domain metrics' namespace label is the group's: kept, not renamed exported_namespace.
      endpoints: [{ port: 'http-metrics', path: '/metrics', honorLabels: true }],
    });
  });

  it('requires Kubernetes >= 1.30', () => {
    const result = helm('template', 'x', CHART, '--kube-version', '1.29.9');
    expect(result.status).not.toBe(0);
    expect(result.out).toContain('chart requires kubeVersion: >=1.30.0-0');
    expect(helm('template', 'x', CHART, '--kube-version', '1.30.0').status).toBe(0);
  });
});

describe('the CRDs', () => {
  const crds = (...args: string[]) => render(...args).filter((o) => o.kind === 'CustomResourceDefinition');
  const configCrds = readdirSync(path.join(REPO_ROOT, 'config', 'crd')).sort().map((name) => parse(readFileSync(path.join(REPO_ROOT, 'config', 'crd', name), 'utf8')) as Obj);
  const withoutMetadata = ({ metadata, ...rest }: Obj) => ({ name: metadata.name, ...rest });

  it('by default: config/crd/\'s CRDs, unchanged but for the chart\'s labels and the keep policy', () => {
    const rendered = crds();
    expect(rendered.map(withoutMetadata)).toEqual(configCrds.map(withoutMetadata));
    for (const crd of rendered) {
      expect(crd.metadata.labels).toEqual({
        'helm.sh/chart': `oaat-operator-${VERSION}`,
        'app.kubernetes.io/name': 'oaat-operator',
        'app.kubernetes.io/instance': 'oaat-operator',
        'app.kubernetes.io/version': VERSION,
        'app.kubernetes.io/managed-by': 'Helm',
      });
      expect(crd.metadata).toMatchObject({ annotations: { 'helm.sh/resource-policy': 'keep' } });
    }
  });

  it('crds.keep=false: no keep policy (helm uninstall deletes them); crds.enabled=false: none at all', () => {
    const unkept = crds('--set', 'crds.keep=false');
    expect(unkept.map((crd) => crd.metadata.name)).toEqual(['oaatgroups.kawaja.net', 'oaattypes.kawaja.net']);
    expect(unkept.map((crd) => (crd.metadata as { annotations?: unknown }).annotations)).toEqual([undefined, undefined]);
    expect(crds('--set', 'crds.enabled=false')).toEqual([]);
    expect(render('--set', 'crds.enabled=false').length).toBe(render().length - 2);
  });
});

describe('values.schema.json', () => {
  it.each([
    [['--set', 'replicaCount=-1'], "at '/replicaCount': minimum: got -1, want 0"],
    [['--set', 'replicaCount=3'], "at '/replicaCount': maximum: got 3, want 2"],
    [['--set', 'replicaCount=one'], "at '/replicaCount': got string, want integer"],
    [['--set', 'logLevel=loud'], "at '/logLevel': value must be one of 'error', 'warn', 'info', 'debug'"],
    [['--set', 'logFormat=xml'], "at '/logFormat': value must be one of 'json', 'text'"],
    [['--set', 'metrics.itemMetrics=sometimes'], "at '/metrics/itemMetrics': value must be one of 'auto', 'on', 'off'"],
    [['--set', 'metrics.prometheusRule.overdueFor=soon'], "at '/metrics/prometheusRule/overdueFor'"],
    [['--set-json', 'metrics.prometheusRule.selector="{job=\\"x\\"}"'], "at '/metrics/prometheusRule/selector': '{job=\"x\"}' does not match pattern"],
    [['--set', 'metrics.dashboard.enable=true'], "at '/metrics/dashboard': additional properties 'enable' not allowed"],
    [['--set', 'watchNamespaces={Bad_NS}'], "at '/watchNamespaces/0'"],
    [['--set', 'watchNamespaces={a,a}'], "at '/watchNamespaces'"],
    [['--set', 'image.pullPolicy=Sometimes'], "at '/image/pullPolicy'"],
    [['--set', 'replicas=2'], "additional properties 'replicas' not allowed"],
    [['--set', 'crds.enabled=yes'], "at '/crds/enabled': got string, want boolean"],
    [['--set', 'crds.install=true'], "at '/crds': additional properties 'install' not allowed"],
    [['--set-json', 'env=[{"value":"x"}]'], "at '/env/0': missing property 'name'"],
    [['--set', 'node.maxSemiSpaceMiB=0'], "at '/node/maxSemiSpaceMiB': minimum: got 0, want 1"],
    [['--set', 'node.maxOldSpaceMiB=-1'], "at '/node/maxOldSpaceMiB': minimum: got -1, want 0"],
    [['--set', 'terminationGracePeriodSeconds=5'], "at '/terminationGracePeriodSeconds': minimum: got 5, want 10"],
    [['--set-json', 'extraArgs=["workers=3"]'], "at '/extraArgs/0'"],
    [['--set', 'podRestrictions={privileged}'], "at '/podRestrictions/0': value must be one of 'serviceAccount', 'hostNamespaces', 'hostPath', 'all'"],
    [['--set-json', 'extraVolumeMounts=[{"name":"ca"}]'], "at '/extraVolumeMounts/0': missing property 'mountPath'"],
  ])('rejects %j: %s', (args, message) => {
    const result = helm('template', 'x', CHART, ...args);
    expect(result.status).not.toBe(0);
    expect(result.out).toContain("values don't meet the specifications of the schema");
    expect(result.out).toContain(message);
  });
});

describe('roles for people', () => {
  it('view reads both kinds and aggregates into view, edit and admin; edit writes them and aggregates into edit and admin', () => {
    const roles = render().filter((o) => o.kind === 'ClusterRole');
    const role = (name: string): Obj | undefined => roles.find((o) => o.metadata.name === name);
    const aggregatesTo = (name: string): string[] =>
      Object.entries(role(name)?.metadata.labels ?? {}).flatMap(([key, value]) => (key.startsWith('rbac.authorization.k8s.io/aggregate-to-') && value === 'true' ? [key.split('-').at(-1) ?? ''] : []));
    expect(aggregatesTo('oaat-operator-view')).toEqual(['view', 'edit', 'admin']);
    expect(role('oaat-operator-view')?.rules).toEqual([{ apiGroups: ['kawaja.net'], resources: ['oaatgroups', 'oaatgroups/status', 'oaattypes'], verbs: ['get', 'list', 'watch'] }]);
    expect(aggregatesTo('oaat-operator-edit')).toEqual(['edit', 'admin']);
    expect(role('oaat-operator-edit')?.rules).toEqual([{ apiGroups: ['kawaja.net'], resources: ['oaatgroups', 'oaattypes'], verbs: ['create', 'update', 'patch', 'delete', 'deletecollection'] }]);
    expect(render('--set', 'rbac.userRoles=false').filter((o) => o.metadata.name.endsWith('-view') || o.metadata.name.endsWith('-edit'))).toEqual([]);
  });
});

describe('plain manifests (config/rbac, config/manager)', () => {
  const files = plainManifests(helmPath());

  it.each(files.map((file) => [file.path, file] as const))('%s is what hack/gen-manifests.ts renders from the chart (run `npm run gen:manifests`)', (file, generated) => {
    expect(readFileSync(path.join(REPO_ROOT, file), 'utf8')).toBe(generated.text);
  });

  it('are the chart defaults without Helm labels, plus the Namespace', () => {
    const objects = files.flatMap((file) => (file.text.split(/^---$/m).map((doc) => parse(doc) as Obj)));
    expect(objects.map((o) => o.kind)).toEqual(['ServiceAccount', 'ClusterRole', 'ClusterRole', 'ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'Namespace', 'Service', 'Deployment']);
    expect(objects.every((o) => o.metadata.labels?.['app.kubernetes.io/managed-by'] === undefined && o.metadata.labels?.['helm.sh/chart'] === undefined)).toBe(true);
    expect(objects.find((o) => o.kind === 'ClusterRole' && o.metadata.name === 'oaat-operator')?.rules).toEqual(OPERATOR_RULES);
  });
});
