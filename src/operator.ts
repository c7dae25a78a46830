/**
 * The operator process: settings from the environment, the cluster from the kubeconfig (or the
 * in-cluster service account), the container, and the manager run until SIGTERM/SIGINT.
 * Exit codes: 0 after a clean stop, 1 when leadership was lost or the caches never synced,
 * 2 for unusable settings or kubeconfig, 3 when the pre-flight check found the cluster unfit (e.g. old CRDs).
 */
import { ConfigError, loadConfig } from './config.ts';
import type { Container } from 'inversify';
import { buildContainer, resolve, TOKENS, type ControllerRegistration } from './container.ts';
import { KubeConfigError, loadCredentialSource } from './runtime/kubeconfig.ts';
import type { Logger } from './runtime/logger.ts';

/**
 * Checks the cluster before anything starts; returns a problem that must stop the operator,
 * or undefined. Warnings go to the log.
 */
export type Preflight = (container: Container, logger: Logger) => Promise<string | undefined>;

export async function runOperator(register: ControllerRegistration, preflight?: Preflight): Promise<number> {
  let config;
  try {
    config = loadConfig(process.env);
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
    // If shutdown hangs anyway, exit before the kubelet's SIGKILL would.
    setTimeout(() => process.exit(1), 35_000).unref();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  logger.info('starting', { namespaces: config.namespaces.length > 0 ? config.namespaces : 'all', leaderElection: config.leaderElection.enabled });
  const outcome = await manager.run(stop.signal);
  return outcome === 'stopped' ? 0 : 1;
}
