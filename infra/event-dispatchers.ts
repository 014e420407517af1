import type { Client } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import type { Pool } from 'pg';
import { subscriberNetworkPolicy, type SubscriberNetworkPolicy } from '../modules/events/subscriber-network';
import { createSubscriptionService } from '../modules/events/subscriptions';
import type { EventConsumer } from '../modules/events/types';
import type { Config } from './config';
import { DISPATCHER_WORKFLOW, dispatcherWorkflowId, replayEventsSignal, wakeDispatcherSignal, type DispatcherInput, type DispatchTiming } from '../workflows/events/definitions';

export interface EventDeliverySettings {
  timing: DispatchTiming;
  defaultMaxAttempts: number;
  /** Where webhook subscribers may be; undefined: anywhere (development, tests). */
  network?: SubscriberNetworkPolicy;
}

/** The defaults of infra/config.ts (EVENTS_*), for callers built without a config (tests). */
export const DEFAULT_EVENT_DELIVERY: EventDeliverySettings = {
  timing: { pollMs: 2_000, retryInitialMs: 1_000, retryMaxMs: 600_000 },
  defaultMaxAttempts: 12,
};

export function eventDeliveryFromConfig(config: Config): EventDeliverySettings {
  return {
    timing: { pollMs: config.EVENTS_DISPATCH_POLL, retryInitialMs: config.EVENTS_RETRY_INITIAL, retryMaxMs: config.EVENTS_RETRY_MAX },
    defaultMaxAttempts: config.EVENTS_MAX_ATTEMPTS,
    // Production: public addresses and the listed networks only. Elsewhere only when networks are listed.
    network:
      config.NODE_ENV === 'production' || config.EVENTS_SUBSCRIBER_NETWORKS !== undefined
        ? subscriberNetworkPolicy((config.EVENTS_SUBSCRIBER_NETWORKS ?? '').split(',').map((cidr) => cidr.trim()).filter(Boolean))
        : undefined,
  };
}

/**
 * Makes sure the subscription's dispatcher runs and tells it something changed (a wake, or a
 * replay): signal-with-start, so this is safe from any number of API and worker processes at once
 * (one workflow id per subscription: at most one runs).
 */
export async function kickDispatcher(
  client: Client,
  options: { taskQueue: string; subscriptionId: string; timing: DispatchTiming; replayFromSeq?: number },
): Promise<void> {
  const input: DispatcherInput = { subscriptionId: options.subscriptionId, timing: options.timing };
  const common = {
    workflowId: dispatcherWorkflowId(options.subscriptionId),
    taskQueue: options.taskQueue,
    args: [input] as [DispatcherInput],
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
  };
  if (options.replayFromSeq !== undefined) {
    await client.workflow.signalWithStart(DISPATCHER_WORKFLOW, { ...common, signal: replayEventsSignal, signalArgs: [{ fromSeq: options.replayFromSeq }] });
  } else {
    await client.workflow.signalWithStart(DISPATCHER_WORKFLOW, { ...common, signal: wakeDispatcherSignal, signalArgs: [] });
  }
}

/**
 * The registration point of in-process consumers (notifications, NATS): each gets a CONSUMER
 * subscription (`consumer:<name>`) and its own dispatcher, delivered in order with retries and
 * dead letters like a webhook. Every worker process that passes `eventConsumers` to
 * createEngineWorker calls this with the same list (workers/main.ts); the activity that delivers runs
 * on whichever worker takes it, so every worker must register the same consumers.
 * It also makes sure every webhook subscription's dispatcher runs (one the API could not start, say
 * because Temporal was briefly away, starts here): signal-with-start is idempotent.
 */
export async function registerEventConsumers(
  client: Client,
  options: { pool: Pool; taskQueue: string; consumers: readonly EventConsumer[]; delivery: EventDeliverySettings },
): Promise<{ misplaced: MisplacedDispatcher[] }> {
  const subscriptions = createSubscriptionService({ pool: options.pool, defaultMaxAttempts: options.delivery.defaultMaxAttempts });
  for (const consumer of options.consumers) await subscriptions.ensureConsumer(consumer.name);
  const registered = new Set(options.consumers.map((consumer) => consumer.name));
  const misplaced: MisplacedDispatcher[] = [];
  for (const subscription of await subscriptions.list()) {
    // A consumer no worker registers any more keeps its subscription (and its cursor) but no dispatcher.
    if (subscription.kind === 'CONSUMER' && !registered.has(subscription.consumer ?? '')) continue;
    const found = await runningDispatcherQueue(client, subscription.id);
    if (found && found !== options.taskQueue) misplaced.push({ subscriptionId: subscription.id, workflowId: dispatcherWorkflowId(subscription.id), taskQueue: found });
    await kickDispatcher(client, { taskQueue: options.taskQueue, subscriptionId: subscription.id, timing: options.delivery.timing });
  }
  return { misplaced };
}

/**
 * A dispatcher running on another task queue than this deployment's (TASK_QUEUE was renamed, or a
 * second deployment shares the namespace): signal-with-start finds that run, and no worker here
 * delivers for it. Reported, not moved: one namespace is one deployment, and two deployments must
 * not take each other's dispatchers. Repair: `temporal workflow terminate --workflow-id <id>`; the
 * next worker start (or subscription change) starts it on this queue, from its stored cursor.
 */
export interface MisplacedDispatcher {
  subscriptionId: string;
  workflowId: string;
  taskQueue: string;
}

async function runningDispatcherQueue(client: Client, subscriptionId: string): Promise<string | undefined> {
  try {
    const described = await client.workflow.getHandle(dispatcherWorkflowId(subscriptionId)).describe();
    return described.status.name === 'RUNNING' ? described.taskQueue : undefined;
  } catch (error) {
    if ((error as Error).name === 'WorkflowNotFoundError') return undefined;
    throw error;
  }
}

/** The warning for each misplaced dispatcher, for the process's log. */
export function misplacedDispatcherWarnings(misplaced: readonly MisplacedDispatcher[], taskQueue: string): string[] {
  return misplaced.map(
    (entry) =>
      `event dispatcher ${entry.workflowId} (subscription ${entry.subscriptionId}) runs on task queue "${entry.taskQueue}", not "${taskQueue}": ` +
      `its events are not delivered by these workers. Terminate it (temporal workflow terminate --workflow-id '${entry.workflowId}') and restart a worker.`,
  );
}
