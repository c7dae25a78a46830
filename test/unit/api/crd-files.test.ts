import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { crdFiles } from '../../../hack/gen-crds.ts';
import { CRDS } from '../../../src/api/v1/schema.ts';

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
