/**
 * Timing profiles of chaos episodes: the operator's timers, the control plane's request
 * timeout, the workload's pod durations and grace periods, and how long faults go on.
 *
 * `short` keeps an episode near a minute (the protocol's timers scaled down together, so every
 * bound between them still holds); `production` runs the operator with its defaults and a
 * workload of production-like durations, for a few long episodes.
 */

export type ProfileName = 'short' | 'production';

export interface Profile {
  name: ProfileName;
  /** The operator's OAAT_* settings (leader election always on, as the chart runs it). */
  operatorEnv: Record<string, string>;
  /** kube-apiserver --request-timeout: equals OAAT_SERVER_REQUEST_TIMEOUT. */
  serverRequestTimeoutMs: number;
  requeueCapMs: number;
  createGraceMs: number;
  /** How long faults are injected, from the episode's start. */
  faultWindowMs: number;
  /** Item pods run for a time in [min, max]. */
  podRunMs: [number, number];
  /** terminationGracePeriodSeconds of the long-grace OaatTypes, at most. */
  maxGraceSeconds: number;
  /** Group frequencies (seconds), drawn from these. */
  frequenciesSeconds: readonly number[];
  /** Failure cool-offs (seconds), drawn from these; 0 = none. */
  coolOffsSeconds: readonly number[];
  /** A restarted process comes back after a delay in [min, max]. */
  restartDelayMs: [number, number];
  /** Faults that last (a stalled etcd, a partition, error bursts) last [min, max]. */
  faultDurationMs: [number, number];
  /** After the last run, nothing may be written for this long. */
  idleWindowMs: number;
}

const SHORT_SERVER_TIMEOUT_MS = 15_000;

export const PROFILES: Record<ProfileName, Profile> = {
  short: {
    name: 'short',
    operatorEnv: {
      OAAT_REQUEUE_CAP: '10s',
      OAAT_RETRY_FLOOR: '2s',
      OAAT_CREATE_GRACE: '10s',
      OAAT_REQUEST_TIMEOUT: '5s',
      OAAT_SERVER_REQUEST_TIMEOUT: `${String(SHORT_SERVER_TIMEOUT_MS / 1000)}s`,
      OAAT_BACKOFF_CAP: '5s',
      OAAT_STUCK_AFTER: '30s',
      OAAT_LEASE_DURATION: '5s',
      OAAT_RENEW_DEADLINE: '3s',
      OAAT_RETRY_PERIOD: '1s',
    },
    serverRequestTimeoutMs: SHORT_SERVER_TIMEOUT_MS,
    requeueCapMs: 10_000,
    createGraceMs: 10_000,
    faultWindowMs: 30_000,
    podRunMs: [500, 12_000],
    maxGraceSeconds: 20,
    frequenciesSeconds: [2, 5, 10, 30, 60],
    coolOffsSeconds: [0, 0, 5, 20],
    restartDelayMs: [0, 8_000],
    faultDurationMs: [1_000, 8_000],
    idleWindowMs: 5_000,
  },
  production: {
    name: 'production',
    operatorEnv: {},
    serverRequestTimeoutMs: 60_000,
    requeueCapMs: 60_000,
    createGraceMs: 60_000,
    faultWindowMs: 120_000,
    podRunMs: [5_000, 60_000],
    maxGraceSeconds: 30,
    frequenciesSeconds: [10, 60, 120, 300],
    coolOffsSeconds: [0, 60],
    restartDelayMs: [0, 20_000],
    faultDurationMs: [2_000, 15_000],
    idleWindowMs: 15_000,
  },
};

/** What a process waits before it gives up a claim it never saw a pod of (architecture.md §3). */
export function confirmationMs(profile: Profile): number {
  return profile.createGraceMs + profile.serverRequestTimeoutMs + 10_000;
}
