/**
 * The runtime twin of the CRD schemas in schema.ts: the same rules, checked by the operator on
 * what it reads, because the API server validates an object only when it is written (objects
 * stored before a rule existed, or under the Python original's open schemas, are never
 * re-validated).
 *
 * The checks are driven by the spec schemas themselves: one walker applies every structural
 * constraint they use ({@link SUPPORTED_KEYWORDS}), and every CEL rule has a twin here, looked
 * up by its rule text. A spec schema with a keyword the walker does not know, or a rule without
 * a twin, is a programming error: this module then throws when it loads. Status is not checked
 * (the operator writes it; the API server validates every status write). As the API
 * server does, absent and null fields are left alone unless required (it drops nulls of
 * non-nullable fields), fields the schema does not declare are ignored (it prunes them), and a
 * value's CEL rules are judged only when the value passed its structural checks.
 */
import { parseDuration, durationValidation, type ParseDurationOptions } from './duration.ts';
import {
  OAAT_GROUP_CRD,
  OAAT_TYPE_CRD,
  OAAT_TYPE_RULES,
  WINDOW_RULES,
  type CelValidation,
  type CustomResourceDefinition,
  type FixedRule,
  type RuleReason,
  type SchemaNode,
} from './schema.ts';
import { checkTimeZoneName, isKnownTimeZone, parseTimeOfDay, timeOfDayValidation, timeZoneValidation, UNKNOWN_TIME_ZONE } from './time-of-day.ts';

/** One thing wrong with an object: where (a field path such as `spec.oaatItems[3]`), and what to do. */
export interface Problem {
  path: string;
  message: string;
}

/** The result of {@link validateGroupSpec}. */
export interface GroupSpecReport {
  /** Problems the API server would reject: while any exists, no new item may start. */
  errors: Problem[];
  /** Accepted but worth telling (items listed more than once). */
  warnings: Problem[];
  /** The valid item names, each once, in the order first listed. */
  items: string[];
  /** The item names listed more than once, each once. */
  duplicates: string[];
}

/** How a CEL rule's twin judges `self` (the value at the rule's node): a message, or undefined when it holds. */
type RuleTwin = (self: unknown) => string | undefined;

/** How the API server introduces a rule's message, by the rule's reason. */
const REASON_PREFIX: Record<RuleReason, string> = {
  FieldValueInvalid: '',
  FieldValueRequired: 'Required value: ',
  FieldValueForbidden: 'Forbidden: ',
};

/** The twin of a fixed-message rule: its message (introduced as the API server does) when `holds` is false. */
function fieldRule(rule: FixedRule, holds: (self: unknown) => boolean): [string, RuleTwin] {
  return [rule.rule, (self) => (holds(self) ? undefined : `${REASON_PREFIX[rule.reason]}${rule.message}`)];
}

/** The twin of a rule whose message is what `parse` throws for `self` (a string). */
function parserRule(validation: CelValidation, parse: (text: string) => unknown): [string, RuleTwin] {
  return [
    validation.rule,
    (self) => {
      if (typeof self !== 'string') return undefined;
      try {
        parse(self);
        return undefined;
      } catch (error) {
        return (error as Error).message;
      }
    },
  ];
}

/** The twin of a duration rule: parseDuration's message, which is the rule's message too. */
const durationRule = (options: ParseDurationOptions): [string, RuleTwin] => parserRule(durationValidation(options), (text) => parseDuration(text, options));

/** The name of each named window, by index. */
const windowNames = (windows: unknown): (string | undefined)[] =>
  Array.isArray(windows) ? windows.map((window) => (isObject(window) && typeof window.name === 'string' ? window.name : undefined)) : [];

/** Whether no two windows have the same name. */
function uniqueNames(windows: unknown): boolean {
  const names = windowNames(windows).filter((name) => name !== undefined);
  return new Set(names).size === names.length;
}

/** CEL's `has(self.<name>)`: the field is there and not null (the API server drops nulls). */
const has = (self: unknown, name: string): boolean => isObject(self) && self[name] !== undefined && self[name] !== null;

/** Every CEL rule of schema.ts, by rule text, with its runtime twin. */
const TWINS = new Map<string, RuleTwin>([
  durationRule({}),
  durationRule({ allowZero: true }),
  fieldRule(OAAT_TYPE_RULES.typeIsPod, (spec) => isObject(spec) && spec.type === 'pod'),
  fieldRule(OAAT_TYPE_RULES.podspecPresent, (spec) => has(spec, 'podspec')),
  fieldRule(OAAT_TYPE_RULES.containerPresent, (podspec) => has(podspec, 'container')),
  fieldRule(OAAT_TYPE_RULES.noContainers, (containers) => Array.isArray(containers) && containers.length === 0),
  fieldRule(OAAT_TYPE_RULES.noRestartPolicy, (restartPolicy) => restartPolicy === ''),
  parserRule(timeOfDayValidation(), parseTimeOfDay),
  parserRule(timeZoneValidation(), checkTimeZoneName),
  fieldRule(WINDOW_RULES.uniqueNames, uniqueNames),
  fieldRule(WINDOW_RULES.oneKind, (window) => has(window, 'noStartItem') !== has(window, 'noRunItem')),
  fieldRule(WINDOW_RULES.stopRunningNoRun, (window) => !isObject(window) || window.stopRunning !== true || has(window, 'noRunItem')),
]);

/** The twin of a schema rule; throws for a rule without one (a programming error). */
function twinOf(validation: CelValidation): RuleTwin {
  const twin = TWINS.get(validation.rule);
  if (twin === undefined) throw new Error(`schema rule without a runtime twin: ${validation.rule}`);
  return twin;
}

/** The schema keywords {@link check} applies (or, like `description`, that need nothing). */
const SUPPORTED_KEYWORDS = new Set<string>([
  'type',
  'description',
  'nullable',
  'enum',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'minItems',
  'maxItems',
  'minProperties',
  'required',
  'properties',
  'additionalProperties',
  'items',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-int-or-string',
  'x-kubernetes-validations',
]);

/** `node` and every node below it. */
function* nodesOf(node: SchemaNode): Generator<SchemaNode> {
  yield node;
  for (const child of [...Object.values(node.properties ?? {}), node.items, node.additionalProperties]) {
    if (child !== undefined) yield* nodesOf(child);
  }
}

/** Throws unless {@link check} mirrors every constraint of `schema` and below. */
function assertMirrored(schema: SchemaNode): void {
  for (const node of nodesOf(schema)) {
    const unknown = Object.keys(node).filter((keyword) => !SUPPORTED_KEYWORDS.has(keyword));
    if (unknown.length > 0) throw new Error(`the runtime validator does not apply ${unknown.join(', ')}`);
    for (const validation of node['x-kubernetes-validations'] ?? []) twinOf(validation);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Length in characters (code points), as the API server counts `maxLength`. */
const characters = (text: string): number => Array.from(text).length;

const TYPE_CHECKS: Record<NonNullable<SchemaNode['type']>, (value: unknown) => boolean> = {
  object: isObject,
  array: Array.isArray,
  string: (value) => typeof value === 'string',
  integer: Number.isInteger,
  number: (value) => typeof value === 'number' && Number.isFinite(value),
  boolean: (value) => typeof value === 'boolean',
};

/** Whether `value` has the type `node` declares (anything, when it declares none). */
function hasType(node: SchemaNode, value: unknown): boolean {
  if (node['x-kubernetes-int-or-string'] === true) return typeof value === 'string' || Number.isInteger(value);
  return node.type === undefined || TYPE_CHECKS[node.type](value);
}

/** Problems of `value`, present at `path`, against `node` and everything below it. */
function check(node: SchemaNode, value: unknown, path: string, problems: Problem[]): void {
  if (!hasType(node, value)) {
    const expected = node['x-kubernetes-int-or-string'] === true ? 'an integer or a string' : `of type ${node.type ?? ''}`;
    problems.push({ path, message: `Invalid value: must be ${expected}` });
    return;
  }
  const before = problems.length;
  if (typeof value === 'string') checkString(node, value, path, problems);
  if (typeof value === 'number') checkNumber(node, value, path, problems);
  if (Array.isArray(value) && node.minItems !== undefined && value.length < node.minItems) {
    problems.push({ path, message: `Too few: ${value.length} items, at least ${node.minItems} ${node.minItems === 1 ? 'is' : 'are'} required` });
  }
  if (Array.isArray(value) && node.maxItems !== undefined && value.length > node.maxItems) {
    problems.push({ path, message: `Too many: ${value.length} items, at most ${node.maxItems} are allowed` });
  }
  if (isObject(value)) checkFields(node, value, path, problems);
  const valid = problems.length === before;
  const items = node.items;
  if (Array.isArray(value) && items !== undefined) value.forEach((item, index) => { checkPresent(items, item, `${path}[${index}]`, problems); });
  if (isObject(value)) checkProperties(node, value, path, problems);
  if (!valid) return;
  for (const validation of node['x-kubernetes-validations'] ?? []) {
    const message = twinOf(validation)(value);
    if (message !== undefined) problems.push({ path: `${path}${validation.fieldPath ?? ''}`, message });
  }
}

function checkNumber(node: SchemaNode, value: number, path: string, problems: Problem[]): void {
  if (node.minimum !== undefined && value < node.minimum) {
    problems.push({ path, message: `Invalid value: ${String(value)}: must be greater than or equal to ${String(node.minimum)}` });
  }
  if (node.maximum !== undefined && value > node.maximum) {
    problems.push({ path, message: `Invalid value: ${String(value)}: must be less than or equal to ${String(node.maximum)}` });
  }
}

function checkString(node: SchemaNode, value: string, path: string, problems: Problem[]): void {
  const length = characters(value);
  if (node.minLength !== undefined && length < node.minLength) {
    problems.push({ path, message: node.minLength === 1 ? 'Invalid value: must not be empty' : `Too short: at least ${node.minLength} characters` });
  }
  if (node.maxLength !== undefined && length > node.maxLength) {
    problems.push({ path, message: `Too long: ${length} characters, at most ${node.maxLength} are allowed` });
  }
  if (node.enum !== undefined && !node.enum.includes(value)) {
    problems.push({ path, message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${node.enum.map((v) => JSON.stringify(v)).join(', ')}` });
  }
  if (node.pattern !== undefined && !new RegExp(node.pattern).test(value)) {
    problems.push({ path, message: `Invalid value: ${JSON.stringify(value)}: must match ${node.pattern}` });
  }
}

/** The checks of an object's own fields: how many, which are required. */
function checkFields(node: SchemaNode, value: Record<string, unknown>, path: string, problems: Problem[]): void {
  if (node.minProperties !== undefined && Object.keys(value).length < node.minProperties) {
    problems.push({ path, message: `Invalid value: must have at least ${node.minProperties} field${node.minProperties === 1 ? '' : 's'}` });
  }
  for (const name of node.required ?? []) {
    if (!has(value, name)) problems.push({ path: childPath(path, name), message: 'Required value' });
  }
}

/** `name` under `path`. */
const childPath = (path: string, name: string): string => (path === '' ? name : `${path}.${name}`);

/** The checks of an object's declared properties and, with additionalProperties, of every entry. */
function checkProperties(node: SchemaNode, value: Record<string, unknown>, path: string, problems: Problem[]): void {
  for (const [name, property] of Object.entries(node.properties ?? {})) checkPresent(property, value[name], childPath(path, name), problems);
  const additional = node.additionalProperties;
  if (additional !== undefined) {
    for (const [key, entry] of Object.entries(value)) checkPresent(additional, entry, childPath(path, key), problems);
  }
}

/** {@link check} for a value that may be absent, or null (allowed when nullable, otherwise treated as absent). */
function checkPresent(node: SchemaNode, value: unknown, path: string, problems: Problem[]): void {
  if (value === undefined || value === null) return;
  check(node, value, path, problems);
}

function rootSchema(crd: CustomResourceDefinition): SchemaNode {
  const version = crd.spec.versions[0];
  if (version === undefined) throw new Error(`${crd.metadata.name} has no version`);
  return version.schema.openAPIV3Schema;
}

/** The `spec` schema under a root schema. */
function specOf(root: SchemaNode): SchemaNode {
  const spec = root.properties?.spec;
  if (spec === undefined) throw new Error('a root schema without spec');
  return spec;
}

const GROUP_SCHEMA = rootSchema(OAAT_GROUP_CRD);
const TYPE_SCHEMA = rootSchema(OAAT_TYPE_CRD);
for (const schema of [GROUP_SCHEMA, TYPE_SCHEMA]) assertMirrored(specOf(schema));

/** The fields of the group spec that the windows are made of. */
const WINDOW_FIELDS = ['windows', 'timeZone'] as const;

/** The path of window `index`. */
const windowPath = (index: number): string => `spec.windows[${index}]`;

/** Whether `path` is `under` or below it. */
const isAtOrBelow = (path: string, under: string): boolean => path === under || path.startsWith(`${under}.`);

/**
 * How messages call window `index`: by its name, quoted, or (the original's windows have none)
 * `windows[<index>]`.
 */
export function windowLabel(windows: unknown, index: number): string {
  const name = windowNames(windows)[index];
  return name === undefined ? `windows[${index}]` : JSON.stringify(name);
}

/** The two times of a window with a valid structure: its span's start and end texts, and the span's path. */
function windowTimes(window: Record<string, unknown>, path: string): { start: string; end: string; path: string } | undefined {
  for (const kind of ['noStartItem', 'noRunItem']) {
    const span = window[kind];
    if (!isObject(span) || !isObject(span.start) || !isObject(span.end)) continue;
    const { time: start } = span.start;
    const { time: end } = span.end;
    if (typeof start === 'string' && typeof end === 'string') return { start, end, path: `${path}.${kind}` };
  }
  return undefined;
}

/**
 * The window rules the CRD cannot express, for windows and zones free of structural problems
 * (`reported`): every time zone is one the operator knows, and a window's start and end give
 * the same UTC offset, or none.
 */
function semanticWindowProblems(spec: Record<string, unknown>, reported: readonly Problem[]): Problem[] {
  const problems: Problem[] = [];
  const clean = (path: string): boolean => !reported.some((problem) => isAtOrBelow(problem.path, path));
  const checkZone = (zone: unknown, path: string): void => {
    if (typeof zone === 'string' && clean(path) && !isKnownTimeZone(zone)) problems.push({ path, message: `${JSON.stringify(zone)} ${UNKNOWN_TIME_ZONE}` });
  };
  checkZone(spec.timeZone, 'spec.timeZone');
  const windows = Array.isArray(spec.windows) ? (spec.windows as unknown[]) : [];
  windows.forEach((window, index) => {
    const path = windowPath(index);
    if (!isObject(window) || !clean(path)) return;
    checkZone(window.timeZone, `${path}.timeZone`);
    const times = windowTimes(window, path);
    if (times === undefined) return;
    if (parseTimeOfDay(times.start).offsetMinutes !== parseTimeOfDay(times.end).offsetMinutes) {
      problems.push({
        path: `${times.path}.end.time`,
        message: `Invalid value: ${JSON.stringify(times.end)}: give start and end the same UTC offset, or none (the start is ${JSON.stringify(times.start)})`,
      });
    }
  });
  return problems;
}

/**
 * `problems` with the window checks the CRD cannot make added, and the messages of the problems
 * of a window introduced with its {@link windowLabel}.
 */
function withWindowChecks(spec: unknown, problems: Problem[]): Problem[] {
  if (!isObject(spec)) return problems;
  return [...problems, ...semanticWindowProblems(spec, problems)].map((problem) => {
    const index = /^spec\.windows\[(\d+)\]/.exec(problem.path)?.[1];
    return index === undefined ? problem : { ...problem, message: `window ${windowLabel(spec.windows, Number(index))}: ${problem.message}` };
  });
}

/**
 * The problems of an OaatGroup spec's blackout windows and time zone (`spec.windows`,
 * `spec.timeZone`): the part of {@link validateGroupSpec}'s errors at or below those fields, the
 * same messages. A window's problems name it ({@link windowLabel}).
 */
export function validateWindows(spec: unknown): Problem[] {
  const problems: Problem[] = [];
  if (isObject(spec)) {
    const fields = specOf(GROUP_SCHEMA).properties ?? {};
    for (const field of WINDOW_FIELDS) {
      const node = fields[field];
      if (node !== undefined) checkPresent(node, spec[field], `spec.${field}`, problems);
    }
  }
  return withWindowChecks(spec, problems);
}
/** The most duplicate names a warning lists. */
const LISTED_DUPLICATES = 10;

/**
 * Checks an OaatGroup's `spec` (absent or null: `spec` is required) against the schema's rules,
 * and de-duplicates its items. Errors are what the API server would reject, and what it cannot
 * know (a time zone the operator does not know, a window with different offsets at its ends);
 * a window's errors name it. Duplicates are accepted (the original allowed them) and reported
 * as one warning.
 */
export function validateGroupSpec(spec: unknown): GroupSpecReport {
  const structural: Problem[] = [];
  check(GROUP_SCHEMA, { spec }, '', structural);
  const errors = withWindowChecks(spec, structural);
  const listed = isObject(spec) && Array.isArray(spec.oaatItems) ? (spec.oaatItems as unknown[]) : [];
  const itemProblems = new Set(errors.filter((p) => p.path.startsWith('spec.oaatItems[')).map((p) => p.path));
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  listed.forEach((item, index) => {
    if (typeof item !== 'string' || itemProblems.has(`spec.oaatItems[${index}]`)) return;
    if (seen.has(item)) duplicates.add(item);
    seen.add(item);
  });
  const warnings: Problem[] = [];
  if (duplicates.size > 0) {
    const names = [...duplicates].slice(0, LISTED_DUPLICATES).map((name) => JSON.stringify(name));
    const more = duplicates.size > LISTED_DUPLICATES ? ` and ${duplicates.size - LISTED_DUPLICATES} more` : '';
    warnings.push({
      path: 'spec.oaatItems',
      message: `Duplicate value: ${names.join(', ')}${more} listed more than once; each runs as one item`,
    });
  }
  return { errors, warnings, items: [...seen], duplicates: [...duplicates] };
}

/**
 * Checks an OaatType object (its `spec`, required) against the schema's rules: the original's
 * checks (type "pod", a podspec with one `container`, no `containers`, no `restartPolicy`)
 * and the structural ones. An empty list means the API server would accept it.
 */
export function validateOaatType(oaatType: unknown): Problem[] {
  const problems: Problem[] = [];
  const spec = isObject(oaatType) ? oaatType.spec : undefined;
  check(TYPE_SCHEMA, { spec }, '', problems);
  return problems;
}
