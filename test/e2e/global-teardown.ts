/** Jest global teardown of the `e2e` project: the control plane (when it started one) and the app dir it assembled. */
import { rmSync } from 'node:fs';
import path from 'node:path';
import integrationTeardown from '../support/global-teardown.ts';
import { OWNED_APP_DIR_ENV } from './global-setup.ts';

export default function globalTeardown(): void {
  integrationTeardown();
  const dir = process.env.OAAT_E2E_APP_DIR;
  if (process.env[OWNED_APP_DIR_ENV] === '1' && dir !== undefined) rmSync(path.dirname(dir), { recursive: true, force: true });
}
