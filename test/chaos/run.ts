/**
 * `make chaos`: randomized fault episodes against the built operator on a real control plane.
 *
 * Settings (environment):
 *   PROFILE=short|production  timing profile (profiles.ts; default short)
 *   EPISODES=n                how many episodes (default 20); seeds FIRST, FIRST+1, ...
 *   FIRST=n                   the first seed (default 1)
 *   SEED=n                    one episode of seed n (EPISODES=1 FIRST=n)
 *   SEEDS=a,b,c               exactly these seeds (CI's fixed slice)
 *   RESULTS=file              JSON lines, one per episode (default .chaos/results-<profile>.jsonl)
 *   RESUME=1                  skip the seeds already in RESULTS and go on
 *   LIVENESS_FACTOR=x         liveness bounds ×x (default 1; CI uses 3)
 *   ARTIFACTS=dir             where violated episodes keep plan, audit slice and logs (.chaos/artifacts)
 *   OPERATOR_MAIN=file        run this build of the operator instead of dist/main.js
 * Exits 1 when any episode found a violation, printing its seed and fault schedule.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../support/control-plane.ts';
import { Episode, type EpisodeResult } from './episode.ts';
import { planEpisode } from './plan.ts';
import { PROFILES, type ProfileName } from './profiles.ts';
import { ChaosCluster, OPERATOR_MAIN } from './world.ts';

/** An environment setting; empty counts as unset (make passes empty variables). */
const setting = (name: string): string | undefined => (process.env[name] === '' ? undefined : process.env[name]);
const profileName = setting('PROFILE') ?? 'short';
if (!(profileName in PROFILES)) throw new Error(`PROFILE=${profileName}: use short or production`);
const profile = PROFILES[profileName as ProfileName];
const seeds: number[] =
  setting('SEEDS')?.split(',').map(Number) ??
  (setting('SEED') === undefined
    ? Array.from({ length: Number(setting('EPISODES') ?? 20) }, (_, i) => Number(setting('FIRST') ?? 1) + i)
    : [Number(setting('SEED'))]);
if (seeds.length === 0 || seeds.some((seed) => !Number.isSafeInteger(seed) || seed < 0)) throw new Error('SEED, SEEDS, FIRST and EPISODES take whole numbers');
const results = path.resolve(REPO_ROOT, setting('RESULTS') ?? `.chaos/results-${profileName}.jsonl`);
const artifactsDir = path.resolve(REPO_ROOT, setting('ARTIFACTS') ?? '.chaos/artifacts');
const livenessFactor = Number(setting('LIVENESS_FACTOR') ?? 1);
mkdirSync(path.dirname(results), { recursive: true });

const done = new Set<number>();
if (setting('RESUME') === '1' && existsSync(results)) {
  for (const line of readFileSync(results, 'utf8').split('\n')) if (line !== '') done.add((JSON.parse(line) as EpisodeResult).seed);
}
if (!existsSync(OPERATOR_MAIN)) throw new Error(`${OPERATOR_MAIN} is missing: run npm run build first (make chaos does)`);

/** The commit the episodes ran on (`-dirty` with uncommitted changes): figures are of a commit. */
const git = (...args: string[]): string => execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
const commit = `${git('rev-parse', '--short=12', 'HEAD')}${git('status', '--porcelain', '--untracked-files=no') === '' ? '' : '-dirty'}`;

const stateDir = mkdtempSync(path.join(os.tmpdir(), 'oaat-chaos-'));
console.log(`chaos: profile ${profile.name}, ${String(seeds.length)} seed(s) from ${String(seeds[0])}, results ${results}`);
const world = await ChaosCluster.start(stateDir, profile);
let violated = 0;
let ran = 0;
const started = Date.now();
try {
  for (const seed of seeds) {
    if (done.has(seed)) continue;
    const plan = planEpisode(seed, profile);
    const result = await new Episode(world, plan, profile, { livenessFactor, artifactsDir, maxRequestRate: 20 * plan.replicas }).run();
    appendFileSync(results, `${JSON.stringify({ ...result, commit, finishedAt: new Date().toISOString() })}\n`);
    ran++;
    const verdict = result.violations.length === 0 ? 'ok' : `${String(result.violations.length)} VIOLATION(S)`;
    console.log(`seed ${String(seed)} (${String(plan.replicas)} replica(s); ${result.faults}): ${verdict}, ${String(result.podsCreated)} pods, ${(result.durationMs / 1000).toFixed(0)} s`);
    if (result.violations.length > 0) {
      violated++;
      for (const violation of result.violations) console.log(`  ${violation}`);
      for (const note of result.notes) console.log(`  | ${note}`);
      console.log(`  artifacts: ${result.artifacts ?? '-'}; replay: make chaos SEED=${String(seed)} PROFILE=${profile.name}`);
    }
  }
} finally {
  world.stop(violated > 0);
}
console.log(`\nchaos: ${String(ran)} episodes, ${String(violated)} with violations (${((Date.now() - started) / 1000).toFixed(0)} s)`);
process.exit(violated > 0 ? 1 : 0);
