/**
 * What an operator may refuse to put in an item pod (the `--pod-restrictions` setting).
 *
 * Whoever may create an OaatType may run any pod spec through the operator's right to create
 * pods (README, Security). Pod Security Admission and policy engines are the place to limit
 * that; these restrictions are for clusters without them, or as a second line: the three
 * pod features that reach beyond the namespace's own workloads.
 *
 * - `serviceAccount`: a service account other than the namespace's `default`
 *   (`serviceAccountName`, or the deprecated `serviceAccount`), which may hold rights the
 *   OaatType's author does not;
 * - `hostNamespaces`: `hostNetwork`, `hostPID` or `hostIPC`;
 * - `hostPath`: a `hostPath` volume.
 *
 * A refused OaatType is reported like an invalid one: the group's Ready condition is False
 * (reason `OaatTypeRefused`) and no item starts.
 */
import type { OaatType } from '../api/v1/types.ts';
import type { Problem } from '../api/v1/validation.ts';

export const POD_RESTRICTIONS = ['serviceAccount', 'hostNamespaces', 'hostPath'] as const;
export type PodRestriction = (typeof POD_RESTRICTIONS)[number];

const PODSPEC = 'spec.podspec';

/**
 * Every feature of the OaatType's pod spec that `restrictions` refuse, with its path and which
 * restriction refuses it. Empty when nothing is refused, and for a pod spec that is not an
 * object (validateOaatType reports that).
 */
export function restrictionProblems(oaatType: OaatType, restrictions: ReadonlySet<PodRestriction>): Problem[] {
  const podspec: unknown = oaatType.spec?.podspec;
  if (restrictions.size === 0 || typeof podspec !== 'object' || podspec === null || Array.isArray(podspec)) return [];
  const spec = podspec as Record<string, unknown>;
  const problems: Problem[] = [];
  const refuse = (path: string, what: string, restriction: PodRestriction): void => {
    problems.push({ path: `${PODSPEC}.${path}`, message: `${what}: refused by this operator (pod restriction ${restriction})` });
  };
  if (restrictions.has('serviceAccount')) {
    for (const field of ['serviceAccountName', 'serviceAccount']) {
      const account = spec[field];
      if (account !== undefined && account !== null && account !== '' && account !== 'default') {
        refuse(field, `service account ${JSON.stringify(account)}, not the namespace's default`, 'serviceAccount');
      }
    }
  }
  if (restrictions.has('hostNamespaces')) {
    for (const field of ['hostNetwork', 'hostPID', 'hostIPC']) if (spec[field] === true) refuse(field, 'a host namespace', 'hostNamespaces');
  }
  if (restrictions.has('hostPath') && Array.isArray(spec.volumes)) {
    spec.volumes.forEach((volume: unknown, index) => {
      if (typeof volume === 'object' && volume !== null && (volume as Record<string, unknown>).hostPath != null) {
        refuse(`volumes[${String(index)}].hostPath`, 'a hostPath volume', 'hostPath');
      }
    });
  }
  return problems;
}
