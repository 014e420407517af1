import type { ActivityDeps } from './deps';

/** Activities of the catalog module: thin wrappers over its service (see modules/README.md). */
export function createCatalogActivities(_deps: ActivityDeps) {
  return {};
}

export type CatalogActivities = ReturnType<typeof createCatalogActivities>;
