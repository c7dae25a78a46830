/**
 * The chart's CRD template is generated from config/crd/ (hack/gen-manifests.ts) and loses
 * nothing of it (that `helm template` renders exactly config/crd/'s CRDs, `{{oaat_item}}` of a
 * description included, is checked in test/chart).
 */
import { readFileSync } from 'node:fs';
import { crdTemplate } from '../../../hack/gen-manifests.ts';

const REPO = new URL('../../../', import.meta.url);

describe('the chart\'s CRD template', () => {
  const generated = crdTemplate();

  it(`${generated.path} is what hack/gen-manifests.ts writes (run \`npm run gen:manifests\`)`, () => {
    expect(readFileSync(new URL(generated.path, REPO), 'utf8')).toBe(generated.text);
  });

  it('renders only when crds.enabled, with the chart\'s labels and the keep policy when crds.keep', () => {
    const lines = generated.text.split('\n');
    expect(lines.filter((line) => line.startsWith('{{'))).toEqual(['{{- if .Values.crds.enabled }}', '{{- end }}']);
    expect(lines.filter((line) => line === '    {{- include "oaat-operator.labels" . | nindent 4 }}')).toHaveLength(2);
    expect(lines.filter((line) => line === '  {{- if .Values.crds.keep }}')).toHaveLength(2);
  });
});
