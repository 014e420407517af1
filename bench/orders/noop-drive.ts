import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import { noopSignal, noopUpdate, type NoopPlan } from './noop-workflow';
import type { Timed } from './drive';

/** One no-op "order": update-with-start (its placement), then its other messages in order, then its end. */
export async function driveNoop(temporal: Client, taskQueue: string, plan: NoopPlan, workflowId: string): Promise<Timed> {
  const started = Date.now();
  const start = new WithStartWorkflowOperation('noopOrderWorkflow', {
    workflowId,
    taskQueue,
    args: [plan],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
  });
  await temporal.workflow.executeUpdateWithStart(noopUpdate, { args: [1], startWorkflowOperation: start });
  const placementMs = Date.now() - started;
  const handle = await start.workflowHandle();
  for (let i = 1; i < plan.messages.length; i += 1) {
    if (plan.messages[i] === 'u') await handle.executeUpdate(noopUpdate, { args: [i + 1] });
    else await handle.signal(noopSignal, i + 1);
  }
  await handle.result();
  return { workflowIds: [workflowId], placementMs, lifeMs: [Date.now() - started] };
}
