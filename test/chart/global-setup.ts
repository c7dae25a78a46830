/**
 * Jest global setup of the `chart` project: resolves helm, actionlint and promtool once
 * (building them with `hack/tools.sh helm-path` / `actionlint-path` / `promtool-path` when
 * needed; a cold helm or promtool build takes minutes) and publishes them as `HELM`,
 * `ACTIONLINT` and `PROMTOOL`. Fails the run, never skips, when one
 * cannot be had.
 */
import { toolPath } from '../../hack/tool-path.ts';

export default function globalSetup(): void {
  process.env.HELM = toolPath('helm');
  process.env.ACTIONLINT = toolPath('actionlint');
  process.env.PROMTOOL = toolPath('promtool');
}
