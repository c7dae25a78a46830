/**
 * The start-up check of the installed CRDs. Helm installs CRDs once and never upgrades them,
 * and the Python original's CRDs have neither the `/status` subresource nor the status schema
 * this operator writes: running against them would fail on every status write. A CRD of an
 * older release of this operator lacks fields the run protocol depends on (the API server would
 * silently drop them). So the operator refuses to start, with a message that says how to fix it.
 */
import { isNotFound } from '../runtime/api-error.ts';
import type { KubeClient, ResourceType } from '../runtime/client.ts';
import type { KubernetesObject } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../api/v1/types.ts';

const CRDS: ResourceType = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', plural: 'customresourcedefinitions', namespaced: false };

const FIX = 'install the CRDs of this release: helm upgrade of the release that owns them (crds.enabled), or kubectl apply --server-side --force-conflicts -f config/crd/; see docs/migration.md';

interface Crd extends KubernetesObject {
  spec?: { versions?: { name: string; subresources?: { status?: object }; schema?: { openAPIV3Schema?: { properties?: Record<string, { properties?: Record<string, unknown> }> } } }[] };
}

/** What the check found: nothing wrong, a reason to refuse to start, or a reason it could not look. */
export type CrdCheck = { ok: true } | { ok: false; problem: string } | { ok: 'unknown'; reason: string };

export async function checkInstalledCrds(client: KubeClient): Promise<CrdCheck> {
  // status.runSeq came with the run protocol v2 (claim numbers): on an older schema the API
  // server would prune it, and with it every claim's number and owner. status.runNow and reset
  // (0.2.0) record handled requests: pruned, one run-now annotation would start its item again
  // after every run.
  const expectations: [string, string[]][] = [
    [`oaatgroups.${GROUP}`, ['currentRun', 'runSeq', 'createBackoff', 'runNow', 'reset']],
    [`oaattypes.${GROUP}`, []],
  ];
  for (const [name, statusFields] of expectations) {
    let crd: Crd;
    try {
      crd = await client.get<Crd>(CRDS, '', name);
    } catch (error) {
      if (isNotFound(error)) return { ok: false, problem: `CRD ${name} is not installed: ${FIX}` };
      return { ok: 'unknown', reason: `cannot read CRD ${name} (${(error as Error).message}); assuming it is current` };
    }
    const version = crd.spec?.versions?.find((v) => v.name === VERSION);
    if (version?.subresources?.status === undefined) {
      return { ok: false, problem: `CRD ${name} has no /status subresource (it is the Python original's or an older one): ${FIX}` };
    }
    const status = version.schema?.openAPIV3Schema?.properties?.status?.properties ?? {};
    const missing = statusFields.find((field) => !(field in status));
    if (missing !== undefined) {
      return { ok: false, problem: `CRD ${name} lacks status.${missing} in its schema (an older version): ${FIX}` };
    }
  }
  return { ok: true };
}
