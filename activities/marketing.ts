import type { ActivityDeps } from './deps';

/** Activities of the marketing module: thin wrappers over its service (see modules/README.md). */
export function createMarketingActivities(_deps: ActivityDeps) {
  return {};
}

export type MarketingActivities = ReturnType<typeof createMarketingActivities>;
