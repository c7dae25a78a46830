/**
 * `make sim`: runs seeded episodes of the deterministic simulation and reports.
 *
 *   SEEDS=2000 (episodes, default 2000)  FIRST=1 (first seed)  SEED=n (one episode, with its trace)
 *
 * Prints episodes per second, violations with their seeds and short traces, and the coverage
 * table (fault kind x protocol step reached after it). Checks determinism first: the first 20
 * seeds run twice must give the same trace hashes. Exits 1 on any violation, on a
 * non-deterministic seed, or when a coverage cell was never reached in a run of 2,000 or more.
 */
import { FAULT_KINDS, runEpisode, type EpisodeResult, type FaultKind } from './episode.ts';
import { PROTOCOL_STEPS, type ProtocolStep } from './oracle.ts';

const env = process.env;
const single = env.SEED === undefined || env.SEED === '' ? undefined : Number(env.SEED);
const seeds = Number(env.SEEDS ?? 2000);
const first = Number(env.FIRST ?? 1);

function report(result: EpisodeResult): void {
  console.log(`seed ${String(result.seed)} (${result.mode}; faults ${result.faults.join(', ')}): ${String(result.violations.length)} violation(s)`);
  for (const violation of result.violations) console.log(`  ${violation}`);
  console.log(`  replay: make sim SEED=${String(result.seed)}`);
}

if (single !== undefined) {
  const result = await runEpisode(single, { keepLines: Number(env.TRACE_LINES ?? 400) });
  for (const line of result.trace) console.log(line);
  console.log(`\nsteps ${String(result.steps)}, virtual ${String(Math.round(result.virtualMs / 1000))} s, hash ${result.hash}`);
  report(result);
  process.exit(result.violations.length > 0 ? 1 : 0);
}

let failed = false;
for (let seed = first; seed < first + Math.min(20, seeds); seed++) {
  const [a, b] = [await runEpisode(seed), await runEpisode(seed)];
  if (a.hash !== b.hash) {
    console.log(`NOT DETERMINISTIC: seed ${String(seed)} gave trace hashes ${a.hash} and ${b.hash}`);
    failed = true;
  }
}

const coverage = new Map<FaultKind, Map<ProtocolStep, number>>(FAULT_KINDS.map((kind) => [kind, new Map()]));
const started = performance.now();
let violated = 0;
let steps = 0;
for (let seed = first; seed < first + seeds; seed++) {
  const result = await runEpisode(seed);
  steps += result.steps;
  for (const [kind, reached] of result.coverage) {
    const row = coverage.get(kind);
    for (const step of reached) row?.set(step, (row.get(step) ?? 0) + 1);
  }
  if (result.violations.length > 0) {
    violated++;
    if (violated <= 10) report(result);
  }
}
const seconds = (performance.now() - started) / 1000;
console.log(`\n${String(seeds)} episodes, ${seconds.toFixed(1)} s (${(seeds / seconds).toFixed(1)} episodes/s, ${String(Math.round(steps / seeds))} steps each on average)`);

const short = (step: string): string => step.replace('close:', '');
console.log(`\ncoverage: episodes with the fault in which the step was reached\n${'fault'.padEnd(18)}${PROTOCOL_STEPS.map((s) => short(s).padStart(13)).join('')}`);
let missing = 0;
for (const [kind, row] of coverage) {
  console.log(`${kind.padEnd(18)}${PROTOCOL_STEPS.map((step) => String(row.get(step) ?? 0).padStart(13)).join('')}`);
  missing += PROTOCOL_STEPS.filter((step) => (row.get(step) ?? 0) === 0).length;
}
if (missing > 0 && seeds >= 2000) {
  console.log(`${String(missing)} coverage cell(s) never reached`);
  failed = true;
}
console.log(`\nsim: ${String(seeds)} episodes, ${String(violated)} with violations`);
process.exit(failed || violated > 0 ? 1 : 0);
