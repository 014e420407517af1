/**
 * Runs only the two isolation files, with two workers, so they are certain to run at the same time
 * (test/foundation/parallel-files.test.ts starts this run and checks it).
 */
const base = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: ['**/test/isolation/*.isolation.ts'],
  maxWorkers: 2,
};
