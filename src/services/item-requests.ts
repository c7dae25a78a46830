/**
 * Requests people make of a group by annotation, so `kubectl annotate` is the whole interface:
 * `oaat.kawaja.net/run-now` (run an item next) and `oaat.kawaja.net/reset` (clear an item's
 * failures). The value is `<item>`, or `<item>@<RFC 3339 time>` so the same item can be asked
 * for again; `*` for every item where the request allows it.
 *
 * The operator never edits the annotation: removing it would be a second write, not atomic with
 * the one that acts on it, and GitOps tools would put it back. It records the value it handled
 * in the group's status, in the same write as what it did; a value other than the handled one is
 * a new request. An item name may itself contain `@`: only a suffix that is a whole RFC 3339
 * time is taken as the time.
 */

/** `@` and an RFC 3339 date-time (seconds, optional fraction, `Z` or an offset) at the end. */
const TIME_SUFFIX = /@\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** One request not handled yet: the annotation's whole value and the item it names. */
export interface ItemRequest {
  readonly value: string;
  readonly item: string;
}

/**
 * The request in `annotation` when it differs from the value last `handled`; undefined when there
 * is none (absent, empty, or handled already).
 */
export function pendingRequest(annotation: string | undefined, handled: string | undefined): ItemRequest | undefined {
  const value = annotation?.trim() ?? '';
  if (value === '' || value === handled) return undefined;
  const suffix = TIME_SUFFIX.exec(value);
  const item = suffix === null ? value : value.slice(0, suffix.index);
  return { value, item };
}
