/** Resource types the runtime tests and benchmarks use as plain, built-in subjects. */
import type { ResourceType } from '../../src/runtime/client.ts';

export const CONFIGMAPS: ResourceType = { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true };
