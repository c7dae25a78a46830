// Two projects: `unit` (pure code, no I/O) and `integration` (a real control plane, started
// once per run by test/support/global-setup.ts at the tier OAAT_TEST_TIER names, default T2).
// TypeScript is compiled by swc to CommonJS (relative imports name the .ts files, which tsc
// rewrites to .js for dist/); ESM-only dependencies load through require(esm), which Jest
// offers on Node >= 24.9 when vm modules are enabled (the npm scripts pass
// --experimental-vm-modules).
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript' },
      target: 'es2023',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swc },
  clearMocks: true,
};

export default {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/support/integration-setup.ts'],
      slowTestThreshold: 30,
    },
    // `chart`: the Helm chart offline (helm lint/template, schema, generated manifests), the
    // checks of `make release` and actionlint of .github/workflows; the global setup builds or
    // finds helm and actionlint (hack/tools.sh helm-path, actionlint-path).
    {
      ...common,
      displayName: 'chart',
      testMatch: ['<rootDir>/test/chart/**/*.test.ts'],
      globalSetup: '<rootDir>/test/chart/global-setup.ts',
    },
    // `e2e`: the chart installed into a T2 control plane and the operator run as a local
    // process with the chart's settings and ServiceAccount (`make e2e-local`).
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
      globalSetup: '<rootDir>/test/e2e/global-setup.ts',
      globalTeardown: '<rootDir>/test/e2e/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/support/integration-setup.ts'],
      slowTestThreshold: 60,
    },
  ],
};
