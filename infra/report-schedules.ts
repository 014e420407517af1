import type { Config } from './config';
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import { retryWhileTemporalIsSlow } from './temporal-retry';

export interface ReportSchedulesOptions {
  taskQueue: string;
  timeZone: string;
  /** How often today's reports are rolled up (ms). */
  rollUpEveryMs: number;
  /** Local time (HH:MM in the store's zone) of the daily close of yesterday. */
  dailyCloseAt: string;
  /** Prefix of the schedule ids (tests give each file its own). */
  idPrefix?: string;
}

/** The two report schedules: today's figures every hour, and yesterday's close once a day. */
export function reportSchedules(options: ReportSchedulesOptions): ScheduleOptions[] {
  const prefix = options.idPrefix ?? 'reports';
  const [hour, minute] = options.dailyCloseAt.split(':').map(Number);
  const action = (workflowId: string, daysAgo: number) => ({
    type: 'startWorkflow' as const,
    workflowType: 'reportsRollUpWorkflow',
    workflowId,
    taskQueue: options.taskQueue,
    args: [{ timeZone: options.timeZone, daysAgo }],
  });
  return [
    {
      scheduleId: `${prefix}-rollup-today`,
      spec: { intervals: [{ every: options.rollUpEveryMs }] },
      action: action(`${prefix}-rollup-today`, 0),
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
    },
    {
      scheduleId: `${prefix}-daily-close`,
      spec: { calendars: [{ hour, minute }], timezone: options.timeZone },
      action: action(`${prefix}-daily-close`, 1),
      policies: { overlap: ScheduleOverlapPolicy.BUFFER_ONE, catchupWindow: '1 day' },
    },
  ];
}

/**
 * Creates the schedules at start, idempotently: one that exists already is brought up to date with
 * the current configuration (interval, close time, zone, task queue) instead of failing the start.
 */
export async function ensureReportSchedules(client: Client, options: ReportSchedulesOptions): Promise<string[]> {
  const ids: string[] = [];
  for (const schedule of reportSchedules(options)) {
    await retryWhileTemporalIsSlow(async () => {
      try {
        await client.schedule.create(schedule);
      } catch (error) {
        if (!(error instanceof ScheduleAlreadyRunning)) throw error;
        await client.schedule.getHandle(schedule.scheduleId).update((previous) => ({
          ...previous,
          spec: schedule.spec,
          action: schedule.action,
          policies: { ...previous.policies, ...schedule.policies },
        }));
      }
    });
    ids.push(schedule.scheduleId);
  }
  return ids;
}

export const reportSchedulesFromConfig = (config: Config): ReportSchedulesOptions => ({
  taskQueue: config.TASK_QUEUE,
  timeZone: config.STORE_TIMEZONE,
  rollUpEveryMs: config.REPORTS_ROLLUP_INTERVAL,
  dailyCloseAt: config.REPORTS_DAILY_CLOSE_AT,
});
