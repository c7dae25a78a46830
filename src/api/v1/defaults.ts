/**
 * What an OaatGroup's optional spec fields mean when they are absent (the Python original's
 * defaults), as numbers the selection policy takes. Call these after validateGroupSpec found no
 * errors: on a text it rejects they throw parseDuration's Error.
 */
import { parseDuration } from './duration.ts';
import type { OaatGroupSpec } from './types.ts';

/** `spec.frequency` when absent. */
export const DEFAULT_FREQUENCY = '1h';

/** How often each item must succeed, in milliseconds (always > 0). */
export function frequencyMs(spec: OaatGroupSpec): number {
  return parseDuration(spec.frequency ?? DEFAULT_FREQUENCY);
}

/**
 * How long a failed item waits before it is tried again, in milliseconds; undefined when there
 * is no cool-off (`failureCoolOff` absent or zero, as in the original).
 */
export function failureCoolOffMs(spec: OaatGroupSpec): number | undefined {
  if (spec.failureCoolOff === undefined) return undefined;
  const coolOff = parseDuration(spec.failureCoolOff, { allowZero: true });
  return coolOff === 0 ? undefined : coolOff;
}

/** `spec.failureBackoff.multiplier` and `.max` when absent. */
export const DEFAULT_BACKOFF_MULTIPLIER = 2;
export const DEFAULT_BACKOFF_MAX = '24h';

/** How the wait after a failure grows; undefined without `failureBackoff` (it does not grow). */
export function failureBackoff(spec: OaatGroupSpec): { multiplier: number; maxMs: number } | undefined {
  const backoff = spec.failureBackoff;
  if (backoff === undefined) return undefined;
  return { multiplier: backoff.multiplier ?? DEFAULT_BACKOFF_MULTIPLIER, maxMs: parseDuration(backoff.max ?? DEFAULT_BACKOFF_MAX) };
}

/** `spec.runtimePrediction`'s fields when absent. */
export const DEFAULT_PREDICTION_PERCENTILE = 90;
export const DEFAULT_PREDICTION_MARGIN_PERCENT = 50;
export const DEFAULT_PREDICTION_MIN_BUFFER = '5m';

/** The runtime prediction rules of a group (services/runtime-prediction.ts); the defaults when `runtimePrediction` is absent. */
export function predictionRules(spec: OaatGroupSpec): {
  percentile: number;
  marginPercent: number;
  minBufferMs: number;
  defaultRuntimeMs: number | undefined;
  runTimeoutMs: number | undefined;
} {
  const prediction = spec.runtimePrediction ?? {};
  return {
    percentile: prediction.percentile ?? DEFAULT_PREDICTION_PERCENTILE,
    marginPercent: prediction.marginPercent ?? DEFAULT_PREDICTION_MARGIN_PERCENT,
    minBufferMs: parseDuration(prediction.minBuffer ?? DEFAULT_PREDICTION_MIN_BUFFER, { allowZero: true }),
    defaultRuntimeMs: prediction.defaultRuntime === undefined ? undefined : parseDuration(prediction.defaultRuntime),
    runTimeoutMs: runTimeoutMs(spec),
  };
}

/** `spec.pendingTimeout` when absent: generous, but a pod that never starts cannot block a group forever. */
export const DEFAULT_PENDING_TIMEOUT = '1h';

/** How long a run may take, in milliseconds; undefined without `runTimeout` (no limit). */
export function runTimeoutMs(spec: OaatGroupSpec): number | undefined {
  return spec.runTimeout === undefined ? undefined : parseDuration(spec.runTimeout);
}

/** How long an item pod may stay Pending, in milliseconds. */
export function pendingTimeoutMs(spec: OaatGroupSpec): number {
  return parseDuration(spec.pendingTimeout ?? DEFAULT_PENDING_TIMEOUT);
}

/** Finished pods kept per group: the spec's limits, else the operator's defaults. */
export function historyLimits(
  spec: OaatGroupSpec,
  defaults: { successful: number; failed: number },
): { successful: number; failed: number } {
  return { successful: spec.successfulPodsHistoryLimit ?? defaults.successful, failed: spec.failedPodsHistoryLimit ?? defaults.failed };
}
