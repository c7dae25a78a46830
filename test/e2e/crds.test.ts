/**
 * The CRDs as part of a release, over their life: `helm install` of the packaged chart with
 * default values installs them and owns them; another release beside it must set
 * `crds.enabled=false` (with true it fails with "invalid ownership metadata"); `helm upgrade`
 * applies a changed CRD; `crds.keep` keeps them, and the OaatGroups, on `helm uninstall`; and an
 * install from chart 0.1.x (CRDs created from crds/, owned by no release) is adopted by running
 * the README's block of commands as it is, keeping its groups.
 *
 * This suite starts from no CRDs at all (it deletes those other suites left, with their groups)
 * and leaves them in place, kept, for the suites after it. No operator runs here.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { V1CustomResourceDefinition } from '@kubernetes/client-node';
import { apiStatus, connectCluster, POD_SECURITY_RESTRICTED, type TestCluster } from '../support/cluster.ts';
import { REPO_ROOT } from '../support/control-plane.ts';
import { waitUntil } from '../support/wait.ts';
import { CHART, helm } from './chart-operator.ts';

const CRD_NAMES = ['oaatgroups.kawaja.net', 'oaattypes.kawaja.net'];
/** Marks the README's fenced block of adoption commands (README.md, "Upgrade", "From 0.1.x"). */
const ADOPTION_MARKER = '<!-- adopt-crds:';

let cluster: TestCluster;
let work: string;
let packaged: string;
/** A directory whose `helm` is the run's helm, for the README's commands. */
let helmDir: string;
const namespaces: string[] = [];

/** The README's adoption commands: the fenced block after {@link ADOPTION_MARKER}. */
function adoptionBlock(): string {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf(ADOPTION_MARKER)));
  if (!readme.includes(ADOPTION_MARKER) || block?.[1] === undefined) throw new Error(`README.md has no \`\`\`sh block after ${ADOPTION_MARKER}`);
  return block[1];
}

/** Runs `script` with bash in the repository root, as a user would, with RELEASE and NAMESPACE set. */
function shell(script: string, release: string, namespace: string): { status: number | null; out: string } {
  const result = spawnSync('bash', ['-Eeuo', 'pipefail', '-c', script], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, RELEASE: release, NAMESPACE: namespace, KUBECONFIG: cluster.info.kubeconfig, PATH: `${helmDir}:${cluster.info.binDir}:${process.env.PATH ?? ''}` },
  });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

async function namespace(prefix: string): Promise<string> {
  const name = await cluster.createNamespace(prefix, POD_SECURITY_RESTRICTED);
  namespaces.push(name);
  return name;
}

async function establishedCrds(): Promise<V1CustomResourceDefinition[]> {
  return Promise.all(CRD_NAMES.map((name) => waitUntil(
    () => cluster.apiextensions.readCustomResourceDefinition({ name }),
    (crd) => crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') === true,
    { what: `CRD ${name} to be Established` },
  )));
}

async function crdExists(name: string): Promise<boolean> {
  try {
    await cluster.apiextensions.readCustomResourceDefinition({ name });
    return true;
  } catch (error) {
    if (apiStatus(error) === 404) return false;
    throw error;
  }
}

/** Deletes the CRDs (and so every OaatGroup and OaatType) and waits until they are gone. */
async function deleteCrds(): Promise<void> {
  for (const name of CRD_NAMES) {
    await cluster.apiextensions.deleteCustomResourceDefinition({ name }).catch((error: unknown) => {
      if (apiStatus(error) !== 404) throw error;
    });
    await waitUntil(() => crdExists(name), (exists) => !exists, { what: `CRD ${name} to be deleted`, timeoutMs: 60_000 });
  }
}

/** Asserts that both CRDs belong to `release` in `namespace` as Helm records it, with the keep policy. */
async function expectOwnedBy(release: string, namespace: string): Promise<void> {
  for (const crd of await establishedCrds()) {
    expect(crd.metadata?.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'Helm', 'app.kubernetes.io/instance': release });
    expect(crd.metadata?.annotations).toMatchObject({
      'meta.helm.sh/release-name': release,
      'meta.helm.sh/release-namespace': namespace,
      'helm.sh/resource-policy': 'keep',
    });
  }
}

/** Creates OaatGroup `name` in `namespace` and returns its uid. */
async function createGroup(namespace: string, name: string): Promise<string> {
  const group: Record<string, unknown> = { apiVersion: 'kawaja.net/v1', kind: 'OaatGroup', metadata: { name }, spec: { frequency: '1m', oaatType: 'runner', oaatItems: ['a'] } };
  const [stored] = await waitUntil(
    () => cluster.apply([group], namespace),
    (objects) => objects.length === 1,
    { what: `OaatGroup ${namespace}/${name} to be created` },
  );
  return stored?.metadata?.uid ?? '';
}

async function groupUid(namespace: string, name: string): Promise<string | undefined> {
  const group = (await cluster.custom.getNamespacedCustomObject({ group: 'kawaja.net', version: 'v1', namespace, plural: 'oaatgroups', name })) as { metadata?: { uid?: string } };
  return group.metadata?.uid;
}

beforeAll(async () => {
  cluster = connectCluster('T2');
  work = mkdtempSync(path.join(os.tmpdir(), 'oaat-e2e-crds-'));
  helmDir = path.join(work, 'bin');
  mkdirSync(helmDir);
  symlinkSync(process.env.HELM ?? '', path.join(helmDir, 'helm'));
  helm(cluster, 'package', CHART, '--destination', work);
  const [tgz] = readdirSync(work).filter((name) => name.endsWith('.tgz'));
  if (tgz === undefined) throw new Error(`helm package wrote no .tgz into ${work}`);
  packaged = path.join(work, tgz);
  await deleteCrds();
});

afterAll(async () => {
  await Promise.all(namespaces.map((name) => cluster.core.deleteNamespace({ name })));
  rmSync(work, { recursive: true, force: true });
});

describe('a release that owns the CRDs', () => {
  const release = 'oaat-crds-owner';
  let releaseNamespace: string;

  it('helm install of the packaged chart with default values installs the CRDs, owned by the release and kept', async () => {
    releaseNamespace = await namespace('oaat-system');
    // replicaCount=0: there is no image to run here.
    const out = helm(cluster, 'install', release, packaged, '--namespace', releaseNamespace, '--set', 'replicaCount=0');
    expect(out).toContain('this release owns them; `helm upgrade` upgrades them');
    await expectOwnedBy(release, releaseNamespace);
    expect(helm(cluster, 'get', 'manifest', release, '--namespace', releaseNamespace).match(/^kind: CustomResourceDefinition$/gm)).toHaveLength(2);
  });

  it('another release installs beside it with crds.enabled=false; with the default it fails with "invalid ownership metadata"', async () => {
    const teamNamespace = await namespace('oaat-team');
    const out = helm(cluster, 'install', 'oaat-team', packaged, '--namespace', teamNamespace, '--set', 'replicaCount=0', '--set', 'crds.enabled=false');
    expect(out).toContain('this release does not install them (crds.enabled=false)');
    const clash = spawnSync(process.env.HELM ?? '', ['install', 'oaat-clash', packaged, '--namespace', teamNamespace, '--set', 'replicaCount=0'], {
      encoding: 'utf8',
      env: { ...process.env, KUBECONFIG: cluster.info.kubeconfig },
    });
    expect(clash.status).not.toBe(0);
    expect(clash.stderr).toContain('invalid ownership metadata');
    helm(cluster, 'uninstall', 'oaat-team', '--namespace', teamNamespace, '--wait');
    await expectOwnedBy(release, releaseNamespace);
  });

  it('helm upgrade applies a changed CRD, and the next upgrade takes the change back', async () => {
    const changed = path.join(work, 'changed');
    cpSync(CHART, changed, { recursive: true });
    const template = path.join(changed, 'templates', 'crds.yaml');
    const original = readFileSync(template, 'utf8');
    const column = '      additionalPrinterColumns:\n        - name: Upgraded\n          type: string\n          jsonPath: .spec.oaatType\n';
    writeFileSync(template, original.replace('      additionalPrinterColumns:\n', column));
    expect(readFileSync(template, 'utf8')).not.toBe(original);
    const columns = async () => ((await cluster.apiextensions.readCustomResourceDefinition({ name: 'oaatgroups.kawaja.net' })).spec.versions[0]?.additionalPrinterColumns ?? []).map((c) => c.name);
    const before = await columns();

    helm(cluster, 'upgrade', release, changed, '--namespace', releaseNamespace, '--reuse-values');
    expect(await columns()).toEqual(['Upgraded', ...before]);
    helm(cluster, 'upgrade', release, packaged, '--namespace', releaseNamespace, '--reuse-values');
    expect(await columns()).toEqual(before);
  });

  it('crds.keep: helm uninstall leaves the CRDs and the OaatGroups; the same release installs over them again', async () => {
    const groups = await namespace('e2e-crds');
    const uid = await createGroup(groups, 'kept');
    const out = helm(cluster, 'uninstall', release, '--namespace', releaseNamespace, '--wait');
    expect(out).toContain('These resources were kept due to the resource policy');
    for (const name of CRD_NAMES) expect(out).toContain(`[CustomResourceDefinition] ${name}`);
    await expectOwnedBy(release, releaseNamespace);
    expect(await groupUid(groups, 'kept')).toBe(uid);

    helm(cluster, 'install', release, packaged, '--namespace', releaseNamespace, '--set', 'replicaCount=0');
    await expectOwnedBy(release, releaseNamespace);
    helm(cluster, 'uninstall', release, '--namespace', releaseNamespace, '--wait');
    expect(await groupUid(groups, 'kept')).toBe(uid);
  });
});

describe('an install of chart 0.1.x (CRDs from crds/, owned by no release)', () => {
  it('fails to upgrade with "invalid ownership metadata" until the README\'s one-time commands adopt the CRDs; the groups stay', async () => {
    await deleteCrds();
    // As Helm installs crds/: created as they are, without Helm's labels or annotations.
    execFileSync(path.join(cluster.info.binDir, 'kubectl'), ['create', '-f', path.join(REPO_ROOT, 'config', 'crd')], {
      env: { ...process.env, KUBECONFIG: cluster.info.kubeconfig },
      stdio: 'ignore',
    });
    for (const crd of await establishedCrds()) {
      expect(Object.keys(crd.metadata?.annotations ?? {}).filter((key) => key.includes('helm.sh'))).toEqual([]);
    }
    const groups = await namespace('e2e-legacy');
    const uid = await createGroup(groups, 'legacy');
    // The 0.1.x release: its templates held no CRDs.
    const release = 'oaat-legacy';
    const releaseNamespace = await namespace('oaat-system');
    helm(cluster, 'install', release, CHART, '--namespace', releaseNamespace, '--set', 'replicaCount=0', '--set', 'crds.enabled=false');

    const block = adoptionBlock();
    const upgrade = block.split('\n').find((line) => line.startsWith('helm upgrade '));
    if (upgrade === undefined) throw new Error('the README\'s adoption block has no `helm upgrade` line');
    const refused = shell(upgrade, release, releaseNamespace);
    expect(refused.status).not.toBe(0);
    expect(refused.out).toContain('invalid ownership metadata');

    const adopted = shell(block, release, releaseNamespace);
    expect(adopted.out).toContain(`Release "${release}" has been upgraded.`);
    expect(adopted.status).toBe(0);
    await expectOwnedBy(release, releaseNamespace);
    expect(await groupUid(groups, 'legacy')).toBe(uid);

    // Kept for the suites after this one.
    helm(cluster, 'uninstall', release, '--namespace', releaseNamespace, '--wait');
    expect(await groupUid(groups, 'legacy')).toBe(uid);
  });
});
