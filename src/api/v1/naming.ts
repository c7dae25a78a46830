/**
 * Names derived from arbitrary user strings: DNS-safe pod names and label-safe values, stable
 * (the same input always gives the same output) and collision-resistant (a short hash of the
 * full input is part of every derived form that is not the input itself).
 */
import { createHash } from 'node:crypto';

/** The longest pod name produced (a DNS label, so it also works as a hostname). */
export const MAX_POD_NAME = 63;
const MAX_LABEL_VALUE = 63;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** `length` lowercase base-36 characters of the SHA-256 of `text`. */
export function shortHash(text: string, length = 6): string {
  const digest = createHash('sha256').update(text, 'utf8').digest();
  return BigInt(`0x${digest.toString('hex')}`).toString(36).padStart(length, '0').slice(0, length);
}

/** Lowercase letters, digits and single dashes, at most `max` characters, no dash at either end; `x` if nothing is left. */
export function slug(text: string, max: number): string {
  const cleaned = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, max)
    .replace(/-+$/, '');
  return cleaned === '' ? 'x' : cleaned;
}

/** `text` itself when it is a valid label value, else `<slug>-<hash>` (at most 63 characters). */
export function labelValue(text: string): string {
  if (text.length <= MAX_LABEL_VALUE && LABEL_VALUE.test(text)) return text;
  return `${slug(text, MAX_LABEL_VALUE - 7)}-${shortHash(text)}`;
}

/**
 * The pod name of one run: `<group>-<item>-<hash of item>-<run id>`, lowercase DNS label of at
 * most 63 characters. `runId` must already be DNS-safe (lowercase alphanumerics).
 */
export function podName(group: string, item: string, runId: string): string {
  const fixed = 1 + 6 + 1 + runId.length; // -<hash>-<runId>
  const budget = MAX_POD_NAME - fixed - 1; // and the dash after the group part
  const groupPart = slug(group, Math.min(24, Math.floor(budget / 2)));
  const itemPart = slug(item, budget - groupPart.length);
  return `${groupPart}-${itemPart}-${shortHash(item)}-${runId}`;
}
