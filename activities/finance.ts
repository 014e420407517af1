import type { ActivityDeps } from './deps';

/** Activities of the finance module: thin wrappers over its service (see modules/README.md). */
export function createFinanceActivities(_deps: ActivityDeps) {
  return {};
}

export type FinanceActivities = ReturnType<typeof createFinanceActivities>;
