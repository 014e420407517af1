import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { OpsActivities } from '../activities/ops';

const { recordSmokeTest } = proxyActivities<OpsActivities>({
  startToCloseTimeout: '30 seconds',
  summary: 'write a smoke-test row to PostgreSQL',
});

export interface SmokeTestResult {
  workflowId: string;
  recordedAt: string;
}

/** Proves a worker is polling and can reach PostgreSQL: ops can start it from the UI or CLI. */
export async function smokeTestWorkflow(message: string): Promise<SmokeTestResult> {
  const { workflowId } = workflowInfo();
  const { recordedAt } = await recordSmokeTest({ workflowId, message });
  return { workflowId, recordedAt };
}
