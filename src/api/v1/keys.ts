/**
 * Label, annotation and finalizer keys of kawaja.net/v1, including those the Python original
 * used (kept so its pods and groups are recognised).
 */

/** Labels on every item pod. The first three are the original's. */
export const LABELS = {
  /** Always `oaat-operator`. */
  app: 'app',
  /** The group's name (a label-safe form of it when the name is not a valid label value). */
  parentName: 'parent-name',
  /** The item (a label-safe form of it; the true name is in {@link ANNOTATIONS.item}). */
  itemName: 'oaat-name',
  /** The run id of the claim the pod belongs to. */
  runId: 'oaat.kawaja.net/run-id',
} as const;

export const APP_LABEL_VALUE = 'oaat-operator';

export const ANNOTATIONS = {
  /** The item's true name on its pod (item names are arbitrary strings). */
  item: 'oaat.kawaja.net/item',
  /** On a pod the operator stopped: why (`RunTimeout` or `PendingTimeout`). */
  stopReason: 'oaat.kawaja.net/stop-reason',
  /**
   * The sequence number of the pod's claim (`status.runSeq` when it was claimed): claims of a
   * group are sequential, so a pod whose number is at most the group's last is of a closed run.
   */
  runSeq: 'oaat.kawaja.net/run-seq',
  /** On a group: run this item next (`<item>` or `<item>@<time>`; services/item-requests.ts). */
  runNow: 'oaat.kawaja.net/run-now',
  /** On a group: clear the failures of this item, or of every item (`*`). */
  reset: 'oaat.kawaja.net/reset',
  /** The original's pause switch on a group: any non-empty value pauses new runs. */
  pauseNewJobs: 'pause_new_jobs',
} as const;

/** The label of ConfigMaps that hold items (spec.oaatItemsFrom): the operator caches only those. */
export const LABELS_ITEMS_SOURCE = { key: 'oaat.kawaja.net/items', value: 'true' } as const;

/** The finalizer kopf put on the original's groups and pods; this operator removes it. */
export const KOPF_FINALIZER = 'oaatoperator.kawaja.net/kopf-finalizer';

/** Annotations kopf and the original wrote on groups (prefix), obsolete here. */
export const ORIGINAL_ANNOTATION_PREFIX = 'oaatoperator.kawaja.net/';
