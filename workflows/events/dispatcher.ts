import { condition, continueAsNew, proxyActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import type { EventActivities } from '../../activities/events';
import type { PendingEvent } from '../../modules/events/delivery';
import { dispatcherStatusQuery, replayEventsSignal, wakeDispatcherSignal, type DispatcherInput, type DispatcherStatus, type DispatchTiming } from './definitions';

const steps = proxyActivities<EventActivities>({
  startToCloseTimeout: '1 minute',
  // PostgreSQL or a worker being away is retried as long as it takes; a subscriber's refusal is not
  // an activity failure (deliverEvent returns it) and is retried by the loop below, with jitter.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const BATCH = 100;
const DEFAULT_MAX_HISTORY = 2_000;

/**
 * Delivers the outbox to one subscriber (an HTTP endpoint or an in-process EventConsumer), one
 * event at a time in outbox order, so events of an order arrive in the order they happened. A
 * failed attempt is retried after an exponential, jittered backoff; after the subscription's
 * maxAttempts the event is dead-lettered and delivery goes on with the next one. The history stays
 * bounded: the run continues as new with its cursor every maxHistory events.
 */
export async function eventDispatcherWorkflow(input: DispatcherInput): Promise<void> {
  const { subscriptionId, timing } = input;
  let woken = false;
  let replayFromSeq = input.replayFromSeq;
  const status: DispatcherStatus = { afterSeq: input.afterSeq ?? 0 };
  setHandler(wakeDispatcherSignal, () => void (woken = true));
  setHandler(replayEventsSignal, ({ fromSeq }) => {
    replayFromSeq = Math.min(replayFromSeq ?? fromSeq, fromSeq);
    woken = true;
  });
  setHandler(dispatcherStatusQuery, () => status);

  if (input.afterSeq === undefined) {
    const resume = await steps.eventsResumePoint(subscriptionId);
    if (resume === null) return; // the subscription does not exist
    status.afterSeq = resume;
  }
  const historyFull = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= (input.maxHistory ?? DEFAULT_MAX_HISTORY);

  while (!historyFull()) {
    if (replayFromSeq !== undefined) {
      await steps.reopenDeliveries({ subscriptionId, fromSeq: replayFromSeq });
      status.afterSeq = Math.min(status.afterSeq, replayFromSeq - 1);
      replayFromSeq = undefined;
    }
    woken = false;
    const before = status.afterSeq;
    const batch = await steps.nextEvents({ subscriptionId, afterSeq: status.afterSeq, limit: BATCH });
    if (batch.gone) return;
    for (const event of batch.events) {
      await deliverWithRetries(subscriptionId, event, timing, status);
      status.afterSeq = event.seq;
      if (replayFromSeq !== undefined || historyFull()) break;
    }
    const finishedBatch = replayFromSeq === undefined && !historyFull();
    if (finishedBatch) status.afterSeq = Math.max(status.afterSeq, batch.scannedTo);
    if (finishedBatch && batch.scannedTo === before) {
      await condition(() => woken, timing.pollMs);
    }
  }
  await continueAsNew<typeof eventDispatcherWorkflow>({ ...input, afterSeq: status.afterSeq, replayFromSeq });
}

async function deliverWithRetries(subscriptionId: string, event: PendingEvent, timing: DispatchTiming, status: DispatcherStatus): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    status.delivering = { eventId: event.eventId, attempt };
    const outcome = await steps.deliverEvent({ subscriptionId, eventId: event.eventId, seq: event.seq, attempt });
    if (outcome.delivered) break;
    if (attempt >= outcome.maxAttempts) {
      await steps.deadLetterEvent({ subscriptionId, eventId: event.eventId, seq: event.seq, attempt, error: outcome.error ?? 'failed' });
      break;
    }
    await sleep(backoffMs(attempt, timing));
  }
  status.delivering = undefined;
}

/** Exponential backoff with "equal jitter": half the delay fixed, half random (workflow Math.random is replay-safe). */
export function backoffMs(attempt: number, timing: Pick<DispatchTiming, 'retryInitialMs' | 'retryMaxMs'>): number {
  const delay = Math.min(timing.retryMaxMs, timing.retryInitialMs * 2 ** (attempt - 1));
  return Math.max(1, Math.round(delay / 2 + Math.random() * (delay / 2)));
}
