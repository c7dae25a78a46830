/** Jest global teardown of the `e2e` project: the control plane (when it started one) and the setup's temp dir (image, root filesystem, ServiceAccount volumes). */
import { rmSync } from 'node:fs';
import integrationTeardown from '../support/global-teardown.ts';
import { WORK_DIR_ENV } from './image.ts';

export default function globalTeardown(): void {
  integrationTeardown();
  const dir = process.env[WORK_DIR_ENV];
  if (dir !== undefined && dir !== '') rmSync(dir, { recursive: true, force: true });
}
