/**
 * Jest global setup of the `chart` project: resolves helm and actionlint once (building them
 * with `hack/tools.sh helm-path` / `actionlint-path` when needed; a cold helm build takes
 * minutes) and publishes them as `HELM` and `ACTIONLINT`. Fails the run, never skips, when one
 * cannot be had.
 */
import { toolPath } from '../../hack/tool-path.ts';

export default function globalSetup(): void {
  process.env.HELM = toolPath('helm');
  process.env.ACTIONLINT = toolPath('actionlint');
}
