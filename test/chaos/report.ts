/**
 * `npm run chaos:report [results.jsonl ...]`: the figures of chaos runs, as Markdown for
 * docs/reliability.md: episodes and the commits they ran on, the trailing run of consecutive
 * episodes without a violation, faults by kind, pods, violations and recovery times.
 */
import { readFileSync } from 'node:fs';
import type { EpisodeResult } from './episode.ts';

type Row = EpisodeResult & { commit?: string; finishedAt?: string };

const files = process.argv.slice(2);
if (files.length === 0) throw new Error('usage: npm run chaos:report -- RESULTS.jsonl [...]');
const rows: Row[] = files.flatMap((file) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Row),
);
rows.sort((a, b) => (a.finishedAt ?? '').localeCompare(b.finishedAt ?? ''));

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
};
const seconds = (ms: number): string => (ms / 1000).toFixed(1);

let trailing = 0;
for (let i = rows.length - 1; i >= 0 && (rows[i]?.violations.length ?? 1) === 0; i--) trailing++;
const commits = new Map<string, number>();
for (const row of rows) commits.set(row.commit ?? 'unknown', (commits.get(row.commit ?? 'unknown') ?? 0) + 1);
const byProfile = new Map<string, number>();
for (const row of rows) byProfile.set(row.profile, (byProfile.get(row.profile) ?? 0) + 1);

console.log(`| | |\n|---|---|`);
console.log(`| episodes | ${String(rows.length)} (${[...byProfile].map(([p, n]) => `${String(n)} ${p}`).join(', ')}) |`);
console.log(`| commits | ${[...commits].map(([c, n]) => `${c} (${String(n)})`).join(', ')} |`);
console.log(`| from / to | ${rows[0]?.finishedAt ?? '-'} / ${rows.at(-1)?.finishedAt ?? '-'} |`);
console.log(`| with violations | ${String(rows.filter((r) => r.violations.length > 0).length)} |`);
console.log(`| trailing consecutive episodes without a violation | ${String(trailing)} |`);
console.log(`| item pods created by the operator | ${String(rows.reduce((sum, r) => sum + r.podsCreated, 0))} |`);
console.log(`| episodes with 2 replicas | ${String(rows.filter((r) => r.replicas === 2).length)} |`);
console.log(`| peak operator request rate (req/s over 10 s) | ${String(Math.max(...rows.map((r) => r.peakRate)))} |`);

const kinds = new Map<string, number>();
for (const row of rows) for (const fault of row.faults.split(', ')) kinds.set(fault.split('@')[0] ?? '', (kinds.get(fault.split('@')[0] ?? '') ?? 0) + 1);
console.log(`\n| fault | injected |\n|---|---|`);
for (const [kind, count] of [...kinds].sort((a, b) => b[1] - a[1])) console.log(`| ${kind} | ${String(count)} |`);

const recoveries = new Map<string, { leader: number[]; write: number[]; pod: number[] }>();
for (const row of rows) {
  for (const r of row.recoveries) {
    const key = `${r.fault}, ${String(r.replicas)} replica(s), ${row.profile}`;
    const entry = recoveries.get(key) ?? { leader: [], write: [], pod: [] };
    recoveries.set(key, entry);
    if (r.leaderMs !== null) entry.leader.push(r.leaderMs);
    if (r.firstWriteMs !== null) entry.write.push(r.firstWriteMs);
    if (r.nextPodMs !== null) entry.pod.push(r.nextPodMs);
  }
}
const spread = (values: number[]): string =>
  values.length === 0 ? '-' : `${seconds(percentile(values, 0.5))} / ${seconds(percentile(values, 0.9))} / ${seconds(Math.max(...values))}`;
console.log(`\n| from the fault to (p50 / p90 / max, s) | faults | a replica leads | its first run write | the next item pod |\n|---|---|---|---|---|`);
for (const [key, { leader, write, pod }] of [...recoveries].sort()) {
  console.log(`| ${key} | ${String(Math.max(leader.length, write.length, pod.length))} | ${spread(leader)} | ${spread(write)} | ${spread(pod)} |`);
}
const violated = rows.filter((r) => r.violations.length > 0);
if (violated.length > 0) {
  console.log('\nViolations:');
  for (const row of violated) for (const v of row.violations) console.log(`- seed ${String(row.seed)} (${row.commit ?? '?'}): ${v.split('\n')[0] ?? ''}`);
}
