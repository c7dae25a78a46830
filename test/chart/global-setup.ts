/**
 * Jest global setup of the `chart` and `e2e` projects: resolves the helm binary once (building
 * it with `hack/tools.sh helm-path` when needed; a cold build takes minutes) and publishes it
 * as `HELM`. Fails the run, never skips, when helm cannot be had.
 */
import { helmBinary } from '../../hack/gen-manifests.ts';

export default function globalSetup(): void {
  process.env.HELM = helmBinary();
}
