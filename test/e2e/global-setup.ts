/**
 * Jest global setup of the `e2e` project:
 * - helm (`HELM`, built by hack/tools.sh when needed);
 * - the operator's image: `OAAT_E2E_IMAGE` (an archive of `make image`) when set, else this
 *   checkout's, built by hack/image.sh into a temp dir; unpacked there into a root filesystem
 *   (`oaat-image unpack`, which checks every digest) that {@link ChartOperator} runs the
 *   operator from, as the image's user (so the run needs root);
 * - a T2 control plane, as the integration project gets one (OAAT_TEST_CP_STATE reuses one),
 *   with the OwnerReferencesPermissionEnforcement admission plugin on.
 * Anything missing fails the run; nothing is skipped.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { helmBinary } from '../../hack/gen-manifests.ts';
import integrationSetup from '../support/global-setup.ts';
import { buildImage, publishImage, unpackImage, WORK_DIR_ENV } from './image.ts';

export default function globalSetup(): void {
  if (process.getuid?.() !== 0) throw new Error('the e2e project runs the operator from its unpacked image as the image\'s user (mount namespace, chroot): run it as root');
  if ((process.env.OAAT_TEST_TIER ?? 'T2') !== 'T2') throw new Error('the e2e project needs a T2 control plane (unset OAAT_TEST_TIER)');
  process.env.HELM = helmBinary();
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
  // oaatgroups/finalizers, which the chart's RBAC must grant.
  process.env.CP_ADMISSION_PLUGINS = 'OwnerReferencesPermissionEnforcement';
  integrationSetup();
}
