/**
 * kawaja.net/v1: the OaatGroup and OaatType objects as the operator reads and writes them.
 *
 * Spec fields are the Python original's, plus additive ones. Status keys follow
 * architecture.md §5: per-item keys keep the original's names (`last_success`, ...) so existing
 * history carries over; the original's stringly-typed `runtime_*` keys and
 * `handler_status.children` are read once and then removed (legacy).
 */
import type { KubernetesObject, V1Container } from '@kubernetes/client-node';
import type { Weekday } from './time-of-day.ts';

export const GROUP = 'kawaja.net';
export const VERSION = 'v1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** A time of day as the original wrote it: `{time: "02:00"}` (see time-of-day.ts for the grammar). */
export interface WindowTime {
  time?: string;
}

/** When a window opens and closes, both inclusive; a start after the end wraps midnight. */
export interface WindowSpan {
  start?: WindowTime;
  end?: WindowTime;
}

/**
 * One blackout window: a name and exactly one kind, `noStartItem` (no item starts inside it; a
 * running item finishes) or `noRunItem` (no item may run inside it). The original's windows
 * have no name and only `noStartItem`.
 */
export interface TimeWindow {
  /** Names the window in messages; unique among the group's windows. Absent: called `windows[i]`. */
  name?: string;
  noStartItem?: WindowSpan;
  noRunItem?: WindowSpan;
  /** IANA zone of the times (default `spec.timeZone`, else UTC); a UTC offset in the times wins. */
  timeZone?: string;
  /** The weekdays (`Mon` ... `Sun`) on which the window starts; absent: every day. */
  days?: Weekday[];
  /** noRunItem only: an item still running when the window opens is stopped (outcome `WindowStopped`). */
  stopRunning?: boolean;
}

/** One source of items: a key of a ConfigMap in the group's namespace. */
export interface ItemsFrom {
  configMapKeyRef: { name: string; key: string; optional?: boolean };
  /** `Lines` (default): one item a line; `YAML`: a list of strings. */
  format?: 'Lines' | 'YAML';
}

export interface OaatGroupSpec {
  /** How often each item must succeed, as a duration (default `1h`). */
  frequency?: string;
  /** How long a failed item waits before it is tried again, as a duration (default: none). */
  failureCoolOff?: string;
  /** `Continuous` (default): items run again at their frequency; `EachOnce`: each item runs until it succeeds once. */
  mode?: 'Continuous' | 'EachOnce';
  /** How long items are expected to run, for noRunItem windows (services/runtime-prediction.ts). */
  runtimePrediction?: { percentile?: number; marginPercent?: number; minBuffer?: string; defaultRuntime?: string };
  /** The wait after a failure grows with consecutive failures (default: it does not). */
  failureBackoff?: { multiplier?: number; max?: string };
  /** Name of the OaatType, in the group's namespace, that says how to run an item. */
  oaatType?: string;
  /** The items; duplicates are accepted and counted once. */
  oaatItems?: string[];
  /** More items, from keys of ConfigMaps in the group's namespace (services/item-sources.ts). */
  oaatItemsFrom?: ItemsFrom[];
  /** Blackout windows. */
  windows?: TimeWindow[];
  /** IANA zone of the windows' times that name none (default UTC). */
  timeZone?: string;
  /** No new item starts while true; a running item finishes. */
  paused?: boolean;
  /** A run longer than this (a duration) is stopped and recorded as TimedOut. */
  runTimeout?: string;
  /** A pod Pending longer than this (a duration, default 1h) is deleted and its run recorded as failed. */
  pendingTimeout?: string;
  /** Finished pods kept: the newest successful (default 1) and failed (default 3) ones. */
  successfulPodsHistoryLimit?: number;
  failedPodsHistoryLimit?: number;
}

/** The lock: the one run this group has claimed and not yet closed. */
export interface CurrentRun {
  /** Unique per claim; part of the pod name and its run-id label. */
  id: string;
  item: string;
  podName: string;
  /** RFC 3339, operator clock. */
  claimedAt: string;
  /** The claim's number: `status.runSeq` after the claim (absent on claims of older versions). */
  seq?: number;
  /**
   * The incarnation (`<host>_<uuid>`, new at every process start) that wrote the claim: the only
   * one that may create its pod. Absent: an older version's claim, never created by this one.
   */
  claimedBy?: string;
  /** `RunNow`: claimed for a run-now request, whatever the item's eligibility. Absent: by the selection. */
  trigger?: RunTrigger;
}

/** Why a run started, when not by the selection policy. */
export type RunTrigger = 'RunNow';

/** Why the item in `status.next` does not start before its time, or why none will. */
export type NextReason = 'Eligible' | 'Frequency' | 'CoolOff' | 'RetryFloor' | 'Backoff' | 'Window' | 'Paused' | 'Complete';

/** `status.next`: what is expected to start next, as of the last claim, close or spec change. */
export interface NextRun {
  reason: NextReason;
  /** The item (absent for Paused and Complete). */
  item?: string;
  /** RFC 3339: from when it may start (absent when no time is known). */
  at?: string;
  /** The window holding it back, by name (or `windows[<index>]`), for reason Window. */
  window?: string;
}

/** The annotation value of a request the operator has acted on (services/item-requests.ts). */
export interface HandledRequest {
  handled: string;
}

/** Pod creates the API server refused (admission, quota, a webhook), and the backoff they caused. */
export interface CreateBackoff {
  /** Consecutive refused creates since the last pod was created. */
  refusals: number;
  /** RFC 3339: no claim before this time (absent until the backoff starts). */
  retryAt?: string;
  /** The API server's last answer. */
  message: string;
}

export type RunOutcome = 'Succeeded' | 'Failed' | 'CreateFailed' | 'Deleted' | 'TimedOut' | 'Lost' | 'WindowStopped';

/** How an item's most recent run ended (written by the close). */
export interface LastRun {
  id: string;
  podUID?: string;
  outcome: RunOutcome;
  reason?: string;
  exitCode?: number;
  /** RFC 3339. */
  finishedAt: string;
  /** `RunNow` when the run was requested by annotation. */
  trigger?: RunTrigger;
}

/** Runtime statistics of an item's successful runs, in seconds. */
export interface RuntimeStatus {
  count: number;
  total: number;
  sumSquares: number;
  min: number;
  max: number;
  /** A reservoir sample, at most 32 values, sorted. */
  sample: number[];
  /** RFC 3339. */
  lastUpdated?: string;
}

export interface ItemStatus {
  /** RFC 3339 (the original wrote Python isoformat, e.g. `2024-08-10T12:00:00+00:00`). */
  last_success?: string;
  last_failure?: string;
  /** RFC 3339: a failing item is not tried before this (last failure + its failure wait); absent without failures. */
  retry_at?: string;
  /** Consecutive failures since the last success; the original wrote strings (`'3'`). */
  failure_count?: number | string;
  last_started?: string;
  /** Phase at claim (`started`) and close (the outcome's phase). */
  podphase?: string;
  last_run?: LastRun;
  runtime?: RuntimeStatus;
  // Legacy keys of the original, read once and removed at the item's first rewrite.
  runtime_count?: string | number;
  runtime_total?: string | number;
  runtime_sum_squares?: string | number;
  runtime_min?: string | number;
  runtime_max?: string | number;
  /** JSON text of a number list (up to 100 values). */
  runtime_sample?: string;
  runtime_last_updated?: string;
  last_verified?: string;
}

/** The original's `handler_status`, kept as a mirror of `currentRun` for printer columns. */
export interface HandlerStatus {
  state?: 'idle' | 'running';
  currently_running?: string | null;
  pod?: string | null;
  /** RFC 3339 of the last claim. */
  last_run?: string;
  /** Legacy: the pod UIDs the original started (read for adoption). */
  children?: string[] | null;
  /** Legacy, dropped. */
  loops?: number | null;
}

/** metav1.Condition. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export interface OaatGroupStatus {
  currentRun?: CurrentRun | null;
  /** The number of the last claim (each claim takes the next one). */
  runSeq?: number;
  createBackoff?: CreateBackoff | null;
  /** The last `oaat.kawaja.net/run-now` value acted on. */
  runNow?: HandledRequest;
  /** The last `oaat.kawaja.net/reset` value acted on. */
  reset?: HandledRequest;
  conditions?: Condition[];
  observedGeneration?: number;
  /** RFC 3339: when the next item becomes eligible (informational). */
  nextEligibleAt?: string | null;
  next?: NextRun | null;
  items?: Record<string, ItemStatus | null>;
  handler_status?: HandlerStatus;
}

export interface OaatGroup extends KubernetesObject {
  spec?: OaatGroupSpec;
  status?: OaatGroupStatus;
}

/**
 * `spec.podspec`: a Pod spec with exactly one container given as `container` (not
 * `containers`) and no `restartPolicy`; every other key is copied into the item pods.
 */
export interface OaatPodSpec {
  container?: V1Container;
  containers?: unknown;
  restartPolicy?: unknown;
  [key: string]: unknown;
}

export interface OaatTypeSpec {
  /** Must be `pod`. */
  type?: string;
  podspec?: OaatPodSpec;
}

export interface OaatType extends KubernetesObject {
  spec?: OaatTypeSpec;
}
