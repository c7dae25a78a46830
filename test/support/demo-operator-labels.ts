/** The label the demo operator (demo-operator.ts) selects ConfigMaps by, and the annotation it stamps. */
export const DEMO_LABEL = 'runtime.test/demo';
export const STAMP = 'runtime.test/reconciled-by';
