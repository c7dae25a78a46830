/** Where the objects the controllers read and write live in the API. */
import type { ResourceType } from '../runtime/client.ts';
import { API_VERSION } from '../api/v1/types.ts';

export const OAATGROUPS: ResourceType = { apiVersion: API_VERSION, kind: 'OaatGroup', plural: 'oaatgroups', namespaced: true };
export const OAATTYPES: ResourceType = { apiVersion: API_VERSION, kind: 'OaatType', plural: 'oaattypes', namespaced: true };
export const PODS: ResourceType = { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true };
export const CONFIGMAPS: ResourceType = { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true };
