import type { Pool } from 'pg';
import { createOpsActivities } from './ops';

/** What activities need from the outside world; each module's factory takes its part of it. */
export interface ActivityDeps {
  pool: Pool;
}

/** Every activity the engine's workers serve, built from their dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createOpsActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
