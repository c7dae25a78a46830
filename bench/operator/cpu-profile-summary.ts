/**
 * Where a V8 CPU profile (`.cpuprofile`, as `node --cpu-prof` writes it on exit) spent its
 * time: self time by function (name and file:line), largest first, as a share of the samples
 * that were not idle. Program, idle and garbage collector appear under V8's own names
 * (`(program)`, `(idle)`, `(garbage collector)`).
 *
 * Run on its own: node --experimental-transform-types bench/operator/cpu-profile-summary.ts FILE [TOP]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  startTime: number;
  endTime: number;
}

export interface CpuFrame {
  frame: string;
  selfPercent: number;
}

/** The `top` frames by self time of the profile in `file`, and how busy the process was. */
export function summarizeCpuProfile(file: string, top = 15): { seconds: number; busyPercent: number; frames: CpuFrame[] } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const hits = new Map<string, number>();
  let busy = 0;
  for (const id of profile.samples) {
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined || frame.functionName === '(idle)') continue;
    busy++;
    const where = frame.url === '' ? '' : ` ${path.basename(frame.url)}:${String(frame.lineNumber + 1)}`;
    const key = `${frame.functionName === '' ? '(anonymous)' : frame.functionName}${where}`;
    hits.set(key, (hits.get(key) ?? 0) + 1);
  }
  const percent = (count: number, of: number): number => Number(((100 * count) / Math.max(1, of)).toFixed(1));
  return {
    seconds: Number(((profile.endTime - profile.startTime) / 1e6).toFixed(1)),
    busyPercent: percent(busy, profile.samples.length),
    frames: [...hits]
      .sort(([, a], [, b]) => b - a)
      .slice(0, top)
      .map(([frame, count]) => ({ frame, selfPercent: percent(count, busy) })),
  };
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  console.log(JSON.stringify(summarizeCpuProfile(process.argv[2] ?? '', Number(process.argv[3] ?? 15)), null, 2));
}
