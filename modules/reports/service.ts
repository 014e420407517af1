import type { Pool, PoolClient } from 'pg';
import { systemClock, withTransaction, type Clock } from '../shared/db';
import { readAfterSales, rollUpAfterSales } from './after-sales';
import { dayOf, daySchema, timeZoneSchema, weekOfDay, weekSchema } from './days';
import { readFinance, rollUpFinance } from './finance';
import { readMembers, rollUpMembers } from './members';
import { readSales, rollUpSales } from './sales';
import { readStock, rollUpStock } from './stock';

export interface ReportsServiceDeps {
  pool: Pool;
  /** STORE_TIMEZONE: the zone business days are counted in. */
  timeZone: string;
  clock?: Clock;
}

/**
 * Reports (报表) rolled up from the order projection, the ledger, inventory, members and after-sales:
 * a read-only reporting model, the one place allowed to read other modules' tables (it never writes
 * them). Each report of a day is replaced in one transaction: re-running any day is idempotent.
 */
export function createReportsService({ pool, timeZone: zoneInput, clock = systemClock }: ReportsServiceDeps) {
  const timeZone = timeZoneSchema.parse(zoneInput);
  const today = () => dayOf(clock(), timeZone);

  return {
    timeZone,
    today,
    /** Rolls up every daily report of `day` and the stock week that contains it. */
    async rollUpDay(dayInput: string): Promise<{ day: string; week: string }> {
      const day = daySchema.parse(dayInput);
      const week = weekOfDay(day);
      // Two roll-ups of the same day (the schedule and a re-run) take turns: each replaces the day whole.
      const serialised = (key: string, work: (client: PoolClient) => Promise<void>) =>
        withTransaction(pool, async (client) => {
          await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [key]);
          await work(client);
        });
      for (const [name, rollUp] of [['sales', rollUpSales], ['members', rollUpMembers], ['after-sales', rollUpAfterSales], ['finance', rollUpFinance]] as const) {
        await serialised(`reports:${name}:${day}`, (client) => rollUp(client, day, timeZone));
      }
      await serialised(`reports:stock:${week}`, (client) => rollUpStock(client, week, timeZone, week === weekOfDay(today())));
      return { day, week };
    },
    sales: (day: string, topN?: number) => readSales(pool, daySchema.parse(day), topN),
    members: (day: string) => readMembers(pool, daySchema.parse(day)),
    stock: (week: string) => readStock(pool, weekSchema.parse(week)),
    afterSales: (day: string) => readAfterSales(pool, daySchema.parse(day)),
    finance: (day: string) => readFinance(pool, daySchema.parse(day)),
  };
}

export type ReportsService = ReturnType<typeof createReportsService>;
