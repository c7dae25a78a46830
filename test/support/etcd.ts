/**
 * Direct access to the control plane's etcd (its v3 JSON gateway), for faults no API call can
 * cause: compaction, which makes every older resourceVersion unusable for watches that reach
 * etcd (resources without a watch cache, such as Secrets here) and so forces 410 Gone.
 */
import type { ControlPlaneInfo } from './control-plane.ts';

async function post<T>(info: ControlPlaneInfo, path: string, body: unknown): Promise<T> {
  const response = await fetch(`${info.etcd}${path}`, { method: 'POST', body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`etcd ${path}: ${String(response.status)} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Compacts etcd's history up to its current revision; returns that revision. */
export async function compactEtcd(info: ControlPlaneInfo): Promise<number> {
  const range = await post<{ header: { revision: string } }>(info, '/v3/kv/range', { key: Buffer.from('/').toString('base64') });
  const revision = Number(range.header.revision);
  await post(info, '/v3/kv/compaction', { revision: String(revision), physical: true });
  return revision;
}
