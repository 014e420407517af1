import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

/** The activities scheduled in one workflow task each, in order (from a workflow's history). */
export async function activityBatches(handle: WorkflowHandle): Promise<string[][]> {
  const history = await handle.fetchHistory();
  const batches: string[][] = [];
  let current: string[] = [];
  for (const event of history.events ?? []) {
    if (event.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) {
      if (current.length) batches.push(current);
      current = [];
    }
    if (event.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) current.push(event.activityTaskScheduledEventAttributes!.activityType!.name!);
  }
  if (current.length) batches.push(current);
  return batches;
}
