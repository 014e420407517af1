import { defineQuery, defineSignal } from '@temporalio/workflow';

/** The contract of a subscription's dispatcher workflow; shared by workflow, API and worker code. */

/** One dispatcher per subscription: the workflow id is what guarantees a single runner across workers. */
export const dispatcherWorkflowId = (subscriptionId: string) => `events-dispatch-${subscriptionId}`;
export const DISPATCHER_WORKFLOW = 'eventDispatcherWorkflow';

/** Durations in milliseconds (EVENTS_DISPATCH_POLL, EVENTS_RETRY_INITIAL, EVENTS_RETRY_MAX). */
export interface DispatchTiming {
  /** Idle dispatchers look for new events this often (a wake signal cuts the wait short). */
  pollMs: number;
  /** First retry after this; doubles per attempt with jitter, up to retryMaxMs. */
  retryInitialMs: number;
  retryMaxMs: number;
}

export interface DispatcherInput {
  subscriptionId: string;
  timing: DispatchTiming;
  /** The outbox position delivered up to; unset on a fresh start (read from PostgreSQL). */
  afterSeq?: number;
  /** A replay asked for but not yet begun when the run continued as new. */
  replayFromSeq?: number;
  /** Continue as new after this many history events (tests make it small). */
  maxHistory?: number;
}

export interface DispatcherStatus {
  afterSeq: number;
  delivering?: { eventId: string; attempt: number };
}

/** New events were written (or a subscription changed): look now rather than at the next poll. */
export const wakeDispatcherSignal = defineSignal('wake');
/** Deliver again everything from this outbox position on (dead letters included). */
export const replayEventsSignal = defineSignal<[{ fromSeq: number }]>('replay');
export const dispatcherStatusQuery = defineQuery<DispatcherStatus>('dispatcherStatus');
