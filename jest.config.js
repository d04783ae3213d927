/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // Type-checking is `npm run build` (tsc --noEmit); ts-jest only transpiles, which keeps
    // the suite fast on two cores.
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
    '^.+\\.sql$': '<rootDir>/test/helpers/text-transform.cjs',
  },
  // Synthesizing a whole region and running cfn-lint over it takes tens of seconds.
  testTimeout: 180000,
  moduleFileExtensions: ['ts', 'js', 'json', 'sql'],
  // Two cores: one worker synthesizes while the other runs cfn-lint; more only thrashes.
  maxWorkers: 2,
  // PostgreSQL and moto_server on loopback for the handler tests (test/helpers/services.ts).
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
  setupFiles: ['<rootDir>/test/helpers/aws-env.ts'],
};
