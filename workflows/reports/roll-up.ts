import { proxyActivities } from '@temporalio/workflow';
import type { ReportsActivities, ReportsRollUpRequest } from '../../activities/reports';

const { rollUpReports } = proxyActivities<ReportsActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 10 },
  summary: 'roll up the reports of a day',
});

/**
 * Rolls up the reports of one day: started by the schedules (today every hour, yesterday at the
 * daily close) or by ops for any past day. The activity picks the day from its clock, so a late
 * start of the close still closes the right day... as long as it runs on the day after.
 */
export async function reportsRollUpWorkflow(request: ReportsRollUpRequest): Promise<{ day: string; week: string }> {
  return rollUpReports(request);
}
