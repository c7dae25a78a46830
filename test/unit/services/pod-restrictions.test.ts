import type { OaatType } from '../../../src/api/v1/types.ts';
import { POD_RESTRICTIONS, type PodRestriction, restrictionProblems } from '../../../src/services/pod-restrictions.ts';

const CONTAINER = { name: 'c', image: 'busybox' };

function typeWith(podspec: unknown): OaatType {
  return { apiVersion: 'kawaja.net/v1', kind: 'OaatType', metadata: { name: 't' }, spec: { type: 'pod', podspec: podspec as Record<string, unknown> } };
}

const refused = (podspec: unknown, ...restrictions: PodRestriction[]): string[] =>
  restrictionProblems(typeWith(podspec), new Set(restrictions)).map((p) => `${p.path}: ${p.message}`);

describe('restrictionProblems', () => {
  it.each<[string, Record<string, unknown>, PodRestriction, string[]]>([
    ['a named service account', { serviceAccountName: 'deployer' }, 'serviceAccount', ['serviceAccountName']],
    ['the deprecated serviceAccount field', { serviceAccount: 'deployer' }, 'serviceAccount', ['serviceAccount']],
    ['both service account fields', { serviceAccountName: 'a', serviceAccount: 'a' }, 'serviceAccount', ['serviceAccountName', 'serviceAccount']],
    ['host network, PID and IPC', { hostNetwork: true, hostPID: true, hostIPC: true }, 'hostNamespaces', ['hostNetwork', 'hostPID', 'hostIPC']],
    ['hostPath volumes among others', { volumes: [{ name: 'a', emptyDir: {} }, { name: 'b', hostPath: { path: '/' } }, { name: 'c', hostPath: { path: '/etc' } }] }, 'hostPath', ['volumes[1].hostPath', 'volumes[2].hostPath']],
  ])('refuses %s, each where it is, under its restriction only', (_what, spec, restriction, paths) => {
    const podspec = { ...spec, container: CONTAINER };
    expect(refused(podspec, restriction).map((line) => line.split(': ')[0])).toEqual(paths.map((path) => `spec.podspec.${path}`));
    expect(refused(podspec, restriction).every((line) => line.endsWith(`refused by this operator (pod restriction ${restriction})`))).toBe(true);
    expect(refused(podspec, ...POD_RESTRICTIONS.filter((r) => r !== restriction))).toEqual([]);
    expect(refused(podspec)).toEqual([]);
  });

  it('lets through what stays inside the namespace: the default service account, host namespaces off, other volumes', () => {
    const podspec = {
      serviceAccountName: 'default',
      serviceAccount: '',
      hostNetwork: false,
      hostPID: false,
      volumes: [{ name: 'a', emptyDir: {} }, { name: 'b', configMap: { name: 'x' } }],
      container: CONTAINER,
    };
    expect(refused(podspec, ...POD_RESTRICTIONS)).toEqual([]);
  });

  it('says nothing of a pod spec that is not an object (validateOaatType reports it)', () => {
    for (const podspec of [undefined, null, 'x', [1]]) expect(refused(podspec, ...POD_RESTRICTIONS)).toEqual([]);
  });
});
