/**
 * Without faults the operator sends no request the API server refuses: no status write against
 * a version it already replaced (409), no delete of a pod it already deleted (404), no create of
 * a pod that exists (409 AlreadyExists). Each would be a request wasted, and a reconcile that
 * ran on a view older than the operator's own writes. Random workloads, one replica, watches
 * that lag 1-40 ms as the simulation's do.
 */
import { runEpisode, type RequestRecord } from '../../sim/episode.ts';

const SEEDS = Array.from({ length: 30 }, (_, i) => i + 1);

it('sends no request answered 404 or 409 in episodes without faults', async () => {
  const refused: string[] = [];
  let sent = 0;
  for (const seed of SEEDS) {
    const { requests } = await runEpisode(seed, { faults: [], mode: 'single' });
    sent += requests.length;
    const describe = (r: RequestRecord): string => `seed ${String(seed)} at ${String(r.at)} ms: ${r.verb} ${r.group} -> ${String(r.status)}`;
    refused.push(...requests.filter((r) => r.status === 404 || r.status === 409).map(describe));
  }
  expect(sent).toBeGreaterThan(1_000);
  expect(refused).toEqual([]);
});
