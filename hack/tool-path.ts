/**
 * The binaries of tools hack/tools.sh builds from the Go module proxy, for scripts and tests:
 * `$HELM` / `$ACTIONLINT` / `$PROMTOOL` when set, else the one `hack/tools.sh <tool>-path` builds (slow once,
 * then instant).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** A tool hack/tools.sh builds on request, by the name of its `<tool>-path` target. */
export type BuiltTool = 'helm' | 'actionlint' | 'promtool';

/** The tool's binary: the environment variable named after it in capitals when set, else hack/tools.sh's. Throws with the reason when neither gives one. */
export function toolPath(tool: BuiltTool, root: string = fileURLToPath(new URL('..', import.meta.url))): string {
  const variable = tool.toUpperCase();
  const fromEnv = process.env[variable];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  try {
    return execFileSync(path.join(root, 'hack', 'tools.sh'), [`${tool}-path`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  } catch (error) {
    throw new Error(`no ${tool}: set ${variable} or fix 'hack/tools.sh ${tool}-path' (${(error as Error).message})`, { cause: error });
  }
}
