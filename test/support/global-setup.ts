/**
 * Jest global setup of the integration project: one control plane per test run.
 *
 * The tier comes from OAAT_TEST_TIER (default T2, everything). When OAAT_TEST_CP_STATE already
 * names a running control plane (`hack/control-plane.sh start` by hand), it is reused and left
 * running. Otherwise one is started in a fresh state directory, tied to this process: it is
 * stopped by global-teardown.ts, and by the control plane's own reaper if this run is killed.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isTier, readControlPlane, startControlPlane, STATE_ENV } from './control-plane.ts';

export const OWNED_ENV = 'OAAT_TEST_CP_OWNED';

export default function globalSetup(): void {
  const existing = process.env[STATE_ENV];
  if (existing !== undefined && existing !== '') {
    const info = readControlPlane(existing);
    process.stderr.write(`\nintegration: using the running ${info.tier} control plane in ${existing}\n`);
    return;
  }
  const tier = process.env.OAAT_TEST_TIER ?? 'T2';
  if (!isTier(tier)) throw new Error(`OAAT_TEST_TIER=${tier}: use T0, T1 or T2`);
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'oaat-test-cp-'));
  process.stderr.write(`\nintegration: starting a ${tier} control plane in ${stateDir}\n`);
  startControlPlane({ stateDir, tier, ownerPid: process.pid, audit: process.env.OAAT_TEST_AUDIT === '1' });
  process.env[STATE_ENV] = stateDir;
  process.env[OWNED_ENV] = '1';
}
