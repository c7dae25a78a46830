/**
 * Items from ConfigMaps (`spec.oaatItemsFrom`, the original's roadmap #6): each source names a
 * key of a ConfigMap in the group's namespace and how its value lists items.
 *
 * - `Lines` (the default): one item a line; surrounding blanks are trimmed, blank lines and
 *   lines starting with `#` are ignored.
 * - `YAML`: a YAML (or JSON) list of strings.
 *
 * The group's items are `spec.oaatItems` and then every source's, each once, within the same
 * bounds as `spec.oaatItems` (1,000 items of 1-253 characters). A source that cannot be read
 * (ConfigMap or key missing unless `optional`, a ConfigMap the operator does not cache because
 * it lacks the label, a bad value, reading ConfigMaps switched off) is a problem naming the
 * ConfigMap and key: the group then starts nothing new, as with any invalid spec, and its
 * history is kept.
 */
import { parse } from 'yaml';
import { LABELS_ITEMS_SOURCE } from '../api/v1/keys.ts';
import { MAX_ITEMS, MAX_NAME_LENGTH } from '../api/v1/schema.ts';
import type { OaatGroupSpec } from '../api/v1/types.ts';
import type { Problem } from '../api/v1/validation.ts';

/** What a source's ConfigMap is, as the operator can tell. */
export type ConfigMapLookup =
  /** In the cache: its data. */
  | { readonly state: 'found'; readonly data: Readonly<Record<string, string>> }
  /** Not in the cache, but it exists: it lacks the label the cache selects by. */
  | { readonly state: 'unlabelled' }
  | { readonly state: 'missing' };

/** The items the sources add, and what stops reading them. */
export interface SourcedItems {
  /** Items of the sources read, in order, each once (spec.oaatItems's not repeated here). */
  readonly items: readonly string[];
  /** One per source that cannot be read; while any exists, nothing new starts. */
  readonly problems: readonly Problem[];
}

/** The items `text` lists in `format`, or why it lists none. */
export function parseItems(text: string, format: 'Lines' | 'YAML'): { items: string[] } | { error: string } {
  if (format === 'Lines') {
    return { items: text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#')) };
  }
  let value: unknown;
  try {
    value = parse(text);
  } catch (error) {
    return { error: `not YAML: ${(error as Error).message.split('\n')[0] ?? ''}` };
  }
  if (value === null || value === undefined) return { items: [] };
  if (!Array.isArray(value) || !value.every((entry) => typeof entry === 'string')) return { error: 'not a YAML list of strings' };
  return { items: value };
}

/**
 * Reads every source of `spec` through `lookup` (the ConfigMap named, in the group's
 * namespace), adding items not in `spec.oaatItems` (`listed`); `enabled`: whether this operator
 * reads ConfigMaps at all.
 */
export function sourcedItems(spec: OaatGroupSpec, listed: readonly string[], lookup: (name: string) => ConfigMapLookup, enabled: boolean): SourcedItems {
  const seen = new Set(listed);
  const items: string[] = [];
  const problems: Problem[] = [];
  (spec.oaatItemsFrom ?? []).forEach((source, index) => {
    const { name, key, optional } = source.configMapKeyRef;
    const path = `spec.oaatItemsFrom[${String(index)}]`;
    const where = `ConfigMap ${name} key ${key}`;
    if (!enabled) {
      problems.push({ path, message: `${where}: this operator does not read ConfigMaps (chart value itemsFromConfigMaps.enabled, OAAT_CONFIGMAP_ITEMS)` });
      return;
    }
    const configMap = lookup(name);
    if (configMap.state === 'unlabelled') {
      problems.push({ path, message: `${where}: label the ConfigMap ${LABELS_ITEMS_SOURCE.key}=${LABELS_ITEMS_SOURCE.value} so the operator watches it` });
      return;
    }
    const text = configMap.state === 'found' ? configMap.data[key] : undefined;
    if (text === undefined) {
      if (optional !== true) problems.push({ path, message: `${where}: ${configMap.state === 'missing' ? 'the ConfigMap does not exist' : 'the ConfigMap has no such key'} (set optional: true to allow it)` });
      return;
    }
    const parsed = parseItems(text, source.format ?? 'Lines');
    if ('error' in parsed) {
      problems.push({ path, message: `${where}: ${parsed.error}` });
      return;
    }
    // Characters, as the API server counts a string's maxLength (code points).
    const bad = parsed.items.find((item) => item === '' || Array.from(item).length > MAX_NAME_LENGTH);
    if (bad !== undefined) {
      problems.push({ path, message: `${where}: item ${JSON.stringify(bad.slice(0, 40))}${bad.length > 40 ? '...' : ''} is not 1-${String(MAX_NAME_LENGTH)} characters` });
      return;
    }
    for (const item of parsed.items) {
      if (seen.has(item)) continue;
      seen.add(item);
      items.push(item);
    }
  });
  if (listed.length + items.length > MAX_ITEMS) {
    problems.push({ path: 'spec.oaatItemsFrom', message: `Too many: ${String(listed.length + items.length)} items with spec.oaatItems, at most ${String(MAX_ITEMS)}` });
  }
  return { items, problems };
}
