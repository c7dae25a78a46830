/**
 * Where a V8 CPU profile (`.cpuprofile`, as `node --cpu-prof` writes it on exit) spent its
 * time, by function (name and file:line), largest first, as a share of the samples that were
 * not idle: self time (the function itself) and total time (the function and what it called;
 * a sample counts once per function on its stack). Program, idle and garbage collector appear
 * under V8's own names (`(program)`, `(idle)`, `(garbage collector)`).
 *
 * Run on its own: node --experimental-transform-types bench/operator/cpu-profile-summary.ts FILE [TOP]
 */
import { copyFileSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  startTime: number;
  endTime: number;
}

export interface CpuFrame {
  frame: string;
  /** Share of the busy samples. */
  percent: number;
}

export interface CpuProfileSummary {
  seconds: number;
  busyPercent: number;
  /** By self time. */
  frames: CpuFrame[];
  /** By total time, the process's roots and V8's own entries left out (they hold everything). */
  totals: CpuFrame[];
}

const frameKey = ({ functionName, url, lineNumber }: ProfileNode['callFrame']): string =>
  `${functionName === '' ? '(anonymous)' : functionName}${url === '' ? '' : ` ${path.basename(url)}:${String(lineNumber + 1)}`}`;

/** The `top` frames by self and by total time of the profile in `file`, and how busy the process was. */
export function summarizeCpuProfile(file: string, top = 15): CpuProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let busy = 0;
  for (const id of profile.samples) {
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined || frame.functionName === '(idle)') continue;
    busy++;
    const key = frameKey(frame);
    self.set(key, (self.get(key) ?? 0) + 1);
    const onStack = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const node = byId.get(at);
      if (node !== undefined) onStack.add(frameKey(node.callFrame));
    }
    for (const name of onStack) total.set(name, (total.get(name) ?? 0) + 1);
  }
  const percent = (count: number, of: number): number => Number(((100 * count) / Math.max(1, of)).toFixed(1));
  const ranked = (counts: Map<string, number>): CpuFrame[] =>
    [...counts]
      .sort(([, a], [, b]) => b - a)
      .slice(0, top)
      .map(([frame, count]) => ({ frame, percent: percent(count, busy) }));
  for (const root of ['(root)', '(program)', '(garbage collector)']) total.delete(root);
  return {
    seconds: Number(((profile.endTime - profile.startTime) / 1e6).toFixed(1)),
    busyPercent: percent(busy, profile.samples.length),
    frames: ranked(self),
    totals: ranked(total),
  };
}

/**
 * Summarizes the profile `node --cpu-prof` wrote into `dir` (which the benchmark removes), after
 * copying it to the temporary directory for a closer look (e.g. in Chrome's DevTools): its path
 * is `file`.
 */
export function keepCpuProfile(dir: string): CpuProfileSummary & { file: string } {
  const written = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (written === undefined) throw new Error(`no .cpuprofile in ${dir}`);
  const file = path.join(os.tmpdir(), `oaat-operator-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
  copyFileSync(path.join(dir, written), file);
  return { file, ...summarizeCpuProfile(file) };
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  console.log(JSON.stringify(summarizeCpuProfile(process.argv[2] ?? '', Number(process.argv[3] ?? 15)), null, 2));
}
