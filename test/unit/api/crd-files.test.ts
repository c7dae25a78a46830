import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { crdFiles } from '../../../hack/gen-crds.ts';
import { CRDS, type SchemaNode } from '../../../src/api/v1/schema.ts';

const REPO = new URL('../../../', import.meta.url);

describe('config/crd', () => {
  it.each(crdFiles().map((file) => [file.path, file] as const))('%s is what hack/gen-crds.ts writes (run `npm run gen:crds`)', (path, file) => {
    expect(readFileSync(new URL(path, REPO), 'utf8')).toBe(file.text);
  });

  it('renders every CRD of schema.ts, losing nothing', () => {
    expect(crdFiles().map((file) => parse(file.text) as unknown)).toEqual(CRDS);
  });

  it('renders the same text every time', () => {
    expect(crdFiles()).toEqual(crdFiles());
  });
});

describe('kubectl explain', () => {
  /** Paths of the fields without a description; the items of an array of scalars are described by the array. */
  function undescribed(node: SchemaNode, path: string): string[] {
    const here = path !== '' && node.description === undefined ? [path] : [];
    const fields = Object.entries(node.properties ?? {}).flatMap(([key, child]) => undescribed(child, `${path}.${key}`));
    const values = node.additionalProperties === undefined ? [] : undescribed(node.additionalProperties, `${path}{}`);
    const items = node.items?.type === 'object' ? undescribed(node.items, `${path}[]`) : [];
    return [...here, ...fields, ...values, ...items];
  }

  it.each(CRDS.map((crd) => [crd.metadata.name, crd] as const))('%s describes every field but metadata (the API server allows only its type)', (_name, crd) => {
    expect(crd.spec.versions.flatMap((version) => undescribed(version.schema.openAPIV3Schema, ''))).toEqual(['.metadata']);
  });

  it('finds a field without a description', () => {
    expect(undescribed({ type: 'object', description: 'x', properties: { a: { type: 'object', description: 'a', properties: { b: { type: 'string' } } } } }, '')).toEqual(['.a.b']);
  });
});
