import type { ActivityDeps } from './deps';

/** Activities of the inventory module: thin wrappers over its service (see modules/README.md). */
export function createInventoryActivities(_deps: ActivityDeps) {
  return {};
}

export type InventoryActivities = ReturnType<typeof createInventoryActivities>;
