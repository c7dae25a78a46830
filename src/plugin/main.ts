#!/usr/bin/env node
/**
 * `kubectl-oaat`, the kubectl plugin's executable (package.json `bin`): `kubectl oaat --help`.
 *
 * The Node version is checked before anything else is loaded, so an older Node prints what it
 * needs (for `--help` and every command) instead of failing on a newer language feature.
 */
const MINIMUM_NODE = [22, 19] as const;

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < MINIMUM_NODE[0] || (major === MINIMUM_NODE[0] && minor < MINIMUM_NODE[1])) {
  process.stderr.write(`kubectl-oaat needs Node >= ${MINIMUM_NODE.join('.')}; this is Node ${process.versions.node}.\n`);
  process.exit(1);
}

const { runPlugin } = await import('./commands.ts');
const { VERSION } = await import('../version.ts');
const code = await runPlugin(process.argv.slice(2), VERSION, {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  now: () => Date.now(),
});
// Idle pooled connections must not keep the process alive; exit once the output is written.
process.exitCode = code;
process.stdout.write('', () => process.exit(code));
