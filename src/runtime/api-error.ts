/**
 * Errors of Kubernetes API calls: the HTTP status and the `Status` reason the API server
 * returned, so callers decide on facts (not found, already exists, conflict) rather than on
 * message text.
 */

/** An API call the server answered with a non-2xx status, or that never got an answer. */
export class ApiError extends Error {
  override name = 'ApiError';

  constructor(
    message: string,
    /** HTTP status; 0 when no response arrived (timeout, connection error). */
    readonly status: number,
    /** The `Status.reason` of the answer (`NotFound`, `AlreadyExists`, `Conflict`, ...), or ''. */
    readonly reason = '',
    /** For 429 and some 5xx: how long the server asked us to wait, in milliseconds. */
    readonly retryAfterMs?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * A write was refused because the object changed since it was read (409 with reason
 * `Conflict`, e.g. a failed resourceVersion precondition). Expected under concurrency: the
 * reconcile is simply run again on fresher state.
 */
export class ConflictError extends ApiError {
  override name = 'ConflictError';
}

/**
 * A request that was never sent: its deadline (`sendBy`) passed while it waited (in the
 * client's rate limiter, or before a retry). Unlike a timeout, it certainly had no effect.
 */
export class NotSentError extends ApiError {
  override name = 'NotSentError';

  constructor(message: string) {
    super(message, 0, 'NotSent');
  }
}

export function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404;
}

export function isAlreadyExists(error: unknown): boolean {
  return error instanceof ApiError && error.status === 409 && error.reason === 'AlreadyExists';
}

export function isConflict(error: unknown): boolean {
  return error instanceof ConflictError;
}

/** 429, 5xx, or no answer at all: the same request may succeed later. */
export function isTransient(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 0 || error.status === 429 || error.status >= 500);
}
