import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { CHART_DIR, crdCopies } from '../../../hack/gen-manifests.ts';

const REPO = new URL('../../../', import.meta.url);

describe(`${CHART_DIR}/crds`, () => {
  it.each(crdCopies().map((file) => [file.path, file] as const))('%s is what hack/gen-manifests.ts writes (run `npm run gen:manifests`)', (path, file) => {
    expect(readFileSync(new URL(path, REPO), 'utf8')).toBe(file.text);
  });

  it('holds a copy of every CRD of config/crd and nothing else', () => {
    expect(readdirSync(new URL(`${CHART_DIR}/crds/`, REPO)).sort()).toEqual(readdirSync(new URL('config/crd/', REPO)).sort());
  });

  it('copies lose nothing: each parses to its source CRD', () => {
    for (const file of crdCopies()) {
      const source = readFileSync(new URL(file.path.replace(`${CHART_DIR}/crds/`, 'config/crd/'), REPO), 'utf8');
      expect(parse(file.text)).toEqual(parse(source));
    }
  });
});
