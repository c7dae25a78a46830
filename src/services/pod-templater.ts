/**
 * The pod of one run: an OaatType's pod template filled in for one item of one group.
 *
 * The pod (original-spec.md §2.3, architecture.md §3 and §5):
 * - `spec`: every key of `spec.podspec` except `container` (deep copies: the inputs are never
 *   mutated, and the pod shares no object with them), `containers: [container]`,
 *   `restartPolicy: Never`;
 * - the container: `spec.podspec.container` with both `%%oaat_item%%` (what the original
 *   substitutes) and `{{oaat_item}}` (what its README shows) replaced by the item name, every
 *   occurrence, in each `command` and `args` element and each `env[].value`; nothing else is
 *   substituted. Env entries without a value (`valueFrom`) are kept as they are;
 * - env `OAAT_ITEM=<item>` last. Any `OAAT_ITEM` entry of the template is dropped: in
 *   Kubernetes the last entry of a name wins, so the original's appended entry already
 *   overrode it; dropping it also avoids the API server's duplicate-name warning;
 * - labels: the group's labels, then ours, which win: `app: oaat-operator`,
 *   `parent-name: <group>` and `oaat-name: <item>` (label-safe forms when the names are not
 *   valid label values), `oaat.kawaja.net/run-id: <run id>`;
 * - annotation `oaat.kawaja.net/item: <item>` (the true name);
 * - the group's namespace; the name `naming.podName(group, item, runId)` (a DNS label,
 *   unique per run); a controller ownerReference to the group.
 */
import type { V1Container, V1Pod, V1PodSpec } from '@kubernetes/client-node';
import { ANNOTATIONS, APP_LABEL_VALUE, LABELS } from '../api/v1/keys.ts';
import { labelValue, podName } from '../api/v1/naming.ts';
import { API_VERSION, type OaatGroup, type OaatType } from '../api/v1/types.ts';
import { runTimeoutMs } from '../api/v1/defaults.ts';
import { type Problem, validateOaatType } from '../api/v1/validation.ts';
import { type PodRestriction, restrictionProblems } from './pod-restrictions.ts';

/** The env variable that always carries the item name. */
export const ITEM_ENV = 'OAAT_ITEM';

/** The substitution tokens, both replaced by the item name. */
const ITEM_TOKENS = /%%oaat_item%%|\{\{oaat_item\}\}/g;

/** A run id: lowercase letters and digits (it goes into the pod name and a label). */
const RUN_ID = /^[a-z0-9]{1,16}$/;

const CONTAINER_PATH = 'spec.podspec.container';

/**
 * What the templater needs of `spec.podspec.container` beyond the OaatType schema
 * (validation.ts), which leaves the container open: `command` and `args` are lists of strings,
 * `env` is a list of entries with a string `name` and, when present, a string `value`
 * (`null` counts as absent for all three). The original crashed on these instead. Empty when
 * there is no container to check: {@link validateOaatType} reports that.
 */
export function containerProblems(oaatType: OaatType): Problem[] {
  const container: unknown = oaatType.spec?.podspec?.container;
  if (!isPlainObject(container)) return [];
  const problems: Problem[] = [];
  for (const field of ['command', 'args'] as const) {
    const list = container[field];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) {
      problems.push({ path: `${CONTAINER_PATH}.${field}`, message: 'must be a list of strings' });
      continue;
    }
    list.forEach((element, index) => {
      if (typeof element !== 'string') problems.push({ path: `${CONTAINER_PATH}.${field}[${index}]`, message: `must be a string, got ${JSON.stringify(element)}` });
    });
  }
  const env = container.env;
  if (env !== undefined && env !== null) {
    if (!Array.isArray(env)) problems.push({ path: `${CONTAINER_PATH}.env`, message: 'must be a list' });
    else {
      env.forEach((entry, index) => {
        const path = `${CONTAINER_PATH}.env[${index}]`;
        if (!isPlainObject(entry) || typeof entry.name !== 'string') problems.push({ path, message: 'must have a string name' });
        else if (entry.value !== undefined && entry.value !== null && typeof entry.value !== 'string') problems.push({ path: `${path}.value`, message: 'must be a string' });
      });
    }
  }
  return problems;
}

export interface PodTemplateInput {
  readonly type: OaatType;
  /** The group as read from the API: it must have a name, a namespace and a uid. */
  readonly group: OaatGroup;
  /** The item name, any string. */
  readonly item: string;
  /** The claim's run id: 1 to 16 lowercase letters and digits. */
  readonly runId: string;
  /** Pod features this operator refuses (pod-restrictions.ts); empty: none. */
  readonly restrictions: ReadonlySet<PodRestriction>;
}

/** The pod, or why the OaatType cannot make one. */
export type PodTemplateResult = { readonly ok: true; readonly pod: V1Pod } | { readonly ok: false; readonly error: string };

/**
 * The pod of one run, as the file's doc comment describes, or, when the OaatType is invalid
 * ({@link validateOaatType}, then {@link containerProblems}) or uses a feature the restrictions
 * refuse ({@link restrictionProblems}), every problem as
 * `<path>: <message>`, joined by `; `. Throws TypeError when the group lacks a name,
 * namespace or uid, and RangeError for a malformed run id: both are the caller's bugs, never
 * the user's input.
 */
export function renderPod(input: PodTemplateInput): PodTemplateResult {
  const { group, item, runId } = input;
  const { name, namespace, uid } = group.metadata ?? {};
  if (name === undefined || namespace === undefined || uid === undefined) throw new TypeError('the group needs metadata.name, namespace and uid to own a pod');
  if (!RUN_ID.test(runId)) throw new RangeError(`run id must be 1 to 16 lowercase letters and digits, got ${JSON.stringify(runId)}`);
  const problems = [...validateOaatType(input.type), ...containerProblems(input.type)];
  if (problems.length === 0) problems.push(...restrictionProblems(input.type, input.restrictions));
  if (problems.length > 0) return { ok: false, error: problems.map((p) => `${p.path}: ${p.message}`).join('; ') };

  // Valid: podspec and container are objects, containers is empty and restartPolicy '' if present.
  const fields: Record<string, unknown> = { ...input.type.spec?.podspec };
  const container = structuredClone(fields.container) as V1Container;
  delete fields.container;
  delete fields.containers;
  delete fields.restartPolicy;

  const substitute = (text: string): string => text.replace(ITEM_TOKENS, () => item);
  if (container.command != null) container.command = container.command.map(substitute);
  if (container.args != null) container.args = container.args.map(substitute);
  const env = (container.env ?? []).filter((entry) => entry.name !== ITEM_ENV);
  for (const entry of env) if (typeof entry.value === 'string') entry.value = substitute(entry.value);
  container.env = [...env, { name: ITEM_ENV, value: item }];

  const spec = { ...structuredClone(fields), containers: [container], restartPolicy: 'Never' } as V1PodSpec;
  // The group's run timeout also reaches the kubelet, which then stops the pod even while the
  // operator is down; a shorter deadline of the OaatType's own stays.
  const timeoutMs = runTimeoutMs(group.spec ?? {});
  if (timeoutMs !== undefined) {
    const seconds = Math.ceil(timeoutMs / 1000);
    spec.activeDeadlineSeconds = Math.min(spec.activeDeadlineSeconds ?? seconds, seconds);
  }
  return {
    ok: true,
    pod: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: podName(name, item, runId),
        namespace,
        labels: {
          ...group.metadata?.labels,
          [LABELS.app]: APP_LABEL_VALUE,
          [LABELS.parentName]: labelValue(name),
          [LABELS.itemName]: labelValue(item),
          [LABELS.runId]: runId,
        },
        annotations: { [ANNOTATIONS.item]: item },
        ownerReferences: [{ apiVersion: API_VERSION, kind: 'OaatGroup', name, uid, controller: true, blockOwnerDeletion: true }],
      },
      spec,
    },
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
