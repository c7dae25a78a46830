/**
 * Jest global setup of the `e2e` project. In both modes: helm (`HELM`, built by hack/tools.sh
 * when needed) and a T2 cluster with the KWOK node through test/support/global-setup.ts
 * (OAAT_TEST_CP_STATE reuses a running one, local mode only). The mode decides how the suites
 * run the operator (./operator-runner.ts):
 * - local (`make e2e-local`, the default): the operator's image is `OAAT_E2E_IMAGE` (an archive
 *   of `make image`) when set, else this checkout's, built by hack/image.sh into a temp dir;
 *   unpacked there into a root filesystem (`oaat-image unpack`, which checks every digest)
 *   that ./local-operator.ts runs the operator from, as the image's user (so the run
 *   needs root); the control plane is started by hack/control-plane.sh, with the
 *   OwnerReferencesPermissionEnforcement admission plugin on;
 * - kind (`make e2e`: hack/e2e.sh sets OAAT_E2E_KUBECONFIG and OAAT_E2E_KIND_IMAGE): the kind
 *   cluster of that kubeconfig, to which hack/control-plane.sh only adds KWOK and its node
 *   (CP_ATTACH_KUBECONFIG); the image is the one loaded into kind; no root needed.
 * Anything missing fails the run; nothing is skipped.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { helmBinary } from '../../hack/gen-manifests.ts';
import { STATE_ENV } from '../support/control-plane.ts';
import integrationSetup from '../support/global-setup.ts';
import { buildImage, publishImage, requiredEnv, unpackImage, WORK_DIR_ENV } from './image.ts';
import { KIND_IMAGE_ENV, KIND_KUBECONFIG_ENV, kindMode } from './operator-runner.ts';

export default function globalSetup(): void {
  if ((process.env.OAAT_TEST_TIER ?? 'T2') !== 'T2') throw new Error('the e2e project needs a T2 control plane (unset OAAT_TEST_TIER)');
  process.env.HELM = helmBinary();
  if (kindMode()) {
    if ((process.env[STATE_ENV] ?? '') !== '') throw new Error(`${KIND_KUBECONFIG_ENV} (kind mode) and ${STATE_ENV} (a running local control plane) exclude each other: unset one`);
    process.stderr.write(`\ne2e: kind mode, image ${requiredEnv(KIND_IMAGE_ENV)}, cluster of ${requiredEnv(KIND_KUBECONFIG_ENV)}\n`);
    process.env.CP_ATTACH_KUBECONFIG = process.env[KIND_KUBECONFIG_ENV];
    integrationSetup();
    return;
  }
  if (process.getuid?.() !== 0) throw new Error('the e2e project runs the operator from its unpacked image as the image\'s user (mount namespace, chroot): run it as root');
  const work = mkdtempSync(path.join(os.tmpdir(), 'oaat-e2e-'));
  process.env[WORK_DIR_ENV] = work;
  let archive = process.env.OAAT_E2E_IMAGE ?? '';
  if (archive === '') {
    archive = path.join(work, 'image.oci.tar');
    process.stderr.write(`\ne2e: building the image into ${archive} (hack/image.sh)\n`);
    buildImage(archive);
  }
  const image = unpackImage(path.resolve(archive), path.join(work, 'rootfs'));
  process.stderr.write(`e2e: image ${image.digest} unpacked into ${image.rootfs}\n`);
  publishImage(image, path.join(work, 'image.json'));
  // As OpenShift has it: setting blockOwnerDeletion on the item pods needs `update` on
  // oaatgroups/finalizers, which the chart's RBAC must grant. (hack/e2e.sh turns it on in kind.)
  process.env.CP_ADMISSION_PLUGINS = 'OwnerReferencesPermissionEnforcement';
  integrationSetup();
}
