/**
 * kube-apiserver's audit log as a witness of what the operator asked for: every request it
 * made, whether or not any watch saw its effect. Read in slices (from a byte offset), since
 * one log serves a whole chaos run.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';

export interface AuditEvent {
  auditID: string;
  stage: string;
  verb: string;
  user: { username: string };
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number };
  requestObject?: { metadata?: { name?: string; labels?: Record<string, string> } };
  requestReceivedTimestamp: string;
}

const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

export class AuditLog {
  constructor(readonly file: string) {}

  /** The log's size now: pass it to {@link since} later. */
  offset(): number {
    return statSync(this.file, { throwIfNoEntry: false })?.size ?? 0;
  }

  /** The completed requests logged after `offset` (a torn last line is left for later). */
  since(offset: number): AuditEvent[] {
    const end = this.offset();
    if (end <= offset) return [];
    const buffer = Buffer.alloc(end - offset);
    const fd = openSync(this.file, 'r');
    try {
      readSync(fd, buffer, 0, buffer.length, offset);
    } finally {
      closeSync(fd);
    }
    const text = buffer.toString('utf8');
    const complete = text.slice(0, text.lastIndexOf('\n') + 1);
    return complete
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as AuditEvent)
      .filter((event) => event.stage === 'ResponseComplete');
  }
}

/** Writes by `user` other than Lease renewals and Events (the protocol's own writes). */
export function protocolWrites(events: readonly AuditEvent[], user: string): AuditEvent[] {
  return events.filter(
    (e) => e.user.username === user && WRITE_VERBS.has(e.verb) && e.objectRef?.resource !== 'leases' && e.objectRef?.resource !== 'events',
  );
}

/** Pods `user` created (201) in `namespaces`, by namespace/name, with how many times each. */
export function podCreates(events: readonly AuditEvent[], user: string, namespaces: ReadonlySet<string>): Map<string, number> {
  const created = new Map<string, number>();
  for (const e of events) {
    if (e.user.username !== user || e.verb !== 'create' || e.objectRef?.resource !== 'pods' || e.objectRef.subresource !== undefined) continue;
    if (e.responseStatus?.code !== 201 || !namespaces.has(e.objectRef.namespace ?? '')) continue;
    const key = `${e.objectRef.namespace ?? ''}/${e.objectRef.name ?? e.requestObject?.metadata?.name ?? ''}`;
    created.set(key, (created.get(key) ?? 0) + 1);
  }
  return created;
}

/**
 * The highest request rate of `user` (requests a second, averaged over `windowMs`), by the
 * time each request was received; watches count once, when they ended.
 */
export function peakRate(events: readonly AuditEvent[], user: string, windowMs: number): number {
  const times = events
    .filter((e) => e.user.username === user)
    .map((e) => Date.parse(e.requestReceivedTimestamp))
    .sort((a, b) => a - b);
  let peak = 0;
  let first = 0;
  for (let last = 0; last < times.length; last++) {
    while ((times[last] ?? 0) - (times[first] ?? 0) >= windowMs) first++;
    peak = Math.max(peak, last - first + 1);
  }
  return peak / (windowMs / 1000);
}
