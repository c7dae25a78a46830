import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from './logger.ts';

/**
 * The reconcile contract, after controller-runtime's pkg/reconcile.
 *
 * Reconciliation is level-based: a {@link Request} names an object, never the event that woke
 * it. A reconciler reads the current state (from caches), converges the world towards the
 * desired state, and reports when it wants to look again. It must be idempotent: the same
 * request may arrive many times, and several events may collapse into one request.
 */

/** The object to reconcile: its namespace ('' for cluster-scoped objects) and name. */
export interface Request {
  readonly namespace: string;
  readonly name: string;
}

/**
 * What a successful reconcile asks for next. `requeueAfter` (milliseconds, > 0) schedules the
 * same request again after that delay (and resets its error backoff); without it, the request
 * is processed again only when an event maps to it.
 */
export interface Result {
  readonly requeueAfter?: number;
}

/** What the controller hands each reconcile besides the request. */
export interface ReconcileContext {
  /** Logs with the controller, namespace, name and a reconcile id in every line. */
  readonly log: Logger;
}

/**
 * Reconciles one object at a time. The controller guarantees that one request is never
 * reconciled concurrently with itself, while different requests may be.
 *
 * Outcomes:
 * - resolves: success; `result.requeueAfter` schedules a later look;
 * - rejects with {@link TerminalError}: logged and counted, never retried (the input must
 *   change first; an event will bring the request back);
 * - rejects with `ConflictError` (api-error.ts; HTTP 409: the state moved under us): requeued at once,
 *   quietly, without an error log or error count;
 * - rejects with anything else: logged, counted, retried with per-request exponential backoff.
 */
export interface Reconciler {
  reconcile(request: Request, context: ReconcileContext): Promise<Result>;
}

/** An error that retrying cannot fix. */
export class TerminalError extends Error {
  override name = 'TerminalError';
}


/** The request that reconciles `object`. */
export function requestOf(object: KubernetesObject): Request {
  return { namespace: object.metadata?.namespace ?? '', name: object.metadata?.name ?? '' };
}

/** The work-queue key of a request: `namespace/name`, or `name` for cluster-scoped objects. */
export function requestKey(request: Request): string {
  return request.namespace === '' ? request.name : `${request.namespace}/${request.name}`;
}

/** The request a work-queue key stands for (inverse of {@link requestKey}). */
export function requestFromKey(key: string): Request {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
