import type { Client } from '@temporalio/client';
import { writeFileSync } from 'node:fs';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';
import type { NoopPlan } from './noop-workflow';

const EventType = temporal.api.enums.v1.EventType;

/** What one workflow run cost Temporal, counted from its history by event type. */
export interface Shape {
  workflowTasks: number;
  activities: number;
  localActivities: number;
  timersFired: number;
  updates: number;
  signals: number;
  searchAttributeWrites: number;
  memoWrites: number;
  events: number;
  historyBytes: number;
  /** 'u'/'s' in the order the run received them. */
  messages: ('u' | 's')[];
  /** Activities scheduled before the first message ([0]), then after each message (before the next). */
  activitiesAfter: number[];
  /** Local activities (markers), counted the same way. */
  localActivitiesAfter: number[];
}

export async function shapeOf(client: Client, workflowId: string): Promise<Shape> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  // BENCH_HISTORY_OUT=<file>: the counted history as JSON, to see which events an order makes.
  if (process.env.BENCH_HISTORY_OUT) writeFileSync(`${process.env.BENCH_HISTORY_OUT}.${workflowId}.json`, historyToJSON(history));
  const shape: Shape = {
    workflowTasks: 0, activities: 0, localActivities: 0, timersFired: 0, updates: 0, signals: 0,
    searchAttributeWrites: 0, memoWrites: 0, events: events.length,
    historyBytes: temporal.api.history.v1.History.encode(history).finish().length,
    messages: [], activitiesAfter: [0], localActivitiesAfter: [0],
  };
  for (const event of events) {
    switch (event.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: shape.workflowTasks += 1; break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        shape.activities += 1;
        shape.activitiesAfter[shape.activitiesAfter.length - 1] += 1;
        break;
      case EventType.EVENT_TYPE_MARKER_RECORDED:
        // Patch markers are not local activities.
        if (event.markerRecordedEventAttributes?.markerName !== 'core_local_activity') break;
        shape.localActivities += 1;
        shape.localActivitiesAfter[shape.localActivitiesAfter.length - 1] += 1;
        break;
      case EventType.EVENT_TYPE_TIMER_FIRED: shape.timersFired += 1; break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: shape.updates += 1; shape.messages.push('u'); shape.activitiesAfter.push(0); shape.localActivitiesAfter.push(0); break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: shape.signals += 1; shape.messages.push('s'); shape.activitiesAfter.push(0); shape.localActivitiesAfter.push(0); break;
      case EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: shape.searchAttributeWrites += 1; break;
      case EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED: shape.memoWrites += 1; break;
      default: break;
    }
  }
  return shape;
}

/**
 * The no-op plan of an order's shape: its messages in order, its activities between them (those
 * before the first message run right after it, as the first message is the no-op's update-with-start),
 * its local activities, and `padTimers` to reach its workflow-task count (calibrated by a trial run).
 */
export function planFor(order: Shape, waitMs: number, padTimers = 0): NoopPlan {
  const messages = order.messages.length > 0 ? order.messages : (['u'] as ('u' | 's')[]);
  const blocks = (counts: number[], total: number) => {
    const after = messages.map((_, i) => counts[i + 1] ?? 0);
    // What ran before the first message (an order started without an update) joins the first block.
    after[0] += order.messages.length > 0 ? counts[0] ?? 0 : total;
    return after;
  };
  return {
    messages,
    activitiesAfter: blocks(order.activitiesAfter, order.activities),
    localActivitiesAfter: blocks(order.localActivitiesAfter, order.localActivities),
    padTimers,
    waitMs,
  };
}

export function describeShape(shape: Shape): string {
  return `${shape.workflowTasks} workflow tasks, ${shape.activities} activities, ${shape.localActivities} local activities, ` +
    `${shape.updates} updates, ${shape.signals} signals, ${shape.timersFired} timers fired, ${shape.searchAttributeWrites} SA / ${shape.memoWrites} memo writes, ` +
    `${shape.events} events, ${(shape.historyBytes / 1024).toFixed(1)} KB`;
}
