import type { OaatGroupSpec } from '../../../src/api/v1/types.ts';
import { type ConfigMapLookup, parseItems, sourcedItems } from '../../../src/services/item-sources.ts';

describe('parseItems', () => {
  it('Lines: one item a line, trimmed; blank lines and # comments ignored', () => {
    expect(parseItems('a\n  b  \r\n\n# not this\nc d\n', 'Lines')).toEqual({ items: ['a', 'b', 'c d'] });
  });

  it('YAML: a list of strings (JSON too); nothing for an empty value; an error otherwise', () => {
    expect(parseItems('- a\n- "b c"\n', 'YAML')).toEqual({ items: ['a', 'b c'] });
    expect(parseItems('["x", "y"]', 'YAML')).toEqual({ items: ['x', 'y'] });
    expect(parseItems('', 'YAML')).toEqual({ items: [] });
    expect(parseItems('a: 1', 'YAML')).toEqual({ error: 'not a YAML list of strings' });
    expect(parseItems('- 1\n- a', 'YAML')).toEqual({ error: 'not a YAML list of strings' });
    expect(parseItems('[unclosed', 'YAML')).toMatchObject({ error: expect.stringMatching(/^not YAML: /) as unknown });
  });
});

describe('sourcedItems', () => {
  const spec = (...sources: NonNullable<OaatGroupSpec['oaatItemsFrom']>): OaatGroupSpec => ({ oaatType: 't', oaatItems: ['a'], oaatItemsFrom: sources });
  const maps: Record<string, ConfigMapLookup> = {
    hosts: { state: 'found', data: { list: 'a\nb\nc\n', yaml: '- d\n- b\n', bad: 'x: 1', long: 'y'.repeat(254) } },
    unlabelled: { state: 'unlabelled' },
  };
  const lookup = (name: string): ConfigMapLookup => maps[name] ?? { state: 'missing' };

  it('adds the items of every source after spec.oaatItems, each once', () => {
    const result = sourcedItems(spec({ configMapKeyRef: { name: 'hosts', key: 'list' } }, { configMapKeyRef: { name: 'hosts', key: 'yaml' }, format: 'YAML' }), ['a'], lookup, true);
    expect(result).toEqual({ items: ['b', 'c', 'd'], problems: [] });
  });

  it('names the ConfigMap and key of each source it cannot read, and what to do', () => {
    const result = sourcedItems(
      spec(
        { configMapKeyRef: { name: 'gone', key: 'list' } },
        { configMapKeyRef: { name: 'hosts', key: 'nokey' } },
        { configMapKeyRef: { name: 'unlabelled', key: 'list' } },
        { configMapKeyRef: { name: 'hosts', key: 'bad' }, format: 'YAML' },
        { configMapKeyRef: { name: 'hosts', key: 'long' } },
        { configMapKeyRef: { name: 'gone', key: 'list', optional: true } },
        { configMapKeyRef: { name: 'hosts', key: 'nokey', optional: true } },
      ),
      ['a'],
      lookup,
      true,
    );
    expect(result.items).toEqual([]);
    expect(result.problems).toEqual([
      { path: 'spec.oaatItemsFrom[0]', message: 'ConfigMap gone key list: the ConfigMap does not exist (set optional: true to allow it)' },
      { path: 'spec.oaatItemsFrom[1]', message: 'ConfigMap hosts key nokey: the ConfigMap has no such key (set optional: true to allow it)' },
      { path: 'spec.oaatItemsFrom[2]', message: 'ConfigMap unlabelled key list: label the ConfigMap oaat.kawaja.net/items=true so the operator watches it' },
      { path: 'spec.oaatItemsFrom[3]', message: 'ConfigMap hosts key bad: not a YAML list of strings' },
      { path: 'spec.oaatItemsFrom[4]', message: `ConfigMap hosts key long: item "${'y'.repeat(40)}"... is not 1-253 characters` },
    ]);
  });

  it('holds the bound of 1,000 items with spec.oaatItems, and says when ConfigMaps are not read at all', () => {
    const many = { state: 'found', data: { list: Array.from({ length: 1_000 }, (_, i) => `i${String(i)}`).join('\n') } } as const;
    const result = sourcedItems(spec({ configMapKeyRef: { name: 'many', key: 'list' } }), ['a'], () => many, true);
    expect(result.problems).toEqual([{ path: 'spec.oaatItemsFrom', message: 'Too many: 1001 items with spec.oaatItems, at most 1000' }]);
    expect(sourcedItems(spec({ configMapKeyRef: { name: 'hosts', key: 'list' } }), ['a'], lookup, false).problems).toEqual([
      { path: 'spec.oaatItemsFrom[0]', message: 'ConfigMap hosts key list: this operator does not read ConfigMaps (chart value itemsFromConfigMaps.enabled, OAAT_CONFIGMAP_ITEMS)' },
    ]);
  });
});
