/**
 * An episode's plan, drawn from its seed alone: the operator's replicas, the workload and the
 * fault schedule. On a real cluster the seed fixes these, not the interleaving: re-running a
 * seed repeats the same faults at the same moments against the same workload.
 */
import { seededRng, type Rng } from '../../src/services/rng.ts';
import type { Profile } from './profiles.ts';

/** Every fault the harness injects; see faults.ts for what each does. */
export const FAULT_KINDS = [
  // processes
  'kill-leader',
  'kill-standby',
  'kill-during-create',
  'steal-lease',
  'block-renewal',
  'restart-apiserver',
  'pause-etcd',
  // the network between an operator and kube-apiserver (its fault proxy)
  'cut-watches',
  'stall-watches',
  'watch-410',
  'slow-requests',
  'write-errors',
  'lose-responses',
  'reset-connections',
  'partition',
  // users
  'delete-pod',
  'force-delete-pod',
  'recreate-group',
  'edit-items',
  'rename-running',
  'pause',
  'change-type',
  'delete-type',
  'delete-namespace',
  'foreign-pod',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultPlan {
  kind: FaultKind;
  /** When it starts, from the episode's start. */
  atMs: number;
  /** How long it lasts, or when its undo (restart, unpause, restore, release) comes. */
  durationMs: number;
  /** kill-during-create: the held create is released (reaches the server late) or dropped. */
  release?: boolean;
  /** write-errors: the status code injected. */
  code?: number;
  /** Error bursts: the share of matching requests that fail. */
  probability?: number;
}

export interface OaatTypePlan {
  name: string;
  /** `kwok`: KWOK's node runs its pods; `harness`: the harness acts as their kubelet (with skew). */
  node: 'kwok' | 'harness';
  /** terminationGracePeriodSeconds of its pods. */
  graceSeconds: number;
  /** The harness kubelet's clock is off by this much (harness node only). */
  skewMs: number;
}

export interface GroupPlan {
  name: string;
  type: string;
  items: string[];
  frequency: string;
  failureCoolOff?: string;
  /** The share of its pods that fail, with a random exit code. */
  failRate: number;
}

export interface NamespacePlan {
  /** Suffix of the namespace's name (the run gives the prefix). */
  suffix: string;
  types: OaatTypePlan[];
  groups: GroupPlan[];
}

export interface EpisodePlan {
  seed: number;
  replicas: 1 | 2;
  namespaces: NamespacePlan[];
  faults: FaultPlan[];
}

const between = (rng: Rng, [min, max]: readonly [number, number]): number => Math.round(min + rng.next() * (max - min));
const pick = <T>(rng: Rng, values: readonly T[]): T => values[Math.floor(rng.next() * values.length)] as T;

/** Item counts: mostly small groups, some large (up to 200). */
const ITEM_COUNTS = [1, 1, 2, 3, 5, 8, 20, 200] as const;

function planType(rng: Rng, index: number, profile: Profile): OaatTypePlan {
  const node = rng.next() < 0.25 ? 'harness' : 'kwok';
  return {
    name: `type-${String(index)}`,
    node,
    graceSeconds: rng.next() < 0.3 ? between(rng, [5, profile.maxGraceSeconds]) : 0,
    skewMs: node === 'harness' ? between(rng, [-120_000, 120_000]) : 0,
  };
}

function planGroup(rng: Rng, index: number, types: OaatTypePlan[], profile: Profile): GroupPlan {
  const count = pick(rng, ITEM_COUNTS);
  const coolOff = pick(rng, profile.coolOffsSeconds);
  return {
    name: `group-${String(index)}`,
    type: pick(rng, types).name,
    items: Array.from({ length: count }, (_, i) => `item-${String(i)}`),
    frequency: `${String(pick(rng, profile.frequenciesSeconds))}s`,
    ...(coolOff > 0 && { failureCoolOff: `${String(coolOff)}s` }),
    failRate: pick(rng, [0, 0.2, 0.5, 0.9]),
  };
}

function planFault(rng: Rng, replicas: 1 | 2, profile: Profile): FaultPlan {
  const kinds = replicas === 2 ? FAULT_KINDS : FAULT_KINDS.filter((kind) => kind !== 'kill-standby');
  const kind = pick(rng, kinds);
  const atMs = between(rng, [2_000, profile.faultWindowMs - 2_000]);
  const lasting = kind === 'kill-leader' || kind === 'kill-standby' || kind === 'kill-during-create' ? profile.restartDelayMs : profile.faultDurationMs;
  const fault: FaultPlan = { kind, atMs, durationMs: between(rng, lasting) };
  if (kind === 'kill-during-create') fault.release = rng.next() < 0.5;
  if (kind === 'write-errors') fault.code = pick(rng, [429, 500, 503, 504]);
  if (kind === 'write-errors' || kind === 'lose-responses' || kind === 'reset-connections' || kind === 'slow-requests') fault.probability = pick(rng, [0.2, 0.5, 1]);
  return fault;
}

/** The plan of episode `seed`: the same seed and profile always give the same plan. */
export function planEpisode(seed: number, profile: Profile): EpisodePlan {
  const rng = seededRng(seed);
  const replicas = rng.next() < 0.5 ? 1 : 2;
  const namespaces = Array.from({ length: between(rng, [1, 3]) }, (_, n): NamespacePlan => {
    const types = Array.from({ length: between(rng, [1, 2]) }, (_, t) => planType(rng, t, profile));
    const groups = Array.from({ length: between(rng, [1, 4]) }, (_, g) => planGroup(rng, g, types, profile));
    return { suffix: String(n), types, groups };
  });
  const faults = Array.from({ length: between(rng, [1, 4]) }, () => planFault(rng, replicas, profile)).sort((a, b) => a.atMs - b.atMs);
  return { seed, replicas, namespaces, faults };
}

/** A one-line description of the plan's fault schedule (for results and reports). */
export function describeFaults(plan: EpisodePlan): string {
  return plan.faults
    .map((f) => `${f.kind}@${(f.atMs / 1000).toFixed(1)}s/${(f.durationMs / 1000).toFixed(1)}s${f.release === undefined ? '' : f.release ? ' release' : ' drop'}${f.code === undefined ? '' : ` ${String(f.code)}`}${f.probability === undefined ? '' : ` p${String(f.probability)}`}`)
    .join(', ');
}
