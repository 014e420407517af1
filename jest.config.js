/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }],
  },
  // One PostgreSQL and one Temporal dev server for the whole run; each test file gets its own
  // database (cloned from a migrated template) and its own task queue (test/support/harness.ts).
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  testTimeout: 60_000,
  // Two cores here: two files at once keeps the servers responsive.
  maxWorkers: process.env.JEST_MAX_WORKERS ?? 2,
};
