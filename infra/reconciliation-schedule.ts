import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type { ReconciliationInput, reconciliationWorkflow } from '../workflows/reconciliation';
import { retryWhileTemporalIsSlow } from './temporal-retry';

export interface ReconciliationScheduleOptions {
  scheduleId: string;
  taskQueue: string;
  /** Cron (UTC), e.g. "0 3 * * *": after the provider published yesterday's bill. */
  cron: string;
  daysBack: number;
}

export const reconciliationScheduleId = (taskQueue: string) => `daily-reconciliation-${taskQueue}`;

/**
 * Creates the daily reconciliation schedule, or brings an existing one to this configuration:
 * every start of the engine calls it, any number of processes may (`temporal schedule list` shows it).
 */
export async function ensureReconciliationSchedule(client: Client, options: ReconciliationScheduleOptions): Promise<void> {
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'reconciliationWorkflow',
    workflowId: options.scheduleId,
    taskQueue: options.taskQueue,
    args: [{ daysBack: options.daysBack } satisfies ReconciliationInput] as [ReconciliationInput],
    staticSummary: 'Daily reconciliation: provider records against the ledger',
  };
  const spec = { cronExpressions: [options.cron] };
  // A missed run (cluster down) still runs within a day; two runs never overlap.
  const policies: { overlap: ScheduleOverlapPolicy; catchupWindow: Duration } = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' };
  await retryWhileTemporalIsSlow(async () => {
    try {
      await client.schedule.create<typeof reconciliationWorkflow>({ scheduleId: options.scheduleId, spec, action, policies });
    } catch (error) {
      if (!(error instanceof ScheduleAlreadyRunning)) throw error;
      await client.schedule.getHandle(options.scheduleId).update<typeof reconciliationWorkflow>((previous) => ({ ...previous, spec, action, policies }));
    }
  });
}
