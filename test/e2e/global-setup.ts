/**
 * Jest global setup of the `e2e` project:
 * - helm (`HELM`, built by hack/tools.sh when needed);
 * - the operator as the image would hold it: `OAAT_E2E_APP_DIR` when set, else
 *   hack/runtime-dir.sh assembles one (production dependencies and dist/ only) in a temp dir;
 * - a T2 control plane, as the integration project gets one (OAAT_TEST_CP_STATE reuses one),
 *   with the OwnerReferencesPermissionEnforcement admission plugin on.
 * Anything missing fails the run; nothing is skipped.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { helmBinary } from '../../hack/gen-manifests.ts';
import { REPO_ROOT } from '../support/control-plane.ts';
import integrationSetup from '../support/global-setup.ts';

/** Set when this setup made the app dir (the teardown removes it). */
export const OWNED_APP_DIR_ENV = 'OAAT_E2E_APP_DIR_OWNED';

export default function globalSetup(): void {
  process.env.HELM = helmBinary();
  if ((process.env.OAAT_E2E_APP_DIR ?? '') === '') {
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'oaat-e2e-app-')), 'app');
    process.stderr.write(`\ne2e: assembling the runtime image contents in ${dir} (hack/runtime-dir.sh)\n`);
    const result = spawnSync(path.join(REPO_ROOT, 'hack', 'runtime-dir.sh'), [dir], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (result.status !== 0) throw new Error(`hack/runtime-dir.sh ${dir} failed (exit ${String(result.status)}); its message is above`);
    process.env.OAAT_E2E_APP_DIR = dir;
    process.env[OWNED_APP_DIR_ENV] = '1';
  }
  if ((process.env.OAAT_TEST_TIER ?? 'T2') !== 'T2') throw new Error('the e2e project needs a T2 control plane (unset OAAT_TEST_TIER)');
  // As OpenShift has it: setting blockOwnerDeletion on the item pods needs `update` on
  // oaatgroups/finalizers, which the chart's RBAC must grant.
  process.env.CP_ADMISSION_PLUGINS = 'OwnerReferencesPermissionEnforcement';
  integrationSetup();
}
