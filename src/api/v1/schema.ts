/**
 * The one source of truth of the kawaja.net/v1 CustomResourceDefinitions (OaatGroup, OaatType):
 * structural schemas, validation rules, subresources and printer columns.
 * `hack/gen-crds.ts` renders them to `config/crd/`; `validation.ts` checks the same rules at
 * run time (objects stored before a rule existed are never re-validated by the API server),
 * sharing the bounds and messages exported here.
 *
 * Compatibility with the Python original: its spec fields keep their names and types, its
 * manifests apply unchanged; its per-item status keys are kept (its stringly-typed `runtime_*`
 * and `last_verified` as untyped leaves, so importing its status is never rejected); its other
 * status keys (`oaat_timer`, `find_job`, `state`, ...) are not in the schema and are pruned.
 * Unlike the original, status is a subresource: a main-resource write ignores `status`.
 * Nothing here needs a Kubernetes newer than 1.30.
 */
import { durationValidation, MAX_DURATION_LENGTH } from './duration.ts';
import { MAX_TIME_OF_DAY_LENGTH, MAX_TIME_ZONE_LENGTH, timeOfDayValidation, timeZoneValidation, WEEKDAY_ENUM } from './time-of-day.ts';
import { GROUP, VERSION, type NextReason, type RunOutcome, type RunTrigger } from './types.ts';

/** How the API server reports a failed rule (apiextensions.k8s.io/v1 FieldValueErrorReason). */
export type RuleReason = 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueForbidden';

/** One `x-kubernetes-validations` entry (apiextensions.k8s.io/v1 ValidationRule). */
export interface CelValidation {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: RuleReason;
  fieldPath?: string;
}

/** A schema node (apiextensions.k8s.io/v1 JSONSchemaProps) with its wire names. */
export interface SchemaNode {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  format?: string;
  nullable?: boolean;
  enum?: readonly string[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  required?: readonly string[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode;
  items?: SchemaNode;
  'x-kubernetes-preserve-unknown-fields'?: true;
  'x-kubernetes-int-or-string'?: true;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: readonly string[];
  'x-kubernetes-validations'?: readonly CelValidation[];
}

/** An additionalPrinterColumns entry. */
export interface PrinterColumn {
  name: string;
  type: 'string' | 'date' | 'integer' | 'number' | 'boolean';
  jsonPath: string;
  description: string;
}

/** An apiextensions.k8s.io/v1 CustomResourceDefinition with one served and stored version. */
export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string };
  spec: {
    group: string;
    names: { kind: string; listKind: string; plural: string; singular: string; shortNames?: readonly string[]; categories: readonly string[] };
    scope: 'Namespaced';
    versions: readonly {
      name: string;
      served: true;
      storage: true;
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: readonly PrinterColumn[];
      schema: { openAPIV3Schema: SchemaNode };
    }[];
  };
}

/** At most this many entries in `spec.oaatItems`. */
export const MAX_ITEMS = 1000;
/** Item names and OaatType names are at most this long (a DNS subdomain's length). */
export const MAX_NAME_LENGTH = 253;
/**
 * At most this many keys in `status.items`: twice the item bound, so renaming every item
 * cannot make the operator's own write fail; it prunes keys of unlisted items before that.
 */
export const MAX_STATUS_ITEMS = 2 * MAX_ITEMS;

/** At most this many runtimes in `status.items.<item>.runtime.sample`. */
export const MAX_RUNTIME_SAMPLE = 32;

/** Every RunOutcome (a Record, so the compiler says when one is missing). */
const OUTCOMES: Record<RunOutcome, true> = { Succeeded: true, Failed: true, CreateFailed: true, Deleted: true, TimedOut: true, Lost: true, WindowStopped: true };
/** The outcomes a close records in `items.<item>.last_run.outcome`. */
export const RUN_OUTCOMES = Object.keys(OUTCOMES) as readonly RunOutcome[];

/** A CEL rule with a fixed message. */
export interface FixedRule {
  rule: string;
  reason: RuleReason;
  message: string;
}

/** A CEL rule with a fixed message, and where the API server reports its failure. */
export interface FieldRule extends FixedRule {
  /** Where a failure is reported, e.g. `spec.podspec.container`. */
  path: string;
}

/** At most this many entries in `spec.windows`. */
export const MAX_WINDOWS = 32;
/** Window names are at most this long. */
export const MAX_WINDOW_NAME_LENGTH = 63;

/** The rules of `spec.windows` (on the list) and of each window (on the entry). */
export const WINDOW_RULES = {
  uniqueNames: {
    rule: 'self.all(w, !has(w.name) || self.exists_one(v, has(v.name) && v.name == w.name))',
    // Not FieldValueDuplicate: the API server drops the message of that reason.
    reason: 'FieldValueInvalid',
    message: 'two windows have the same name: give each window a name of its own',
  },
  oneKind: {
    rule: 'has(self.noStartItem) != has(self.noRunItem)',
    reason: 'FieldValueInvalid',
    message: 'give exactly one of noStartItem (no item starts inside the window) and noRunItem (no item runs inside it)',
  },
  stopRunningNoRun: {
    rule: '!has(self.stopRunning) || !self.stopRunning || has(self.noRunItem)',
    reason: 'FieldValueInvalid',
    message: 'stopRunning applies to noRunItem windows only (a noStartItem window lets a running item finish)',
  },
} as const satisfies Record<string, FixedRule>;

/**
 * The OaatType checks of the original (made there only when an item was about to run), as CEL
 * rules whose messages both the API server and the runtime validator report.
 */
export const OAAT_TYPE_RULES = {
  typeIsPod: {
    path: 'spec.type',
    rule: "has(self.type) && self.type == 'pod'",
    reason: 'FieldValueInvalid',
    message: 'must be "pod" (the only kind of OaatType)',
  },
  podspecPresent: {
    path: 'spec.podspec',
    rule: 'has(self.podspec)',
    reason: 'FieldValueRequired',
    message: 'the pod spec of the item pods, with its one container in spec.podspec.container',
  },
  containerPresent: {
    path: 'spec.podspec.container',
    rule: 'has(self.container)',
    reason: 'FieldValueRequired',
    message: 'the container that runs an item (name, image, command, ...)',
  },
  noContainers: {
    path: 'spec.podspec.containers',
    rule: 'size(self) == 0',
    reason: 'FieldValueForbidden',
    message: 'an item pod has exactly one container: give it as spec.podspec.container',
  },
  noRestartPolicy: {
    path: 'spec.podspec.restartPolicy',
    rule: "self == ''",
    reason: 'FieldValueForbidden',
    message: 'item pods always run with restartPolicy Never',
  },
} as const satisfies Record<string, FieldRule>;

/** The rule as placed on the schema node it checks. */
const fixedRule = ({ rule, message, reason }: FixedRule): CelValidation => ({ rule, message, reason });

/**
 * The rule as placed on the schema node at path `at`: on its field itself, or on a parent with
 * the `fieldPath` that makes the API server report it at the rule's path.
 */
function celRule(rule: FieldRule, at: string): CelValidation {
  const placed = fixedRule(rule);
  if (rule.path === at) return placed;
  if (!rule.path.startsWith(`${at}.`)) throw new Error(`rule for ${rule.path} placed at ${at}`);
  return { ...placed, fieldPath: rule.path.slice(at.length) };
}

const text = (description: string): SchemaNode => ({ type: 'string', description });
const dateTime = (description: string): SchemaNode => ({ type: 'string', format: 'date-time', description });
const untyped = (description: string): SchemaNode => ({ 'x-kubernetes-preserve-unknown-fields': true, description });
const openObject = (description: string, extra: Partial<SchemaNode> = {}): SchemaNode => ({
  type: 'object',
  description,
  ...extra,
  'x-kubernetes-preserve-unknown-fields': true,
});

/** A duration-valued field (api/v1/duration.ts). */
function durationField(description: string, options: { allowZero?: boolean } = {}): SchemaNode {
  return { type: 'string', description, maxLength: MAX_DURATION_LENGTH, 'x-kubernetes-validations': [durationValidation(options)] };
}

const RUN_TRIGGERS = ['RunNow'] as const satisfies readonly RunTrigger[];
const NEXT_REASONS = ['Eligible', 'Frequency', 'CoolOff', 'RetryFloor', 'Backoff', 'Window', 'Paused', 'Complete'] as const satisfies readonly NextReason[];

/** A request annotation's handled value (services/item-requests.ts). */
function handledRequest(description: string): SchemaNode {
  return { type: 'object', description, required: ['handled'], properties: { handled: text('The annotation\'s value.') } };
}

const windowTime = (description: string): SchemaNode => ({
  type: 'object',
  description,
  required: ['time'],
  properties: {
    time: {
      type: 'string',
      description:
        'A time of day: H:MM, HH:MM or HH:MM:SS, optionally followed by a UTC offset (Z, +10:00, -0530), e.g. "02:00" or "02:00 +10:00". ' +
        'It lasts to the end of its minute (or second, when seconds are given).',
      maxLength: MAX_TIME_OF_DAY_LENGTH,
      'x-kubernetes-validations': [timeOfDayValidation()],
    },
  },
});

const windowSpan = (description: string): SchemaNode => ({
  type: 'object',
  description,
  required: ['start', 'end'],
  properties: {
    start: windowTime('When the window opens: from the start of this time.'),
    end: windowTime('When the window closes: to the end of this time (inclusive). An end before the start is on the next day.'),
  },
});

const timeZone = (description: string): SchemaNode => ({
  type: 'string',
  description,
  maxLength: MAX_TIME_ZONE_LENGTH,
  'x-kubernetes-validations': [timeZoneValidation()],
});

const timeWindow: SchemaNode = {
  type: 'object',
  description: 'One blackout window: a name and exactly one of noStartItem and noRunItem.',
  'x-kubernetes-validations': [fixedRule(WINDOW_RULES.oneKind), fixedRule(WINDOW_RULES.stopRunningNoRun)],
  properties: {
    name: {
      type: 'string',
      description: 'Names the window in conditions and events; unique in the group. Without one, a window is called windows[<index>].',
      minLength: 1,
      maxLength: MAX_WINDOW_NAME_LENGTH,
    },
    noStartItem: windowSpan('No item starts between start and end; an item already running finishes.'),
    noRunItem: windowSpan('No item runs between start and end: an item starts only if it is predicted to finish before the window opens.'),
    stopRunning: {
      type: 'boolean',
      description:
        'noRunItem only: stop an item still running when the window opens (outcome WindowStopped, not counted as a failure; a run-now run is never stopped). Default false: a running item finishes.',
    },
    timeZone: timeZone(
      'IANA time zone of start and end, e.g. "Europe/Berlin" (default: spec.timeZone, else UTC). A UTC offset written in the times wins. ' +
        'On a day the clocks skip a time, the window opens (or closes) when the clocks jump past it; when they repeat one, it lasts from the first time the clocks show its start to the last time they show its end.',
    ),
    days: {
      type: 'array',
      description: `The weekdays (${WEEKDAY_ENUM.join(', ')}) on which the window starts, in its time zone; a window past midnight ends on the next day. Default: every day.`,
      minItems: 1,
      maxItems: WEEKDAY_ENUM.length,
      items: { type: 'string', enum: WEEKDAY_ENUM, description: 'A weekday.' },
    },
  },
};

const oaatGroupSpec: SchemaNode = {
  type: 'object',
  description: 'The items of the group and how often each must succeed.',
  required: ['oaatType'],
  properties: {
    frequency: {
      type: 'string',
      description: 'How often each item must succeed, e.g. "1h", "1h30m", "2d 3h" (default "1h").',
      maxLength: MAX_DURATION_LENGTH,
      'x-kubernetes-validations': [durationValidation()],
    },
    failureCoolOff: {
      type: 'string',
      description: 'How long a failed item waits before it is tried again, e.g. "10m" (default: no cool-off).',
      maxLength: MAX_DURATION_LENGTH,
      'x-kubernetes-validations': [durationValidation({ allowZero: true })],
    },
    mode: {
      type: 'string',
      enum: ['Continuous', 'EachOnce'],
      description:
        'Continuous (the default): every item runs again when its frequency has passed. EachOnce: each item runs until it has succeeded once, then never again; condition Complete says when all have. Adding an item reopens the group.',
    },
    failureBackoff: {
      type: 'object',
      description:
        'Exponential backoff of a failing item: after n consecutive failures it waits min(max, base × multiplier^(n-1)), where base is failureCoolOff, else the operator\'s retry floor (1m). A success resets it.',
      properties: {
        multiplier: { type: 'integer', minimum: 2, maximum: 100, description: 'How much the wait grows with each further failure. Default 2.' },
        max: {
          type: 'string',
          description: 'The longest wait, e.g. "6h". Default "24h". A maximum below the base means no growth.',
          maxLength: MAX_DURATION_LENGTH,
          'x-kubernetes-validations': [durationValidation()],
        },
      },
    },
    runtimePrediction: {
      type: 'object',
      description:
        'How long an item is expected to run, so it starts only if it should end before a noRunItem window opens: the percentile of its past successful runtimes plus a margin (marginPercent of it, at least minBuffer), at most runTimeout.',
      properties: {
        percentile: { type: 'integer', minimum: 1, maximum: 100, description: 'Which percentile of the item\'s runtimes. Default 90.' },
        marginPercent: { type: 'integer', minimum: 0, maximum: 1000, description: 'The margin, in percent of that runtime. Default 50.' },
        minBuffer: durationField('The least margin, e.g. "5m" (the default; "0s": none).', { allowZero: true }),
        defaultRuntime: durationField('The runtime assumed for an item without history, e.g. "30m". Default: none; such an item may start, with a Warning Event.'),
      },
    },
    oaatType: {
      type: 'string',
      description: 'Name of the OaatType, in the same namespace, that says how to run an item.',
      minLength: 1,
      maxLength: MAX_NAME_LENGTH,
    },
    oaatItems: {
      type: 'array',
      description: 'The items; each runs in a pod of its own, one at a time. An item listed twice runs as one.',
      maxItems: MAX_ITEMS,
      items: { type: 'string', minLength: 1, maxLength: MAX_NAME_LENGTH },
    },
    oaatItemsFrom: {
      type: 'array',
      description: `More items, from keys of ConfigMaps in the group's namespace, added to oaatItems (at most ${String(MAX_ITEMS)} in all). The ConfigMaps must carry the label oaat.kawaja.net/items: "true".`,
      maxItems: 16,
      items: {
        type: 'object',
        description: 'One source of items.',
        required: ['configMapKeyRef'],
        properties: {
          configMapKeyRef: {
            type: 'object',
            description: 'The ConfigMap key holding the items.',
            required: ['name', 'key'],
            properties: {
              name: { type: 'string', minLength: 1, maxLength: MAX_NAME_LENGTH, description: 'The ConfigMap, in the group\'s namespace.' },
              key: { type: 'string', minLength: 1, maxLength: MAX_NAME_LENGTH, pattern: '^[-._a-zA-Z0-9]+$', description: 'The key of its data.' },
              optional: { type: 'boolean', description: 'A missing ConfigMap or key adds no items instead of stopping new runs. Default false.' },
            },
          },
          format: { type: 'string', enum: ['Lines', 'YAML'], description: 'Lines (default): one item a line, blank lines and # comments ignored. YAML: a list of strings.' },
        },
      },
    },
    windows: {
      type: 'array',
      description: 'Blackout windows: times of day when no item starts (noStartItem) or runs (noRunItem).',
      maxItems: MAX_WINDOWS,
      'x-kubernetes-validations': [fixedRule(WINDOW_RULES.uniqueNames)],
      items: timeWindow,
    },
    timeZone: timeZone('IANA time zone of the windows that name none, e.g. "Europe/Berlin" (default UTC).'),
    paused: { type: 'boolean', description: 'While true no new item starts; a running item finishes.' },
    runTimeout: {
      type: 'string',
      description:
        'An item pod running longer than this is stopped and its run recorded as TimedOut (a failure), e.g. "2h". It also sets the pod\'s activeDeadlineSeconds. Default: no limit.',
      maxLength: MAX_DURATION_LENGTH,
      'x-kubernetes-validations': [durationValidation()],
    },
    pendingTimeout: {
      type: 'string',
      description:
        'An item pod still Pending after this long (unschedulable, image pull errors) is deleted and its run recorded as a failure, so the group is not blocked forever, e.g. "15m". Default "1h".',
      maxLength: MAX_DURATION_LENGTH,
      'x-kubernetes-validations': [durationValidation()],
    },
    successfulPodsHistoryLimit: {
      type: 'integer',
      description: 'How many finished pods of successful runs are kept (the newest ones). Default 1.',
      minimum: 0,
      maximum: 100,
    },
    failedPodsHistoryLimit: {
      type: 'integer',
      description: 'How many finished pods of failed runs are kept (the newest ones). Default 3.',
      minimum: 0,
      maximum: 100,
    },
  },
};

const condition: SchemaNode = {
  type: 'object',
  description: 'A metav1.Condition.',
  required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
  properties: {
    type: {
      type: 'string',
      description: 'What the condition is about: Ready, Paused, DuplicateItems, Stuck, CreatesRefused.',
      maxLength: 316,
      pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
    },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'], description: 'True, False or Unknown.' },
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0, description: 'The spec generation the condition was set from.' },
    lastTransitionTime: { type: 'string', format: 'date-time', description: 'When the status last changed.' },
    reason: { type: 'string', minLength: 1, maxLength: 1024, pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$', description: 'Why, in CamelCase.' },
    message: { type: 'string', maxLength: 32768, description: 'Why, for people.' },
  },
};

const itemStatus: SchemaNode = {
  type: 'object',
  nullable: true,
  description: 'What is known about one item.',
  properties: {
    last_success: text('When the item last succeeded (RFC 3339).'),
    last_failure: text('When the item last failed (RFC 3339).'),
    retry_at: text('When a failing item may run again at the earliest (RFC 3339): its last failure plus the cool-off, retry floor or backoff.'),
    failure_count: { 'x-kubernetes-int-or-string': true, description: 'Failures since the last success.' },
    last_started: text('When the item last started (RFC 3339).'),
    podphase: text('Phase of the item at its last claim or close.'),
    last_run: {
      type: 'object',
      description: 'How the most recent run of the item ended.',
      required: ['id', 'outcome', 'finishedAt'],
      properties: {
        id: text('Run id.'),
        podUID: text('UID of the run\'s pod.'),
        outcome: { type: 'string', enum: RUN_OUTCOMES, description: `How it ended: ${RUN_OUTCOMES.join(', ')}.` },
        reason: text('Why, in a word or two.'),
        exitCode: { type: 'integer', format: 'int32', description: 'The container\'s exit code, when it ran.' },
        finishedAt: dateTime('When the run ended.'),
        trigger: { type: 'string', enum: RUN_TRIGGERS, description: 'RunNow when the run was requested by annotation.' },
      },
    },
    runtime: {
      type: 'object',
      description: 'Runtime statistics of the successful runs, in seconds.',
      required: ['count', 'total', 'sumSquares', 'min', 'max', 'sample'],
      properties: {
        count: { type: 'integer', format: 'int64', minimum: 0, description: 'Successful runs counted.' },
        total: { type: 'number', description: 'Sum of their runtimes.' },
        sumSquares: { type: 'number', description: 'Sum of the squares of their runtimes (for the deviation).' },
        min: { type: 'number', description: 'Shortest runtime.' },
        max: { type: 'number', description: 'Longest runtime.' },
        sample: { type: 'array', maxItems: MAX_RUNTIME_SAMPLE, description: `A uniform sample of up to ${String(MAX_RUNTIME_SAMPLE)} runtimes (for percentiles).`, items: { type: 'number' } },
        lastUpdated: dateTime('When the statistics last changed.'),
      },
    },
    runtime_count: untyped('Legacy (Python original), read once.'),
    runtime_total: untyped('Legacy (Python original), read once.'),
    runtime_sum_squares: untyped('Legacy (Python original), read once.'),
    runtime_min: untyped('Legacy (Python original), read once.'),
    runtime_max: untyped('Legacy (Python original), read once.'),
    runtime_sample: untyped('Legacy (Python original), read once.'),
    runtime_last_updated: untyped('Legacy (Python original), read once.'),
    last_verified: untyped('Legacy (Python original), not used.'),
  },
};

const oaatGroupStatus: SchemaNode = {
  type: 'object',
  description: 'Written by the operator through the status subresource.',
  properties: {
    currentRun: {
      type: 'object',
      nullable: true,
      description: 'The run this group has claimed and not yet closed (at most one).',
      required: ['id', 'item', 'podName', 'claimedAt'],
      properties: {
        id: text('Run id, part of the pod name.'),
        item: text('The item.'),
        podName: text('The pod of the run.'),
        claimedAt: dateTime('When the run was claimed.'),
        seq: { type: 'integer', format: 'int64', minimum: 1, description: 'The claim\'s number (status.runSeq after the claim).' },
        claimedBy: text('The operator incarnation that claimed the run: the only one that may create its pod.'),
        trigger: { type: 'string', enum: RUN_TRIGGERS, description: 'RunNow: claimed for an oaat.kawaja.net/run-now request. Absent: chosen by the selection.' },
      },
    },
    runNow: handledRequest('The last oaat.kawaja.net/run-now annotation value the operator acted on; another value is a new request.'),
    reset: handledRequest('The last oaat.kawaja.net/reset annotation value the operator acted on; another value is a new request.'),
    runSeq: { type: 'integer', format: 'int64', minimum: 0, description: 'The number of the last claim.' },
    createBackoff: {
      type: 'object',
      nullable: true,
      description: 'Pod creates the API server refused, and the backoff they caused.',
      required: ['refusals', 'message'],
      properties: {
        refusals: { type: 'integer', minimum: 0, description: 'Consecutive refused creates since a pod was last created.' },
        retryAt: dateTime('No claim before this time.'),
        message: text('The API server\'s last answer.'),
      },
    },
    conditions: {
      type: 'array',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
      maxItems: 32,
      description: 'Ready, Paused, DuplicateItems, Stuck and CreatesRefused: why the group runs, or does not.',
      items: condition,
    },
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0, description: 'The spec generation the status was written from.' },
    nextEligibleAt: { type: 'string', format: 'date-time', nullable: true, description: 'When the next item becomes eligible, while none is.' },
    next: {
      type: 'object',
      nullable: true,
      description: 'What is expected to start next, as of the last claim, close or spec change (never rewritten just because time passed).',
      required: ['reason'],
      properties: {
        reason: {
          type: 'string',
          enum: NEXT_REASONS,
          description: 'Eligible (it starts as soon as nothing runs), Frequency, CoolOff, RetryFloor or Backoff (what holds it until at), Window (a blackout window), Paused, Complete (EachOnce: every item succeeded).',
        },
        item: text('The item expected next.'),
        at: dateTime('From when it may start.'),
        window: text('The window holding it back, for reason Window.'),
      },
    },
    items: {
      type: 'object',
      description: 'Per item, by item name. Items no longer listed are pruned (see MAX_STATUS_ITEMS).',
      maxProperties: MAX_STATUS_ITEMS,
      additionalProperties: itemStatus,
    },
    handler_status: {
      type: 'object',
      description: 'A mirror of currentRun for printer columns (the original\'s layout).',
      properties: {
        state: text('idle or running.'),
        currently_running: { type: 'string', nullable: true, description: 'The item running now.' },
        pod: { type: 'string', nullable: true, description: 'The pod of the item running now.' },
        last_run: text('When the last run was claimed (RFC 3339).'),
        children: {
          type: 'array',
          nullable: true,
          description: 'Legacy (Python original): UIDs of the pods it started.',
          items: { type: 'string' },
        },
        loops: { type: 'integer', nullable: true, description: 'Legacy (Python original), not used.' },
      },
    },
  },
};

const oaatTypeSpec: SchemaNode = {
  type: 'object',
  description: 'How to run an item.',
  'x-kubernetes-validations': [
    celRule(OAAT_TYPE_RULES.typeIsPod, 'spec'),
    celRule(OAAT_TYPE_RULES.podspecPresent, 'spec'),
  ],
  properties: {
    type: text('Execution type; must be "pod".'),
    podspec: openObject(
      'A pod spec, except that its one container is given as "container"; every other field is copied into the item pods. ' +
        'In command, args and env values, {{oaat_item}} and %%oaat_item%% are replaced by the item.',
      {
        'x-kubernetes-validations': [celRule(OAAT_TYPE_RULES.containerPresent, 'spec.podspec')],
        properties: {
          container: openObject('The container that runs an item (a core/v1 Container).', { minProperties: 1 }),
          containers: {
            type: 'array',
            description: 'Not allowed: use container.',
            items: openObject('A container.'),
            'x-kubernetes-validations': [celRule(OAAT_TYPE_RULES.noContainers, 'spec.podspec.containers')],
          },
          restartPolicy: {
            type: 'string',
            description: 'Not allowed: item pods always run with restartPolicy Never.',
            'x-kubernetes-validations': [celRule(OAAT_TYPE_RULES.noRestartPolicy, 'spec.podspec.restartPolicy')],
          },
        },
      },
    ),
  },
};

/** The category of both kinds (`kubectl get oaat`). */
export const CATEGORY = 'oaat';

const AGE_COLUMN: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'How long ago it was created.' };

function customResourceDefinition(options: {
  kind: string;
  plural: string;
  shortNames?: readonly string[];
  description: string;
  spec: SchemaNode;
  status: SchemaNode;
  columns: readonly PrinterColumn[];
}): CustomResourceDefinition {
  const singular = options.kind.toLowerCase();
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${options.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind: options.kind,
        listKind: `${options.kind}List`,
        plural: options.plural,
        singular,
        ...(options.shortNames === undefined ? {} : { shortNames: options.shortNames }),
        // `kubectl get oaat` lists both kinds.
        categories: [CATEGORY],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          // Columns of our own replace kubectl's default Age: it comes back last.
          additionalPrinterColumns: [...options.columns, AGE_COLUMN],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: options.description,
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string', description: 'The API version of the object: kawaja.net/v1.' },
                kind: { type: 'string', description: `The kind of the object: ${options.kind}.` },
                // No description: the API server allows nothing but the type here (kubectl explain has ObjectMeta's own).
                metadata: { type: 'object' },
                spec: options.spec,
                status: options.status,
              },
            },
          },
        },
      ],
    },
  };
}

/** oaatgroups.kawaja.net (short name `og`). */
export const OAAT_GROUP_CRD = customResourceDefinition({
  kind: 'OaatGroup',
  plural: 'oaatgroups',
  shortNames: ['og'],
  description: 'A group of items run one at a time, each at a given frequency.',
  spec: oaatGroupSpec,
  status: oaatGroupStatus,
  columns: [
    {
      name: 'Ready',
      type: 'string',
      jsonPath: '.status.conditions[?(@.type=="Ready")].status',
      description: 'Whether the group can run its items.',
    },
    { name: 'State', type: 'string', jsonPath: '.status.handler_status.state', description: 'idle or running.' },
    {
      name: 'CurrentlyRunning',
      type: 'string',
      jsonPath: '.status.handler_status.currently_running',
      description: 'The item running now.',
    },
    { name: 'Pod', type: 'string', jsonPath: '.status.handler_status.pod', description: 'The pod of the item running now.' },
    { name: 'LastRun', type: 'date', jsonPath: '.status.handler_status.last_run', description: 'When the last run started.' },
    // A time, not an age: the API server shows a future date as "<invalid>".
    { name: 'Next', type: 'string', jsonPath: '.status.next.at', description: 'From when the next item may start (status.next says which and why).' },
  ],
});

/** oaattypes.kawaja.net (short name `oat`). */
export const OAAT_TYPE_CRD = customResourceDefinition({
  kind: 'OaatType',
  plural: 'oaattypes',
  shortNames: ['oat'],
  description: 'How the items of OaatGroups run: a pod template.',
  spec: oaatTypeSpec,
  status: openObject('Not written by the operator.'),
  columns: [{ name: 'Type', type: 'string', jsonPath: '.spec.type', description: 'Execution type.' }],
});

/** Both CRDs, in the order they are rendered and installed. */
export const CRDS: readonly CustomResourceDefinition[] = [OAAT_GROUP_CRD, OAAT_TYPE_CRD];
