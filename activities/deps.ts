import type { Pool } from 'pg';
import type { Clock } from '../modules/shared/db';

/** What activities need from the outside world; each module's factory takes what it uses. */
export interface ActivityDeps {
  pool: Pool;
  /** Defaults to the system clock. */
  clock?: Clock;
}
