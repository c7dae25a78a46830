/**
 * What a V8 heap snapshot (`.heapsnapshot`, as `--heapsnapshot-signal` writes it) is made of:
 * the self size and count of its objects grouped by kind and constructor (strings by kind
 * only), largest first. Self sizes, not retained sizes: enough to see whether cached objects,
 * strings or arrays dominate.
 *
 * Run on its own: node --experimental-transform-types bench/operator/heap-summary.ts FILE [TOP]
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export interface HeapGroup {
  what: string;
  count: number;
  selfMiB: number;
}

/** The `top` largest groups of the snapshot in `file`, and its total self size. */
export function summarizeHeap(file: string, top = 15): { totalMiB: number; groups: HeapGroup[] } {
  const snapshot = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = [fields.indexOf('type'), fields.indexOf('name'), fields.indexOf('self_size')];
  const groups = new Map<string, { count: number; size: number }>();
  let total = 0;
  for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
    const type = types[snapshot.nodes[i + typeAt] ?? 0] ?? '?';
    const size = snapshot.nodes[i + sizeAt] ?? 0;
    const name = type === 'object' || type === 'closure' || type === 'native' ? (snapshot.strings[snapshot.nodes[i + nameAt] ?? 0] ?? '?') : '';
    const key = name === '' ? `(${type})` : `${type} ${name.slice(0, 60)}`;
    const group = groups.get(key) ?? { count: 0, size: 0 };
    group.count++;
    group.size += size;
    groups.set(key, group);
    total += size;
  }
  const toMiB = (bytes: number): number => Number((bytes / 1048576).toFixed(1));
  return {
    totalMiB: toMiB(total),
    groups: [...groups]
      .sort(([, a], [, b]) => b.size - a.size)
      .slice(0, top)
      .map(([what, { count, size }]) => ({ what, count, selfMiB: toMiB(size) })),
  };
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  console.log(JSON.stringify(summarizeHeap(process.argv[2] ?? '', Number(process.argv[3] ?? 15)), null, 2));
}
