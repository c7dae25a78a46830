/**
 * The operator process: settings from the command line and the environment, the cluster from
 * the kubeconfig (or the in-cluster service account), the container, and the manager run until
 * SIGTERM/SIGINT. Exit codes: 0 after a clean stop (or `--help`, `--version`), 1 when
 * leadership was lost, the caches never synced or stopping outlasted the shutdown timeout, 2
 * for unusable flags, settings or kubeconfig, 3 when the pre-flight check found the cluster
 * unfit (e.g. old CRDs).
 */
import { parseCommandLine } from './cli.ts';
import { ConfigError, formatGoDuration, loadConfig } from './config.ts';
import type { Container } from 'inversify';
import { buildContainer, resolve, TOKENS, type ControllerRegistration } from './container.ts';
import { KubeConfigError, loadCredentialSource } from './runtime/kubeconfig.ts';
import type { Logger } from './runtime/logger.ts';
import { VERSION } from './version.ts';

/**
 * Checks the cluster before anything starts; returns a problem that must stop the operator,
 * or undefined. Warnings go to the log.
 */
export type Preflight = (container: Container, logger: Logger) => Promise<string | undefined>;

/** Runs the operator with the command line `args` (flags, `--help`, `--version`); resolves with the exit code. */
export async function runOperator(register: ControllerRegistration, preflight?: Preflight, args: readonly string[] = []): Promise<number> {
  const commandLine = parseCommandLine(args, VERSION);
  if (!commandLine.run) {
    if (commandLine.stdout !== undefined) process.stdout.write(commandLine.stdout);
    if (commandLine.stderr !== undefined) process.stderr.write(commandLine.stderr);
    return commandLine.exitCode;
  }
  let config;
  try {
    config = loadConfig(process.env, commandLine.flags);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`oaat-operator: ${error.message}\n`);
    return 2;
  }
  let credentials;
  try {
    credentials = await loadCredentialSource({ env: process.env });
  } catch (error) {
    if (!(error instanceof KubeConfigError)) throw error;
    process.stderr.write(`oaat-operator: ${error.message}\n`);
    return 2;
  }
  const container = buildContainer(config, credentials, register);
  const logger = resolve(container, TOKENS.Logger);
  logger.info('starting', {
    version: VERSION,
    node: process.version,
    namespaces: config.namespaces.length > 0 ? config.namespaces : 'all',
    leaderElection: config.leaderElection.enabled,
    workers: config.workers,
  });
  const problem = await preflight?.(container, logger);
  if (problem !== undefined) {
    logger.error(`refusing to start: ${problem}`);
    return 3;
  }
  const manager = resolve(container, TOKENS.Manager);

  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.info('received signal; stopping', { signal });
    stop.abort();
    // If stopping hangs anyway, exit before the kubelet's SIGKILL would.
    setTimeout(() => {
      logger.error('stopping took too long; exiting', { after: formatGoDuration(config.shutdownTimeoutMs) });
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const outcome = await manager.run(stop.signal);
  return outcome === 'stopped' ? 0 : 1;
}
