import { metricMeter, proxyActivities, upsertMemo, workflowInfo } from '@temporalio/workflow';
import type { FinanceActivities } from '../activities/finance';

const { reconcile } = proxyActivities<FinanceActivities>({
  // A bill download can be slow; a provider outage is retried for hours, then the run fails visibly.
  startToCloseTimeout: '10 minutes',
  scheduleToCloseTimeout: '12 hours',
  retry: { initialInterval: '30 seconds', backoffCoefficient: 2, maximumInterval: '30 minutes' },
  summary: "compare the provider's records of the day with the ledger",
});

export interface ReconciliationInput {
  /** A UTC calendar date (YYYY-MM-DD); unset: `daysBack` days before the run. */
  date?: string;
  /** 1 by default: a daily schedule reconciles yesterday, whose bill the provider has published. */
  daysBack?: number;
}

export interface ReconciliationSummary {
  date: string;
  reportId: number;
  status: 'CLEAN' | 'DIFFERENCES';
  differences: number;
}

export const RECONCILIATION_WORKFLOW = 'reconciliationWorkflow';
const DAY_MS = 86_400_000;

/**
 * One run of the daily reconciliation (started by the Temporal Schedule infra/reconciliation-schedule.ts
 * creates): the provider's transactions of the day against the journal, to the fen; the report and
 * every difference are stored (GET /admin/reconciliation?date=); the count is in the memo and the
 * `reconciliation_differences` gauge.
 */
export async function reconciliationWorkflow(input: ReconciliationInput = {}): Promise<ReconciliationSummary> {
  const date = input.date ?? new Date(Date.now() - (input.daysBack ?? 1) * DAY_MS).toISOString().slice(0, 10);
  const report = await reconcile({ idempotencyKey: `${workflowInfo().workflowId}:${date}`, date });
  upsertMemo({ reconciliationDate: date, reconciliationStatus: report.status, reconciliationDifferences: report.differences.length });
  // Exported with the worker's SDK metrics (a replay emits nothing): alert when it is above zero.
  metricMeter.createGauge('reconciliation_differences', 'int', 'differences found by the last reconciliation run').set(report.differences.length);
  return { date, reportId: report.reportId, status: report.status, differences: report.differences.length };
}
