/** Jest global teardown: stops the control plane global-setup.ts started (never a reused one). */
import { STATE_ENV, stopControlPlane } from './control-plane.ts';
import { OWNED_ENV } from './global-setup.ts';

export default function globalTeardown(): void {
  const stateDir = process.env[STATE_ENV];
  if (process.env[OWNED_ENV] !== '1' || stateDir === undefined) return;
  stopControlPlane(stateDir);
  Reflect.deleteProperty(process.env, STATE_ENV);
  Reflect.deleteProperty(process.env, OWNED_ENV);
}
