// Server-side applies every YAML document of the given files (or directories) to the cluster of
// the current kubeconfig, as field manager `oaat-operator-setup`, namespaced objects without a
// namespace into NAMESPACE (default `default`). Used by `make run`, so it needs no kubectl.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig, KubernetesObjectApi, loadAllYaml, PatchStrategy } from '@kubernetes/client-node';

const namespace = process.env.NAMESPACE ?? 'default';
const files = process.argv.slice(2).flatMap((arg) =>
  statSync(arg).isDirectory()
    ? readdirSync(arg).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => path.join(arg, f))
    : [arg],
);
const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();
const api = KubernetesObjectApi.makeApiClient(kubeConfig);
for (const file of files) {
  for (const object of loadAllYaml(readFileSync(file, 'utf8')).filter(Boolean)) {
    const namespaced = !['CustomResourceDefinition', 'Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(object.kind);
    if (namespaced) object.metadata.namespace ??= namespace;
    await api.patch(object, undefined, undefined, 'oaat-operator-setup', true, PatchStrategy.ServerSideApply);
    console.log(`applied ${object.kind} ${namespaced ? `${object.metadata.namespace}/` : ''}${object.metadata.name}`);
    if (object.kind === 'CustomResourceDefinition') {
      for (let i = 0; i < 100; i++) {
        const crd = await api.read(object);
        if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
        await sleep(100);
      }
    }
  }
}
