import type { Pool } from 'pg';
import { addDays, createReportsService } from '../modules/reports';
import type { Clock } from '../modules/shared/db';

export interface ReportsRollUpRequest {
  /** The store's zone (STORE_TIMEZONE), carried by the schedule that started the roll-up. */
  timeZone: string;
  /** A day to roll up (a re-run of any past day), or how many days before today (0 today, 1 the close). */
  day?: string;
  daysAgo?: number;
}

/** The report roll-ups: idempotent by their day (each day's rows are replaced in one transaction). */
export function createReportsActivities({ pool, clock }: { pool: Pool; clock?: Clock }) {
  return {
    async rollUpReports(request: ReportsRollUpRequest): Promise<{ day: string; week: string }> {
      const reports = createReportsService({ pool, timeZone: request.timeZone, clock });
      const day = request.day ?? addDays(reports.today(), -(request.daysAgo ?? 0));
      return reports.rollUpDay(day);
    },
  };
}

export type ReportsActivities = ReturnType<typeof createReportsActivities>;
