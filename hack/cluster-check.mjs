// Prints the API server and version of the cluster the kubeconfig names, and exits 0 when it
// answers within 5 s; exits 3 when no kubeconfig is configured, 1 when the cluster does not
// answer (the reason on stderr). Used by hack/run.sh.
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout } from 'node:timers';
import { KubeConfig, VersionApi } from '@kubernetes/client-node';

const configured = (process.env.KUBECONFIG ?? '') !== '' || existsSync(path.join(os.homedir(), '.kube', 'config'));
if (!configured) {
  console.error('no kubeconfig: KUBECONFIG is unset and ~/.kube/config does not exist');
  process.exit(3);
}
const kubeConfig = new KubeConfig();
try {
  kubeConfig.loadFromDefault();
} catch (error) {
  console.error(`the kubeconfig cannot be read: ${error.message}`);
  process.exit(1);
}
const server = kubeConfig.getCurrentCluster()?.server ?? '(no current cluster)';
try {
  const version = await Promise.race([
    kubeConfig.makeApiClient(VersionApi).getCode(),
    new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 5 s')), 5_000).unref()),
  ]);
  console.log(`${server} (Kubernetes ${version.gitVersion}, context ${kubeConfig.getCurrentContext()})`);
} catch (error) {
  console.error(`the cluster of context ${kubeConfig.getCurrentContext()} at ${server} does not answer: ${error.message}`);
  process.exit(1);
}
