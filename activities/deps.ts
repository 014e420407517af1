import type { Pool } from 'pg';
import type { PaymentProvider } from '../modules/finance/provider';
import type { Clock } from '../modules/shared/db';

/** What activities need from the outside world; each module's factory takes what it uses. */
export interface ActivityDeps {
  pool: Pool;
  /** Defaults to the system clock. */
  clock?: Clock;
  /** The payment provider; defaults to the sandbox provider on the same database. */
  payments?: PaymentProvider;
}
