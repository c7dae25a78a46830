/**
 * The liveness cost of the run protocol v2, measured in the deterministic simulation with
 * production timers (createGrace 60 s, client request timeout 30 s, kube-apiserver request
 * timeout 60 s): the operator process dies right after its claim is written, before it could
 * create the pod, and restarts after a random 0.5-20 s. How long until the group runs a pod
 * again? (The restarted process is another process: it never creates the pod of a claim it
 * finds, and gives the run up only once no create can still commit.)
 *
 * Run: npm run bench:liveness (BENCH_EPISODES overrides 200). Virtual time: the figures do not
 * depend on the machine.
 */
import type { OaatGroup } from '../../src/api/v1/types.ts';
import { runEpisode } from '../../test/sim/episode.ts';

const EPISODES = Number(process.env.BENCH_EPISODES ?? 200);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

const gaps: number[] = [];
let violations = 0;
for (let seed = 1; seed <= EPISODES; seed++) {
  let crashedAt: number | undefined;
  let recoveredAt: number | undefined;
  const result = await runEpisode(seed, {
    faults: [],
    mode: 'single',
    workload: [{ name: 'g', items: ['a', 'b', 'c'] }],
    kubelet: { neverStarts: 0, succeeds: 1, runMs: [20_000, 20_000] },
    durationMs: 15 * 60_000,
    script: (world) => {
      world.server.watch((change) => {
        const group = change.object as OaatGroup;
        if (crashedAt === undefined && change.kind === 'OaatGroup' && group.status?.currentRun && (group.status.runSeq ?? 0) >= 2) {
          // The second claim (the first hand-over) is written: the claimer dies before its create.
          crashedAt = world.loop.now();
          world.replicas[0]?.crash();
        } else if (crashedAt !== undefined && recoveredAt === undefined && change.kind === 'Pod' && change.type === 'ADDED') {
          recoveredAt = world.loop.now();
        }
      });
    },
  });
  violations += result.violations.length;
  if (crashedAt !== undefined && recoveredAt !== undefined) gaps.push((recoveredAt - crashedAt) / 1000);
}
console.log(JSON.stringify({
  episodes: EPISODES,
  measured: gaps.length,
  violations,
  crashBetweenClaimAndCreateToNextPodSeconds: { p50: percentile(gaps, 0.5), p90: percentile(gaps, 0.9), max: Math.max(...gaps), min: Math.min(...gaps) },
}, null, 2));
